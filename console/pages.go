package console

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpcert"
	"github.com/ssod/ssod/persona"
)

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) error {
	target := Prefix + "integrations"
	if !s.can(ssod.ScopeSettingsRead) && s.can(ssod.ScopeTeammatesRead) {
		target = Prefix + "teammates"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// integrationForm is the create and edit form's values.
type integrationForm struct {
	Name, SigninURL, SignoutURL, EntityID, JITPersona string
	Enabled, Completed, JIT                           bool
}

func formOf(in *ssod.Integration) integrationForm {
	p := in.JITPersona
	if p == "" {
		p = ssod.DefaultJITPersona
	}
	return integrationForm{Name: in.Name, SigninURL: in.SigninURL, SignoutURL: in.SignoutURL, EntityID: in.EntityID,
		JITPersona: p, Enabled: in.Enabled, Completed: in.CompletedIntegration, JIT: in.JITProvisioning}
}

// readIntegrationForm reads the form into the update the API would decode
// from the same fields.
func readIntegrationForm(r *http.Request) (integrationForm, ssod.IntegrationUpdate) {
	f := integrationForm{
		Name: r.PostFormValue("name"), SigninURL: strings.TrimSpace(r.PostFormValue("signin_url")),
		SignoutURL: strings.TrimSpace(r.PostFormValue("signout_url")), EntityID: r.PostFormValue("entity_id"),
		JITPersona: r.PostFormValue("jit_persona"), Enabled: r.PostFormValue("enabled") == "on",
		Completed: r.PostFormValue("completed_integration") == "on", JIT: r.PostFormValue("jit_provisioning") == "on",
	}
	if f.JITPersona == "" {
		f.JITPersona = ssod.DefaultJITPersona
	}
	return f, ssod.IntegrationUpdate{Name: &f.Name, Enabled: &f.Enabled, SigninURL: &f.SigninURL, SignoutURL: &f.SignoutURL,
		EntityID: &f.EntityID, CompletedIntegration: &f.Completed, JITProvisioning: &f.JIT, JITPersona: &f.JITPersona}
}

type integrationRow struct {
	ssod.Integration
	Signing signingView
}

func (c *Console) integrations(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.showIntegrations(w, r, s, http.StatusOK, integrationForm{Enabled: true, JITPersona: ssod.DefaultJITPersona}, nil)
}

func (c *Console) showIntegrations(w http.ResponseWriter, r *http.Request, s *session, status int, f integrationForm, errs map[string]string) error {
	return c.showIntegrationsWith(w, r, s, status, map[string]any{"Form": f, "Errors": errs})
}

// showIntegrationsWith renders the integrations page with data's forms
// (either one filled in again after an error) and defaults for the rest.
func (c *Console) showIntegrationsWith(w http.ResponseWriter, r *http.Request, s *session, status int, data map[string]any) error {
	ctx := r.Context()
	list, err := c.store.ListIntegrations(ctx, s.AccountID)
	if err != nil {
		return err
	}
	windows, err := c.store.ListCertificateWindows(ctx, s.AccountID)
	if err != nil {
		return err
	}
	by := map[string][]ssod.Certificate{}
	for _, w := range windows {
		by[w.IntegrationID] = append(by[w.IntegrationID], w)
	}
	rows := make([]integrationRow, len(list))
	for i, in := range list {
		rows[i] = integrationRow{in, c.signing(by[in.ID])}
	}
	page := map[string]any{"Title": "SSO integrations", "Rows": rows, "Personas": ssod.Personas(),
		"Form": integrationForm{Enabled: true, JITPersona: ssod.DefaultJITPersona}, "Errors": map[string]string{},
		"Metadata": metadataForm{Enabled: true}, "MetadataErrors": map[string]string{}}
	for k, v := range data {
		if m, ok := v.(map[string]string); ok && len(m) == 0 {
			continue // keep the empty default the template indexes
		}
		page[k] = v
	}
	c.render(w, r, status, "integrations", s, page)
	return nil
}

func (c *Console) createIntegration(w http.ResponseWriter, r *http.Request, s *session) error {
	f, u := readIntegrationForm(r)
	err := u.ValidateCreate()
	var in *ssod.Integration
	if err == nil {
		in, err = c.store.CreateIntegration(r.Context(), s.AccountID, u, c.now().Unix())
	}
	if errs, ok := fieldErrors(err); ok {
		return c.showIntegrations(w, r, s, http.StatusBadRequest, f, errs)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+in.ID, http.StatusSeeOther)
	return nil
}

// signingView says how long an integration's sign-ins keep working.
type signingView struct {
	Until int64
	Class string // ok, warn, danger
	Text  string
}

func (c *Console) signing(certs []ssod.Certificate) signingView {
	now := c.now().Unix()
	h, ok := ssod.SigningHorizon(certs, now)
	if !ok {
		return signingView{Class: "danger", Text: "Sign-in broken: no enabled certificate is valid now"}
	}
	v := windowView(now, h)
	v.Until = h
	return v
}

// windowView colours an end of validity by how soon it comes.
func windowView(now, notAfter int64) signingView {
	days := (notAfter - now) / 86400
	switch {
	case notAfter <= now:
		return signingView{Class: "danger", Text: "Expired"}
	case days < 7:
		return signingView{Class: "danger", Text: fmt.Sprintf("Expires in %d days", days)}
	case days < 30:
		return signingView{Class: "warn", Text: fmt.Sprintf("Expires in %d days", days)}
	}
	return signingView{Class: "ok", Text: fmt.Sprintf("Valid for %d more days", days)}
}

// certificateView is a certificate as the page shows it.
type certificateView struct {
	ssod.Certificate
	Subject, Issuer, Fingerprint string
	Window                       signingView
}

func (c *Console) certificateView(cert ssod.Certificate) certificateView {
	v := certificateView{Certificate: cert}
	if x, err := idpcert.Certificate(cert.X509); err == nil {
		v.Subject, v.Issuer = x.Subject.String(), x.Issuer.String()
		sum := sha256.Sum256(x.Raw)
		hexes := make([]string, len(sum))
		for i, b := range sum {
			hexes[i] = fmt.Sprintf("%02X", b)
		}
		v.Fingerprint = strings.Join(hexes, ":")
	}
	now := c.now().Unix()
	switch {
	case cert.NotBefore > now:
		v.Window = signingView{Class: "muted", Text: "Not valid yet"}
	default:
		v.Window = windowView(now, cert.NotAfter)
	}
	if !cert.Enabled {
		v.Window.Text += " (disabled: never used)"
		v.Window.Class = "muted"
	}
	return v
}

// traceView is a login trace with its failure explained.
type traceView struct {
	ssod.LoginTrace
	Explanation string
}

// integrationPage is what the integration page shows besides its forms.
type integrationPage struct {
	in       *ssod.Integration
	form     integrationForm
	errs     map[string]string
	certErrs map[string]string
	paste    string
}

func (c *Console) integration(w http.ResponseWriter, r *http.Request, s *session) error {
	in, err := c.findIntegration(r, s)
	if err != nil {
		return err
	}
	return c.showIntegration(w, r, s, http.StatusOK, integrationPage{in: in, form: formOf(in)})
}

func (c *Console) findIntegration(r *http.Request, s *session) (*ssod.Integration, error) {
	id := r.PathValue("id")
	if !ssod.ValidIntegrationID(id) {
		return nil, ssod.ErrIntegrationNotFound(id)
	}
	return c.store.GetIntegration(r.Context(), s.AccountID, id)
}

func (c *Console) showIntegration(w http.ResponseWriter, r *http.Request, s *session, status int, p integrationPage) error {
	ctx := r.Context()
	certs, err := c.store.ListCertificates(ctx, s.AccountID, p.in.ID)
	if err != nil {
		return err
	}
	views := make([]certificateView, len(certs))
	for i, cert := range certs {
		views[i] = c.certificateView(cert)
	}
	var traces []traceView
	if s.can(ssod.ScopeSettingsRead) {
		list, err := c.store.ListLoginTraces(ctx, s.AccountID, p.in.ID, 20)
		if err != nil {
			return err
		}
		for _, t := range list {
			traces = append(traces, traceView{t, explain(t.Result)})
		}
	}
	samlURL := c.publicURL + "/v3/public/sso/saml/response/id/" + p.in.ID
	c.render(w, r, status, "integration", s, map[string]any{
		"Title": p.in.Name, "In": p.in, "Form": p.form, "Errors": p.errs, "CertErrors": p.certErrs, "Paste": p.paste,
		"SSOURL": samlURL, "MetadataURL": c.publicURL + "/v3/public/sso/saml/metadata/id/" + p.in.ID,
		"Certificates": views, "Traces": traces, "Signing": c.signing(certs), "Personas": ssod.Personas(),
	})
	return nil
}

func (c *Console) updateIntegration(w http.ResponseWriter, r *http.Request, s *session) error {
	in, err := c.findIntegration(r, s)
	if err != nil {
		return err
	}
	f, u := readIntegrationForm(r)
	err = u.Validate()
	if err == nil {
		_, err = c.store.UpdateIntegration(r.Context(), s.AccountID, in.ID, u, c.now().Unix())
	}
	if errs, ok := fieldErrors(err); ok {
		return c.showIntegration(w, r, s, http.StatusBadRequest, integrationPage{in: in, form: f, errs: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+in.ID, http.StatusSeeOther)
	return nil
}

func (c *Console) enableIntegration(w http.ResponseWriter, r *http.Request, s *session) error {
	in, err := c.findIntegration(r, s)
	if err != nil {
		return err
	}
	on := r.PostFormValue("enabled") == "true"
	if _, err := c.store.UpdateIntegration(r.Context(), s.AccountID, in.ID, ssod.IntegrationUpdate{Enabled: &on}, c.now().Unix()); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+in.ID, http.StatusSeeOther)
	return nil
}

func (c *Console) confirmDeleteIntegration(w http.ResponseWriter, r *http.Request, s *session) error {
	in, err := c.findIntegration(r, s)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "confirm", s, map[string]any{
		"Title": "Delete the integration " + in.Name + "?", "Action": r.URL.Path, "Back": Prefix + "integrations/" + in.ID,
		"Consequence": "Its certificates and sign-in history are deleted with it, and nobody can sign in through it any more. This cannot be undone.",
	})
	return nil
}

func (c *Console) deleteIntegration(w http.ResponseWriter, r *http.Request, s *session) error {
	in, err := c.findIntegration(r, s)
	if err != nil {
		return err
	}
	if err := c.store.DeleteIntegration(r.Context(), s.AccountID, in.ID); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations", http.StatusSeeOther)
	return nil
}

// uploadCertificate adds a certificate from a file or pasted text, parsed
// and limited by idpcert as the API's are.
func (c *Console) uploadCertificate(w http.ResponseWriter, r *http.Request, s *session) error {
	in, err := c.findIntegration(r, s)
	if err != nil {
		return err
	}
	text := r.PostFormValue("public_certificate")
	if file, _, ferr := r.FormFile("file"); ferr == nil {
		b, rerr := io.ReadAll(io.LimitReader(file, idpcert.MaxInputSize+1))
		_ = file.Close()
		if rerr != nil {
			return rerr
		}
		if len(b) > 0 {
			text = string(b)
		}
	}
	u := ssod.CertificateUpdate{IntegrationID: &in.ID}
	if strings.TrimSpace(text) != "" {
		x, perr := idpcert.Parse(text)
		if perr != nil {
			err = perr
		} else {
			u.X509 = &x
		}
	}
	if err == nil {
		err = u.ValidateCreate()
	}
	if err == nil {
		_, err = c.store.CreateCertificate(r.Context(), s.AccountID, u)
	}
	if errs, ok := fieldErrors(err); ok {
		paste := text
		if ssod.CodeOf(err) == ssod.EPrivateKeyRejected {
			paste = "" // never shown back
		}
		return c.showIntegration(w, r, s, http.StatusBadRequest, integrationPage{in: in, form: formOf(in), certErrs: errs, paste: paste})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+in.ID+"#certificates", http.StatusSeeOther)
	return nil
}

func (c *Console) findCertificate(r *http.Request, s *session) (*ssod.Certificate, error) {
	raw := r.PathValue("cert_id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, ssod.Errorf(ssod.ENotFound, "SSO certificate not found")
	}
	return c.store.GetCertificate(r.Context(), s.AccountID, id)
}

func (c *Console) enableCertificate(w http.ResponseWriter, r *http.Request, s *session) error {
	cert, err := c.findCertificate(r, s)
	if err != nil {
		return err
	}
	on := r.PostFormValue("enabled") == "true"
	if _, err := c.store.UpdateCertificate(r.Context(), s.AccountID, cert.ID, ssod.CertificateUpdate{Enabled: &on}); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+cert.IntegrationID+"#certificates", http.StatusSeeOther)
	return nil
}

func (c *Console) confirmDeleteCertificate(w http.ResponseWriter, r *http.Request, s *session) error {
	cert, err := c.findCertificate(r, s)
	if err != nil {
		return err
	}
	v := c.certificateView(*cert)
	c.render(w, r, http.StatusOK, "confirm", s, map[string]any{
		"Title": fmt.Sprintf("Delete certificate %d?", cert.ID), "Action": r.URL.Path, "Back": Prefix + "integrations/" + cert.IntegrationID,
		"Consequence": "Subject " + v.Subject + ". Sign-ins signed with it stop working unless another enabled certificate verifies them. Disabling it instead can be undone.",
	})
	return nil
}

func (c *Console) deleteCertificate(w http.ResponseWriter, r *http.Request, s *session) error {
	cert, err := c.findCertificate(r, s)
	if err != nil {
		return err
	}
	if _, err := c.store.DeleteCertificate(r.Context(), s.AccountID, cert.ID); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+cert.IntegrationID+"#certificates", http.StatusSeeOther)
	return nil
}

