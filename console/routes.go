package console

import (
	"io/fs"
	"net/http"

	"github.com/ssod/ssod"
)

// routes is the console's table of contents. Each action names the scope
// the API asks for the same change.
func (c *Console) routes() {
	m := c.mux
	static, _ := fs.Sub(staticFiles, "static") // a directory embedded above
	m.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))

	m.HandleFunc("GET /console/signin", c.signInPage)
	m.HandleFunc("POST /console/signin/key", c.signInKey)
	m.HandleFunc("POST /console/signin/sso", c.signInSSO)
	m.HandleFunc("GET /console/signin/finish", c.finishSSO)
	m.Handle("POST /console/signout", c.signedIn("", c.signOut))

	m.Handle("GET /console", c.signedIn("", c.home))
	m.Handle("GET /console/integrations", c.signedIn(ssod.ScopeSettingsRead, c.integrations))
	m.Handle("POST /console/integrations", c.signedIn(ssod.ScopeSettingsCreate, c.createIntegration))
	m.Handle("POST /console/integrations/metadata", c.signedIn(ssod.ScopeSettingsCreate, c.importMetadata))
	m.Handle("GET /console/integrations/{id}", c.signedIn(ssod.ScopeSettingsRead, c.integration))
	m.Handle("POST /console/integrations/{id}", c.signedIn(ssod.ScopeSettingsUpdate, c.updateIntegration))
	m.Handle("POST /console/integrations/{id}/enabled", c.signedIn(ssod.ScopeSettingsUpdate, c.enableIntegration))
	m.Handle("GET /console/integrations/{id}/delete", c.signedIn(ssod.ScopeSettingsDelete, c.confirmDeleteIntegration))
	m.Handle("POST /console/integrations/{id}/delete", c.signedIn(ssod.ScopeSettingsDelete, c.deleteIntegration))
	m.Handle("POST /console/integrations/{id}/certificates", c.signedIn(ssod.ScopeSettingsCreate, c.uploadCertificate))
	m.Handle("POST /console/certificates/{cert_id}/enabled", c.signedIn(ssod.ScopeSettingsUpdate, c.enableCertificate))
	m.Handle("GET /console/certificates/{cert_id}/delete", c.signedIn(ssod.ScopeSettingsDelete, c.confirmDeleteCertificate))
	m.Handle("POST /console/certificates/{cert_id}/delete", c.signedIn(ssod.ScopeSettingsDelete, c.deleteCertificate))

	m.Handle("GET /console/teammates", c.signedIn(ssod.ScopeTeammatesRead, c.teammates))
	m.Handle("POST /console/teammates", c.signedIn(ssod.ScopeTeammatesCreate, c.createTeammate))
	m.Handle("GET /console/teammates/{username}", c.signedIn(ssod.ScopeTeammatesRead, c.teammate))
	m.Handle("POST /console/teammates/{username}", c.signedIn(ssod.ScopeTeammatesUpdate, c.updateTeammate))
	m.Handle("GET /console/teammates/{username}/delete", c.signedIn(ssod.ScopeTeammatesDelete, c.confirmDeleteTeammate))
	m.Handle("POST /console/teammates/{username}/delete", c.signedIn(ssod.ScopeTeammatesDelete, c.deleteTeammate))

	m.Handle("GET /console/audit", c.signedIn(ssod.ScopeSettingsRead, c.audit))
	m.Handle("GET /console/expiry", c.signedIn(ssod.ScopeSettingsRead, c.expiry))

	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, ssod.Errorf(ssod.ENotFound, "There is no such page."))
	})
}
