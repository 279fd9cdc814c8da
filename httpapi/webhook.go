package httpapi

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/eventsign"
)

// expiryWebhookJSON is ssod's expiry webhook resource.
type expiryWebhookJSON struct {
	URL     string `json:"url"`
	Enabled bool   `json:"enabled"`
	// PublicKey is the base64 PKIX DER of the key events are signed with,
	// the form sendgrid-go's eventwebhook.ConvertPublicKeyBase64ToECDSA takes.
	PublicKey string `json:"public_key"`
}

func writeExpiryWebhook(w http.ResponseWriter, hook *ssod.ExpiryWebhook) {
	writeJSON(w, http.StatusOK, expiryWebhookJSON{hook.URL, hook.Enabled, base64.StdEncoding.EncodeToString(hook.PublicKey)})
}

// decodeExpiryWebhook reads a PUT body: url required, enabled true when
// absent; the URL must be one ssod may call.
func (s *Server) decodeExpiryWebhook(w http.ResponseWriter, r *http.Request) (url string, enabled bool, err error) {
	obj, err := readObject(w, r)
	if err != nil {
		return "", false, err
	}
	var errs ssod.Errors
	var u *string
	on := new(true)
	obj.str("url", &u, &errs)
	obj.boolean("enabled", &on, &errs)
	obj.exactNames(&errs, "url", "enabled")
	_, sent := obj.present("url")
	switch {
	case u == nil && !sent:
		errs = append(errs, ssod.FieldErrorf(ssod.ERequired, "url", "url is required"))
	case u != nil:
		if err := s.outbound.CheckURL(*u); err != nil {
			errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "url", "url cannot be called: %s", strings.TrimPrefix(err.Error(), "outbound: ")))
		}
	}
	if err := errs.Err(); err != nil {
		return "", false, err
	}
	return *u, *on, nil
}

func (s *Server) putExpiryWebhook(w http.ResponseWriter, r *http.Request, c caller) error {
	url, enabled, err := s.decodeExpiryWebhook(w, r)
	if err != nil {
		return err
	}
	// A new key every time; the store keeps the account's first.
	private, public, err := eventsign.NewKey()
	if err != nil {
		return err
	}
	hook, err := s.store.PutExpiryWebhook(r.Context(), c.AccountID, url, enabled, ssod.SigningKey{Private: private, Public: public})
	if err != nil {
		return storeFailed(err)
	}
	writeExpiryWebhook(w, hook)
	return nil
}

func (s *Server) getExpiryWebhook(w http.ResponseWriter, r *http.Request, c caller) error {
	hook, err := s.store.GetExpiryWebhook(r.Context(), c.AccountID)
	if err != nil {
		return storeFailed(err)
	}
	writeExpiryWebhook(w, hook)
	return nil
}

func (s *Server) deleteExpiryWebhook(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := s.store.DeleteExpiryWebhook(r.Context(), c.AccountID); err != nil {
		return storeFailed(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