// teammateForm is the add and edit form's values. Access is "admin", a
// persona's name, or "scopes" for the list in Scopes (one per line).
type teammateForm struct {
	Email, FirstName, LastName, Access, Scopes string
}

func teammateFormOf(t *ssod.Teammate) teammateForm {
	f := teammateForm{Email: t.Username, FirstName: t.FirstName, LastName: t.LastName, Access: t.Persona, Scopes: strings.Join(t.Scopes, "\n")}
	switch {
	case t.IsAdmin:
		f.Access = "admin"
	case f.Access == "":
		f.Access = "scopes"
	}
	return f
}

// readTeammateForm reads the form into the update the API would decode.
func readTeammateForm(r *http.Request, create bool) (teammateForm, ssod.TeammateUpdate) {
	f := teammateForm{Email: strings.TrimSpace(r.PostFormValue("email")), FirstName: r.PostFormValue("first_name"),
		LastName: r.PostFormValue("last_name"), Access: r.PostFormValue("access"), Scopes: r.PostFormValue("scopes")}
	u := ssod.TeammateUpdate{FirstName: &f.FirstName, LastName: &f.LastName}
	if create {
		u.Email = &f.Email
	}
	switch f.Access {
	case "admin":
		yes := true
		u.IsAdmin = &yes
	case "scopes":
		no := false
		scopes := strings.Fields(f.Scopes)
		u.IsAdmin, u.Scopes = &no, &scopes
	default:
		no := false
		u.IsAdmin, u.Persona = &no, &f.Access
	}
	return f, u
}

