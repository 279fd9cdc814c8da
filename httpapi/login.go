package httpapi

import (
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/saml"
)

// samlMetadata serves the SP metadata an IdP's administrator imports: entity ID and ACS.
func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	in, err := s.publicTarget(w, r)
	if err != nil {
		s.failPublic(w, r, err)
		return
	}
	url := s.samlURL(in.ID)
	body, err := saml.SPMetadata{EntityID: url, ACSURL: url}.XML()
	if err != nil {
		s.failPublic(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", saml.MetadataContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// samlLogin starts an SP-initiated sign-in: it remembers a new AuthnRequest ID for
// ssod.AuthnRequestLifetime, in the database so that any instance can take the response,
// and redirects the browser to the IdP with the request (HTTP-Redirect binding).
func (s *Server) samlLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in, err := s.publicTarget(w, r)
	if err != nil {
		s.failPublic(w, r, err)
		return
	}
	relay := r.URL.Query()["RelayState"]
	switch {
	case len(relay) > 1:
		s.failPublic(w, r, ssod.FieldErrorf(ssod.EInvalid, "RelayState", "send at most one RelayState"))
		return
	case len(relay) == 1 && len(relay[0]) > maxRelayState:
		s.failPublic(w, r, ssod.FieldErrorf(ssod.EInvalid, "RelayState", "RelayState must be at most %d bytes", maxRelayState))
		return
	case len(relay) == 0:
		relay = []string{""}
	}
	// A disabled integration would refuse the response anyway (check 2): say so now rather
	// than after a trip through the IdP.
	if !in.Enabled {
		s.failPublic(w, r, ssod.Errorf(codeIntegrationDisabled, "the SSO integration is disabled"))
		return
	}
	now := s.now()
	url := s.samlURL(in.ID)
	req := saml.AuthnRequest{ID: saml.NewRequestID(), IssueInstant: now, Issuer: url, Destination: in.SigninURL, ACSURL: url}
	location, err := req.RedirectURL(relay[0])
	if err != nil {
		s.failPublic(w, r, err)
		return
	}
	if err := s.store.SaveAuthnRequest(ctx, in.ID, req.ID, now.Unix()+ssod.AuthnRequestLifetime); err != nil {
		s.failPublic(w, r, storeFailed(err))
		return
	}
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusFound)
}
