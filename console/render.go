package console

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/ssod/ssod"
)

var funcs = template.FuncMap{
	"date": func(unix int64) string {
		if unix == 0 {
			return "—"
		}
		return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": strings.Join,
	// dict passes several values to a shared template.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

// render writes the page name inside the layout. data carries the page's
// values; S is the session (nil before sign-in), for the navigation.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, s *session, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	for _, k := range []string{"Errors", "CertErrors"} {
		if _, ok := data[k]; !ok {
			data[k] = map[string]string{} // templates index them unconditionally
		}
	}
	data["S"] = s
	data["Page"] = name
	data["Path"] = r.URL.Path
	if s != nil {
		data["CSRF"] = s.CSRFToken
		data["Can"] = map[string]bool{
			"settingsRead": s.can(ssod.ScopeSettingsRead), "settingsCreate": s.can(ssod.ScopeSettingsCreate),
			"settingsUpdate": s.can(ssod.ScopeSettingsUpdate), "settingsDelete": s.can(ssod.ScopeSettingsDelete),
			"teammatesRead": s.can(ssod.ScopeTeammatesRead), "teammatesCreate": s.can(ssod.ScopeTeammatesCreate),
			"teammatesUpdate": s.can(ssod.ScopeTeammatesUpdate), "teammatesDelete": s.can(ssod.ScopeTeammatesDelete),
		}
	}
	var b bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&b, "layout.html", data); err != nil {
		c.log.ErrorContext(r.Context(), "console: render", "page", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fieldErrors splits a validation failure into messages by form field, and
// those that name none. It reports false for an error that is no
// validation failure, which the caller passes on.
func fieldErrors(err error) (map[string]string, bool) {
	switch ssod.CodeOf(err) {
	case ssod.EInvalid, ssod.ERequired, ssod.EConflict, ssod.ETooLarge, ssod.EInvalidCertificate, ssod.EPrivateKeyRejected:
	default:
		return nil, false
	}
	out := map[string]string{}
	for _, p := range ssod.ProblemsOf(err) {
		f := p.Field
		if f == "" {
			f = "_"
		}
		if out[f] == "" {
			out[f] = p.Message
		}
	}
	return out, true
}