func (c *Console) teammates(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.showTeammates(w, r, s, http.StatusOK, teammateForm{Access: ssod.DefaultJITPersona}, nil)
}

func (c *Console) showTeammates(w http.ResponseWriter, r *http.Request, s *session, status int, f teammateForm, errs map[string]string) error {
	list, err := c.store.ListTeammates(r.Context(), s.AccountID, ssod.MaxTeammatesPerAccount, 0)
	if err != nil {
		return err
	}
	c.render(w, r, status, "teammates", s, map[string]any{"Title": "SSO teammates", "Teammates": list, "Form": f, "Errors": errs, "Personas": persona.Names()})
	return nil
}

func (c *Console) createTeammate(w http.ResponseWriter, r *http.Request, s *session) error {
	f, u := readTeammateForm(r, true)
	err := u.ValidateCreate()
	var t ssod.Teammate
	if err == nil {
		t, err = persona.NewTeammate(s.AccountID, u)
	}
	if err == nil {
		_, err = c.store.CreateTeammate(r.Context(), t, c.now().Unix())
	}
	if errs, ok := fieldErrors(err); ok {
		return c.showTeammates(w, r, s, http.StatusBadRequest, f, errs)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"teammates", http.StatusSeeOther)
	return nil
}

func (c *Console) findTeammate(r *http.Request, s *session) (*ssod.Teammate, error) {
	name := r.PathValue("username")
	if ssod.ValidateUsername("username", name) != nil {
		return nil, ssod.ErrTeammateNotFound(name)
	}
	return c.store.GetTeammate(r.Context(), s.AccountID, name)
}

