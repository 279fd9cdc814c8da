package httpapi

import (
	"bytes"
	"html/template"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ssod/ssod"
)

// signInJSON is the ACS's success body (README, "SAML sign-in").
type signInJSON struct {
	IntegrationID string              `json:"integration_id"`
	Issuer        string              `json:"issuer"`
	NameID        string              `json:"name_id"`
	NameIDFormat  string              `json:"name_id_format"`
	SessionIndex  string              `json:"session_index"`
	AuthnInstant  *int64              `json:"authn_instant"`
	AssertionID   string              `json:"assertion_id"`
	InResponseTo  *string             `json:"in_response_to"`
	Attributes    map[string][]string `json:"attributes"`
	CertificateID int64               `json:"certificate_id"`
	RelayState    *string             `json:"relay_state"`
	Teammate      signInTeammateJSON  `json:"teammate"`
}

// signInTeammateJSON is who signed in (check 14).
type signInTeammateJSON struct {
	Username                   string              `json:"username"`
	IsAdmin                    bool                `json:"is_admin"`
	Scopes                     []string            `json:"scopes"`
	HasRestrictedSubuserAccess bool                `json:"has_restricted_subuser_access"`
	SubuserAccess              []signInSubuserJSON `json:"subuser_access"`
}

type signInSubuserJSON struct {
	ID             int64    `json:"id"`
	PermissionType string   `json:"permission_type"`
	Scopes         []string `json:"scopes"`
}

func signInBody(in *ssod.Integration, res signInResult) signInJSON {
	a := res.assertion
	out := signInJSON{
		IntegrationID: in.ID,
		Issuer:        a.Issuer,
		NameID:        a.NameID,
		NameIDFormat:  a.NameIDFormat,
		SessionIndex:  a.SessionIndex,
		AssertionID:   a.ID,
		Attributes:    a.Attributes,
		CertificateID: a.CertificateID,
		InResponseTo:  nonEmpty(a.InResponseTo),
		RelayState:    nonEmpty(res.relayState),
	}
	if t := res.teammate; t != nil {
		out.Teammate = signInTeammateJSON{Username: t.Username, IsAdmin: t.IsAdmin, Scopes: nonNil(t.Scopes),
			HasRestrictedSubuserAccess: t.HasRestrictedSubuserAccess, SubuserAccess: make([]signInSubuserJSON, len(t.SubuserAccess))}
		for i, sa := range t.SubuserAccess {
			out.Teammate.SubuserAccess[i] = signInSubuserJSON{ID: sa.SubuserID, PermissionType: sa.PermissionType, Scopes: nonNil(sa.Scopes)}
		}
	}
	if !a.AuthnInstant.IsZero() {
		t := a.AuthnInstant.Unix()
		out.AuthnInstant = &t
	}
	if out.Attributes == nil {
		out.Attributes = map[string][]string{}
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// signedIn answers an accepted sign-in: the JSON body to a client that asks for JSON, a
// page saying the same to a browser.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, in *ssod.Integration, res signInResult) {
	if s.console != nil && res.teammate != nil && !wantsJSON(r) && s.console.SignedIn(w, r, in.ID, res.teammate.Username, res.relayState) {
		return
	}
	body := signInBody(in, res)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, body)
		return
	}
	p := page{Title: "Signed in", Message: "The sign-in was accepted: its signature and every check held.", RequestID: infoFrom(r.Context()).id}
	p.add("Name ID", body.NameID)
	p.add("Name ID format", body.NameIDFormat)
	p.add("Issuer", body.Issuer)
	p.add("Session index", body.SessionIndex)
	p.add("Assertion ID", body.AssertionID)
	p.add("Certificate ID", strconv.FormatInt(body.CertificateID, 10))
	names := make([]string, 0, len(body.Attributes))
	for name := range body.Attributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p.add("Attribute "+name, strings.Join(body.Attributes[name], ", "))
	}
	p.add("Teammate", body.Teammate.Username)
	p.add("Relay state", res.relayState)
	writePage(w, http.StatusOK, p)
}

// failPublic answers a failure on a public SAML path: the error array to a client that
// asks for JSON, a page saying the same to a browser; nothing when the client has gone.
func (s *Server) failPublic(w http.ResponseWriter, r *http.Request, err error) {
	problems := s.problemsOf(r, err)
	if problems == nil {
		return
	}
	if wantsJSON(r) {
		writeProblems(w, problems)
		return
	}
	status := statusOf(problems[0])
	title := "Sign-in refused"
	switch status {
	case http.StatusNotFound:
		title = "Not found"
	case http.StatusTooManyRequests:
		title = "Too many requests"
	case http.StatusInternalServerError:
		title = "Server error"
	}
	p := page{Title: title, Message: problems[0].Message, RequestID: infoFrom(r.Context()).id}
	p.add("Error", string(problems[0].Code))
	writePage(w, status, p)
}

// wantsJSON reports whether the request's Accept header names application/json (with a
// non-zero quality). Browsers never do; API clients and tests do.
func wantsJSON(r *http.Request) bool {
	for _, header := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(header, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mediaType != "application/json" {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q == 0 {
				continue
			}
			return true
		}
	}
	return false
}

// page is a small HTML answer for a browser.
type page struct {
	Title     string
	Message   string
	Fields    []pageField
	RequestID string
}

type pageField struct{ Name, Value string }

func (p *page) add(name, value string) {
	if value != "" {
		p.Fields = append(p.Fields, pageField{name, value})
	}
}

// pageTemplate escapes every value (html/template). The page loads nothing and runs no
// script, which its Content-Security-Policy also says.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{- if .Fields}}
<dl>
{{- range .Fields}}
<dt>{{.Name}}</dt><dd>{{.Value}}</dd>
{{- end}}
</dl>
{{- end}}
<p><small>Request ID {{.RequestID}}</small></p>
</body>
</html>
`))

var contentTypeHTML = []string{"text/html; charset=utf-8"}

func writePage(w http.ResponseWriter, status int, p page) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		panic("httpapi: render page: " + err.Error()) // our own template and strings: a bug
	}
	h := w.Header()
	h["Content-Type"] = contentTypeHTML
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
