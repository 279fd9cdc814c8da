package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ssod/ssod"
)

// routes is the API's table of contents.
func (s *Server) routes() {
	r := newRouter(s)

	r.api("POST /v3/sso/integrations", ssod.ScopeSettingsCreate, s.createIntegration)
	r.api("GET /v3/sso/integrations", ssod.ScopeSettingsRead, s.listIntegrations)
	r.api("GET /v3/sso/integrations/{id}", ssod.ScopeSettingsRead, s.getIntegration)
	r.api("PATCH /v3/sso/integrations/{id}", ssod.ScopeSettingsUpdate, s.updateIntegration)
	r.api("DELETE /v3/sso/integrations/{id}", ssod.ScopeSettingsDelete, s.deleteIntegration)
	r.api("GET /v3/sso/integrations/{integration_id}/certificates", ssod.ScopeSettingsRead, s.listCertificates)
	r.api("GET /v3/sso/integrations/{id}/logins", ssod.ScopeSettingsRead, s.listLoginTraces)
	r.api("GET /v3/sso/expiry-report", ssod.ScopeSettingsRead, s.expiryReport)
	r.api("POST /v3/sso/integrations/metadata", ssod.ScopeSettingsCreate, s.createIntegrationFromMetadata)
	r.api("POST /v3/sso/integrations/{id}/metadata", ssod.ScopeSettingsUpdate, s.updateIntegrationFromMetadata)

	r.api("POST /v3/sso/certificates", ssod.ScopeSettingsCreate, s.createCertificate)
	r.api("GET /v3/sso/certificates/{cert_id}", ssod.ScopeSettingsRead, s.getCertificate)
	r.api("PATCH /v3/sso/certificates/{cert_id}", ssod.ScopeSettingsUpdate, s.updateCertificate)
	r.api("DELETE /v3/sso/certificates/{cert_id}", ssod.ScopeSettingsDelete, s.deleteCertificate)

	r.api("POST /v3/sso/teammates", ssod.ScopeTeammatesCreate, s.createTeammate)
	r.api("PATCH /v3/sso/teammates/{username}", ssod.ScopeTeammatesUpdate, s.updateTeammate)
	r.api("GET /v3/teammates", ssod.ScopeTeammatesRead, s.listTeammates)
	r.api("GET /v3/teammates/{username}", ssod.ScopeTeammatesRead, s.getTeammate)
	r.api("DELETE /v3/teammates/{username}", ssod.ScopeTeammatesDelete, s.deleteTeammate)

	r.api("PUT /v3/sso/expiry-webhook", ssod.ScopeSettingsUpdate, s.putExpiryWebhook)
	r.api("GET /v3/sso/expiry-webhook", ssod.ScopeSettingsRead, s.getExpiryWebhook)
	r.api("DELETE /v3/sso/expiry-webhook", ssod.ScopeSettingsDelete, s.deleteExpiryWebhook)

	// SAML sign-in: no API key; each is budgeted per client address.
	r.public("POST "+pathACS+"{integration_id}", http.HandlerFunc(s.acs))
	r.public("GET "+pathMetadata+"{integration_id}", http.HandlerFunc(s.samlMetadata))
	r.public("GET "+pathLogin+"{integration_id}", http.HandlerFunc(s.samlLogin))

	r.public("GET /openapi.json", http.HandlerFunc(s.serveOpenAPI))
	r.public("GET /healthz", http.HandlerFunc(s.healthz))
	r.public("GET /readyz", http.HandlerFunc(s.readyz))
	r.public("GET /metrics", s.metrics.handler())

	if s.test != nil {
		s.testRoutes(r)
	}
	if s.console != nil {
		r.public("GET /console", s.console)
		r.public("GET /console/", s.console)
		r.public("POST /console/", s.console)
	}

	r.finish()
}

// router registers method-and-path patterns and, once all are known, the
// contract's 404 and 405 answers (with an Allow header) in place of the
// standard library's plain-text ones.
type router struct {
	s       *Server
	mux     *http.ServeMux
	methods map[string][]string // path -> methods, in registration order
	paths   []string
}

func newRouter(s *Server) *router {
	return &router{s: s, mux: s.mux, methods: map[string][]string{}}
}

// api registers an authenticated operation that needs scope.
func (rt *router) api(pattern string, scope ssod.Scope, h apiHandler) {
	rt.public(pattern, rt.s.authorize(scope, h))
}

func (rt *router) public(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	if _, seen := rt.methods[path]; !seen {
		rt.paths = append(rt.paths, path)
	}
	rt.methods[path] = append(rt.methods[path], method)
	rt.mux.Handle(pattern, h)
}

func (rt *router) finish() {
	for _, path := range rt.paths {
		allow := slices.Clone(rt.methods[path])
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		allowHeader := strings.Join(allow, ", ")
		notAllowed := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowHeader)
			writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.EMethodNotAllowed, "method %s is not allowed here; allowed: %s", r.Method, allowHeader)})
		}
		if !rt.shadows(path) {
			// A pattern without a method matches only the methods the ones
			// above do not, which is exactly the 405 case.
			rt.mux.HandleFunc(path, notAllowed)
			continue
		}
		// A literal path that a wildcard path also matches
		// (/v3/sso/integrations/metadata and …/{id}): ServeMux refuses a
		// pattern without a method beside it, so each other method is named.
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			if !slices.Contains(allow, m) {
				rt.mux.HandleFunc(m+" "+path, notAllowed)
			}
		}
	}
	rt.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblems(w, []*ssod.Error{ssod.Errorf(ssod.ENotFound, "no such path")})
	})
}

// shadows reports whether path, a literal one, is also matched by another
// registered path with a wildcard segment.
func (rt *router) shadows(path string) bool {
	if strings.Contains(path, "{") {
		return false
	}
	segs := strings.Split(path, "/")
	for _, other := range rt.paths {
		osegs := strings.Split(other, "/")
		if other == path || len(osegs) != len(segs) {
			continue
		}
		match := true
		for i, seg := range osegs {
			if seg != segs[i] && !strings.HasPrefix(seg, "{") {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
