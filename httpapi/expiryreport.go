package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ssod/ssod"
)

// ExpiryReportEntry is one element of GET /v3/sso/expiry-report, exported
// so that `ssod certs expiring --json` prints exactly what the API sends.
type ExpiryReportEntry struct {
	IntegrationID string `json:"integration_id"`
	Name          string `json:"name"`
	Enabled       bool   `json:"enabled"`
	// SigningValidUntil is null when Status is broken, as in integration
	// responses.
	SigningValidUntil *int64                    `json:"signing_valid_until"`
	Status            string                    `json:"status"`
	Certificates      []ExpiryReportCertificate `json:"certificates"`
}

// ExpiryReportCertificate is a certificate's window in the expiry report.
type ExpiryReportCertificate struct {
	ID        int64 `json:"id"`
	Enabled   bool  `json:"enabled"`
	NotBefore int64 `json:"not_before"`
	NotAfter  int64 `json:"not_after"`
}

// NewExpiryReportEntry is the wire form of e.
func NewExpiryReportEntry(e ssod.ExpiryEntry) ExpiryReportEntry {
	out := ExpiryReportEntry{
		IntegrationID: e.Integration.ID,
		Name:          e.Integration.Name,
		Enabled:       e.Integration.Enabled,
		Status:        string(e.Status),
		Certificates:  make([]ExpiryReportCertificate, len(e.Certificates)),
	}
	if e.Status != ssod.SigningBroken {
		out.SigningValidUntil = &e.ValidUntil
	}
	for i, c := range e.Certificates {
		out.Certificates[i] = ExpiryReportCertificate{ID: c.ID, Enabled: c.Enabled, NotBefore: c.NotBefore, NotAfter: c.NotAfter}
	}
	return out
}

// expiryWindow reads the within query parameter (ssod.ParseExpiryWindow).
func expiryWindow(r *http.Request) (time.Duration, error) {
	values := r.URL.Query()["within"]
	switch len(values) {
	case 0:
		return ssod.DefaultExpiryWindow, nil
	case 1:
		return ssod.ParseExpiryWindow(values[0])
	}
	return 0, ssod.FieldErrorf(ssod.EInvalid, "within", "send within at most once")
}

func (s *Server) expiryReport(w http.ResponseWriter, r *http.Request, c caller) error {
	within, err := expiryWindow(r)
	if err != nil {
		return err
	}
	list, err := s.store.ListIntegrationWindows(r.Context(), c.AccountID)
	if err != nil {
		return storeFailed(err)
	}
	// The server's clock, so that test mode's clock moves the report too.
	report := ssod.ExpiryReport(list, s.now().Unix(), within)
	writeJSONArray(w, len(report), func(b []byte, i int) []byte {
		one, err := json.Marshal(NewExpiryReportEntry(report[i]))
		if err != nil {
			panic("httpapi: encode response: " + err.Error()) // our own type: a bug
		}
		return append(b, one...)
	})
	return nil
}
