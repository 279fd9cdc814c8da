package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
)

// integrationJSON is the spec's SsoIntegration, with ssod's jit_provisioning
// and jit_persona.
type integrationJSON struct {
	Name                 string `json:"name"`
	Enabled              bool   `json:"enabled"`
	SigninURL            string `json:"signin_url"`
	SignoutURL           string `json:"signout_url"`
	EntityID             string `json:"entity_id"`
	CompletedIntegration *bool  `json:"completed_integration,omitempty"`
	JITProvisioning      bool   `json:"jit_provisioning"`
	JITPersona           string `json:"jit_persona"`
	LastUpdated          int64  `json:"last_updated"`
	ID                   string `json:"id"`
	SingleSignonURL      string `json:"single_signon_url"`
	AudienceURL          string `json:"audience_url"`
	// SigningValidUntil is ssod's extension: when sign-in stops working
	// (ssod.SigningHorizon), null when it already has.
	SigningValidUntil *int64 `json:"signing_valid_until"`
	// MetadataURL, MetadataRefreshedAt and MetadataError are ssod's
	// extension for integrations made from IdP metadata (idpmeta): null
	// when there is none.
	MetadataURL         *string `json:"metadata_url"`
	MetadataRefreshedAt *int64  `json:"metadata_refreshed_at"`
	MetadataError       *string `json:"metadata_error"`
}

func (s *Server) integrationJSON(in *ssod.Integration, withCompleted bool, certs []ssod.Certificate) integrationJSON {
	samlURL := s.publicURL + "/v3/public/sso/saml/response/id/" + in.ID
	out := integrationJSON{
		Name:            in.Name,
		Enabled:         in.Enabled,
		SigninURL:       in.SigninURL,
		SignoutURL:      in.SignoutURL,
		EntityID:        in.EntityID,
		JITProvisioning: in.JITProvisioning,
		JITPersona:      in.JITPersona,
		LastUpdated:     in.LastUpdated,
		ID:              in.ID,
		SingleSignonURL: samlURL,
		AudienceURL:     samlURL,
	}
	if out.JITPersona == "" {
		out.JITPersona = ssod.DefaultJITPersona
	}
	if withCompleted {
		out.CompletedIntegration = &in.CompletedIntegration
	}
	if in.MetadataURL != "" {
		out.MetadataURL = &in.MetadataURL
	}
	if in.MetadataRefreshedAt != 0 {
		out.MetadataRefreshedAt = &in.MetadataRefreshedAt
	}
	if in.MetadataError != "" {
		out.MetadataError = &in.MetadataError
	}
	// The server's clock, so test mode's clock moves the horizon too.
	if h, ok := ssod.SigningHorizon(certs, s.now().Unix()); ok {
		out.SigningValidUntil = &h
	}
	return out
}

// integrationResponse is integrationJSON for one integration, reading its
// certificates for the horizon.
func (s *Server) integrationResponse(ctx context.Context, in *ssod.Integration, withCompleted bool) (integrationJSON, error) {
	certs, err := s.store.ListCertificates(ctx, in.AccountID, in.ID)
	if err != nil {
		return integrationJSON{}, storeFailed(err)
	}
	return s.integrationJSON(in, withCompleted, certs), nil
}

// certificatesByIntegration groups an account's certificate windows, read in
// one query, by integration id, so a list needs no query per integration.
// It is a second read after the list's: a certificate written in between
// shows in the horizon, as it would in the next request.
func (s *Server) certificatesByIntegration(ctx context.Context, accountID int64) (map[string][]ssod.Certificate, error) {
	all, err := s.store.ListCertificateWindows(ctx, accountID)
	if err != nil {
		return nil, storeFailed(err)
	}
	by := make(map[string][]ssod.Certificate)
	for _, c := range all {
		by[c.IntegrationID] = append(by[c.IntegrationID], c)
	}
	return by, nil
}