func (c *Console) teammate(w http.ResponseWriter, r *http.Request, s *session) error {
	t, err := c.findTeammate(r, s)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "teammate", s, map[string]any{"Title": t.Username, "T": t, "Form": teammateFormOf(t), "Personas": persona.Names()})
	return nil
}

func (c *Console) updateTeammate(w http.ResponseWriter, r *http.Request, s *session) error {
	t, err := c.findTeammate(r, s)
	if err != nil {
		return err
	}
	f, u := readTeammateForm(r, false)
	f.Email = t.Username
	err = u.Validate()
	if err == nil {
		if errs := persona.Grant(&u); len(errs) > 0 {
			err = errs
		}
	}
	if err == nil {
		_, err = c.store.UpdateTeammate(r.Context(), s.AccountID, t.Username, u, c.now().Unix())
	}
	if errs, ok := fieldErrors(err); ok {
		c.render(w, r, http.StatusBadRequest, "teammate", s, map[string]any{"Title": t.Username, "T": t, "Form": f, "Errors": errs, "Personas": persona.Names()})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"teammates", http.StatusSeeOther)
	return nil
}

func (c *Console) confirmDeleteTeammate(w http.ResponseWriter, r *http.Request, s *session) error {
	t, err := c.findTeammate(r, s)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "confirm", s, map[string]any{
		"Title": "Remove the teammate " + t.Username + "?", "Action": r.URL.Path, "Back": Prefix + "teammates",
		"Consequence": "They can no longer sign in through SSO, and their console sessions end.",
	})
	return nil
}

func (c *Console) deleteTeammate(w http.ResponseWriter, r *http.Request, s *session) error {
	t, err := c.findTeammate(r, s)
	if err != nil {
		return err
	}
	if err := c.store.DeleteTeammate(r.Context(), s.AccountID, t.Username); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"teammates", http.StatusSeeOther)
	return nil
}

// auditPage is how many of the newest events the audit page shows.
const auditPage = 200

func (c *Console) audit(w http.ResponseWriter, r *http.Request, s *session) error {
	events, err := c.store.ListAuditEvents(r.Context(), s.AccountID, auditPage)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "audit", s, map[string]any{"Title": "Audit trail", "Events": events})
	return nil
}
