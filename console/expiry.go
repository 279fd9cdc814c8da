package console

import (
	"net/http"

	"github.com/ssod/ssod"
)

// expiryRow is one integration of the expiry report as the page shows it.
type expiryRow struct {
	ssod.ExpiryEntry
	Signing signingView
}

// expiry shows the expiry report (the API's GET /v3/sso/expiry-report):
// every integration, soonest to break first, for the window asked.
func (c *Console) expiry(w http.ResponseWriter, r *http.Request, s *session) error {
	raw := r.URL.Query().Get("within")
	within := ssod.DefaultExpiryWindow
	var errs map[string]string
	if raw != "" {
		d, err := ssod.ParseExpiryWindow(raw)
		if fe, ok := fieldErrors(err); ok {
			errs = fe
		} else if err != nil {
			return err
		} else {
			within = d
		}
	} else {
		raw = "30d"
	}
	list, err := c.store.ListIntegrationWindows(r.Context(), s.AccountID)
	if err != nil {
		return err
	}
	now := c.now().Unix()
	report := ssod.ExpiryReport(list, now, within)
	rows := make([]expiryRow, len(report))
	for i, e := range report {
		rows[i] = expiryRow{e, c.signing(e.Certificates)}
		if e.Status == ssod.SigningExpiring && rows[i].Signing.Class == "ok" {
			rows[i].Signing.Class = "warn" // within the window asked, however long
		}
	}
	status := http.StatusOK
	if errs != nil {
		status = http.StatusBadRequest
	}
	c.render(w, r, status, "expiry", s, map[string]any{"Title": "Certificate expiry", "Rows": rows, "Within": raw, "Errors": errs})
	return nil
}