// wantsCompleted reads the si query parameter: completed_integration is
// shown only when it is true.
func wantsCompleted(r *http.Request) (bool, error) {
	si := r.URL.Query().Get("si")
	if si == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(si)
	if err != nil {
		return false, ssod.FieldErrorf(ssod.EInvalid, "si", "si must be true or false")
	}
	return v, nil
}

// decodeIntegration reads a create or PATCH body, reporting every bad field.
func decodeIntegration(w http.ResponseWriter, r *http.Request) (ssod.IntegrationUpdate, ssod.Errors, error) {
	var u ssod.IntegrationUpdate
	obj, err := readObject(w, r)
	if err != nil {
		return u, nil, err
	}
	var errs ssod.Errors
	obj.str("name", &u.Name, &errs)
	obj.boolean("enabled", &u.Enabled, &errs)
	obj.str("signin_url", &u.SigninURL, &errs)
	obj.str("signout_url", &u.SignoutURL, &errs)
	obj.str("entity_id", &u.EntityID, &errs)
	obj.boolean("completed_integration", &u.CompletedIntegration, &errs)
	obj.boolean("jit_provisioning", &u.JITProvisioning, &errs)
	obj.str("jit_persona", &u.JITPersona, &errs)
	obj.exactNames(&errs, "name", "enabled", "signin_url", "signout_url", "entity_id", "completed_integration", "jit_provisioning", "jit_persona")
	return u, errs, nil
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request, c caller) error {
	si, err := wantsCompleted(r)
	if err != nil {
		return err
	}
	u, errs, err := decodeIntegration(w, r)
	if err != nil {
		return err
	}
	errs = withValidation(errs, u.ValidateCreate())
	if err := errs.Err(); err != nil {
		return err
	}
	in, err := s.store.CreateIntegration(r.Context(), c.AccountID, u, s.now().Unix())
	if err != nil {
		return storeFailed(err)
	}
	return s.writeIntegration(w, r, in, si)
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request, c caller) error {
	si, err := wantsCompleted(r)
	if err != nil {
		return err
	}
	list, err := s.store.ListIntegrations(r.Context(), c.AccountID)
	if err != nil {
		return storeFailed(err)
	}
	certs, err := s.certificatesByIntegration(r.Context(), c.AccountID)
	if err != nil {
		return err
	}
	writeJSONArray(w, len(list), func(b []byte, i int) []byte {
		one, err := json.Marshal(s.integrationJSON(&list[i], si, certs[list[i].ID]))
		if err != nil {
			panic("httpapi: encode response: " + err.Error()) // our own type: a bug
		}
		return append(b, one...)
	})
	return nil
}

// integrationID returns the path's integration id, or ENotFound when it
// cannot name one.
func integrationID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !ssod.ValidIntegrationID(id) {
		return "", errIntegrationNotFound
	}
	return id, nil
}

var errIntegrationNotFound = ssod.Errorf(ssod.ENotFound, "SSO integration not found")

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := integrationID(r, "id")
	if err != nil {
		return err
	}
	si, err := wantsCompleted(r)
	if err != nil {
		return err
	}
	in, err := s.store.GetIntegration(r.Context(), c.AccountID, id)
	if err != nil {
		return storeFailed(err)
	}
	return s.writeIntegration(w, r, in, si)
}

func (s *Server) updateIntegration(w http.ResponseWriter, r *http.Request, c caller) error {
	si, err := wantsCompleted(r)
	if err != nil {
		return err
	}
	// The body is judged before the object, as the contract orders checks.
	u, errs, err := decodeIntegration(w, r)
	if err != nil {
		return err
	}
	errs = withValidation(errs, u.Validate())
	if err := errs.Err(); err != nil {
		return err
	}
	id, err := integrationID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.store.UpdateIntegration(r.Context(), c.AccountID, id, u, s.now().Unix())
	if err != nil {
		return storeFailed(err)
	}
	return s.writeIntegration(w, r, in, si)
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := integrationID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteIntegration(r.Context(), c.AccountID, id); err != nil {
		return storeFailed(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
