package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/persona"
	"github.com/ssod/ssod/saml"
)

// The public SAML paths (README, "SAML sign-in"): no API key, the signature is the
// authentication.
const (
	pathACS      = "/v3/public/sso/saml/response/id/"
	pathMetadata = "/v3/public/sso/saml/metadata/id/"
	pathLogin    = "/v3/public/sso/saml/login/id/"
)

// Limits of an ACS POST. SAMLResponse may hold 256 KiB of base64 text; the form that
// carries it percent-encodes "+", "/" and "=" (three bytes each) and may carry line breaks,
// so the body may be up to three times that, plus RelayState.
const (
	maxSAMLResponse = 256 << 10
	maxRelayState   = 80
	maxACSBody      = 3*maxSAMLResponse + 4<<10
)

// signInWriteTimeout bounds the writes a sign-in makes once its response is verified
// (using up the request, recording the assertion, the trace). They run detached from the
// client's connection: a client that leaves must not leave a request half used up or a
// sign-in without its trace.
const signInWriteTimeout = 10 * time.Second

// The error_ids the HTTP layer decides; saml.Code holds the verifier's.
const (
	codeIntegrationDisabled ssod.Code = "saml_integration_disabled"
	codeReplay              ssod.Code = "saml_replay"
	codeUnknownTeammate     ssod.Code = "saml_unknown_teammate"
	codeMalformed                     = ssod.Code(saml.ErrMalformed)
	codeInResponseTo                  = ssod.Code(saml.ErrInResponseTo)
)

// isSAMLRefusal reports whether code is one of the ACS's checks 2 to 14, all 403.
func isSAMLRefusal(code ssod.Code) bool {
	return strings.HasPrefix(string(code), "saml_") && code != codeMalformed
}

// samlURL is the integration's single_signon_url, which is also its audience_url.
func (s *Server) samlURL(id string) string { return s.publicURL + pathACS + id }

// publicTarget runs what every public SAML path checks first, in order: the
// per-address rate limit (429), then the integration the path names (404).
func (s *Server) publicTarget(w http.ResponseWriter, r *http.Request) (*ssod.Integration, error) {
	if err := s.limitAddress(r.Context(), w, r); err != nil {
		return nil, err
	}
	return s.publicIntegration(r.Context(), r.PathValue("integration_id"))
}

// publicIntegration is the first check of every public SAML path: the path names an
// integration, whatever its account.
func (s *Server) publicIntegration(ctx context.Context, id string) (*ssod.Integration, error) {
	if !ssod.ValidIntegrationID(id) {
		return nil, errIntegrationNotFound
	}
	in, err := s.store.FindIntegration(ctx, id)
	if ssod.CodeOf(err) == ssod.ENotFound {
		return nil, errIntegrationNotFound
	}
	if err != nil {
		return nil, storeFailed(fmt.Errorf("find integration: %w", err))
	}
	return in, nil
}

// signInResult is what one ACS POST decided, for the answer, the trace, the metric and
// the log.
type signInResult struct {
	// assertion is the verified assertion of an accepted sign-in.
	assertion *saml.Assertion
	// known is what a refusal may show of the assertion: set only once its signature has
	// verified (checks 5 to 13), never from an unverified document.
	known *saml.Assertion
	// teammate is who signed in (check 14), set when accepted.
	teammate   *ssod.Teammate
	relayState string
	err        error // nil when accepted
}

// acs is the Assertion Consumer Service: the HTTP-POST binding's endpoint.
func (s *Server) acs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	ri := infoFrom(ctx)
	in, err := s.publicTarget(w, r)
	if err != nil {
		s.metrics.samlResponses.WithLabelValues(string(ssod.CodeOf(err))).Inc()
		s.failPublic(w, r, err)
		return
	}
	res := s.consume(ctx, w, r, in, now)
	if errors.Is(res.err, errClientGone) {
		// The response never arrived whole: nothing was checked, so there is no
		// sign-in to trace, and the client is not there to answer.
		s.metrics.samlResponses.WithLabelValues(resultClientClosed).Inc()
		s.failPublic(w, r, res.err)
		return
	}
	result := "ok"
	if res.err != nil {
		result = string(ssod.CodeOf(res.err))
	}
	trace := ssod.LoginTrace{IntegrationID: in.ID, Time: now.Unix(), Result: result, RequestID: ri.id}
	if res.err != nil {
		trace.Message = ssod.ProblemsOf(res.err)[0].Message
	} else {
		trace.Message = "signed in"
	}
	if a := res.known; a != nil {
		trace.NameID, trace.AssertionID, trace.CertificateID, trace.InResponseTo = a.NameID, a.ID, a.CertificateID, a.InResponseTo
	}
	s.recordTrace(ctx, trace)
	s.metrics.samlResponses.WithLabelValues(result).Inc()
	// The result and ids only: never the XML, the assertion's content or a certificate.
	s.log.LogAttrs(ctx, slog.LevelInfo, "saml response",
		slog.String("result", result),
		slog.String("integration_id", in.ID),
		slog.Int64("certificate_id", trace.CertificateID),
		slog.String("request_id", ri.id),
	)
	if res.err != nil {
		s.failPublic(w, r, res.err)
		return
	}
	s.signedIn(w, r, in, res)
}

// resultClientClosed labels, in ssod_saml_responses_total, an ACS POST whose client went
// away before its body arrived.
const resultClientClosed = "client_closed"

// recordTrace stores a trace, detached from the client: the sign-in happened whether or
// not its client is still there. A failure is logged, and the answer stands.
func (s *Server) recordTrace(ctx context.Context, t ssod.LoginTrace) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signInWriteTimeout)
	defer cancel()
	if _, err := s.store.AddLoginTrace(ctx, t); err != nil {
		level := slog.LevelWarn
		if ssod.CodeOf(err) == ssod.ENotFound {
			level = slog.LevelDebug // the integration was deleted meanwhile
		}
		s.log.LogAttrs(ctx, level, "login trace not recorded", slog.String("request_id", t.RequestID), slog.String("err", err.Error()))
	}
}

// consume runs the ACS's checks in the README's order; the first that fails decides.
func (s *Server) consume(ctx context.Context, w http.ResponseWriter, r *http.Request, in *ssod.Integration, now time.Time) signInResult {
	// 1. The form, its SAMLResponse and RelayState, and the XML (saml.Parse).
	xml, relayState, err := readACSForm(w, r)
	if err != nil {
		return signInResult{err: err}
	}
	resp, err := saml.Parse(xml)
	if err != nil {
		return signInResult{err: samlError(err)}
	}
	res := signInResult{relayState: relayState}
	// 2. The integration is enabled.
	if !in.Enabled {
		res.err = ssod.Errorf(codeIntegrationDisabled, "the SSO integration is disabled")
		return res
	}
	// 3 to 11, and the two InResponseTo agreeing.
	certs, err := s.verifyingCertificates(ctx, in)
	if err != nil {
		res.err = err
		return res
	}
	acsURL := s.samlURL(in.ID)
	a, err := resp.Verify(saml.VerifyOptions{
		Now:          now,
		Skew:         s.saml.Skew,
		Certificates: certs,
		Issuer:       in.EntityID,
		ACSURL:       acsURL,
		Audience:     acsURL,
		AllowSHA1:    s.saml.AllowSHA1,
	})
	if err != nil {
		if e, ok := errors.AsType[*saml.Error](err); ok {
			res.known = e.Assertion
		}
		res.err = samlError(err)
		return res
	}
	res.known = a
	if !ssod.ValidSignInID(a.ID) {
		res.err = ssod.Errorf(codeMalformed, "the assertion's ID is longer than the %d bytes ssod remembers", ssod.MaxSignInIDLength)
		return res
	}

	// 12 and 13 write what every instance must see; they finish even if the client leaves.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signInWriteTimeout)
	defer cancel()
	if a.InResponseTo != "" {
		ok, err := s.store.UseAuthnRequest(wctx, in.ID, a.InResponseTo, now.Unix())
		if err != nil {
			res.err = storeFailed(fmt.Errorf("use AuthnRequest: %w", err))
			return res
		}
		if !ok {
			res.err = ssod.Errorf(codeInResponseTo, "InResponseTo %s names no outstanding sign-in request of this integration: unknown, already used, or older than %d minutes",
				strconv.Quote(cut(a.InResponseTo)), ssod.AuthnRequestLifetime/60)
			return res
		}
	}
	ok, err := s.store.UseAssertion(wctx, in.ID, a.ID, replayHorizon(a.NotOnOrAfter, s.saml.Skew), now.Unix())
	if err != nil {
		res.err = storeFailed(fmt.Errorf("use assertion: %w", err))
		return res
	}
	if !ok {
		res.err = ssod.Errorf(codeReplay, "the assertion %s was accepted before; each assertion signs in once", strconv.Quote(cut(a.ID)))
		return res
	}
	// 14. The NameID is a teammate of the integration's account, or becomes one.
	if res.teammate, res.err = s.signInTeammate(wctx, in, a, now); res.err != nil {
		return res
	}
	res.assertion = a
	return res
}

// signInTeammate is check 14: the account's SSO teammate whose username the NameID is
// (compared as ssod.UsernameKey does), or, with the integration's just-in-time
// provisioning on, a new one with its jit_persona, created once however many instances
// sign the same new user in at the same moment.
func (s *Server) signInTeammate(ctx context.Context, in *ssod.Integration, a *saml.Assertion, now time.Time) (*ssod.Teammate, error) {
	if ssod.ValidateUsername("name_id", a.NameID) != nil {
		return nil, ssod.Errorf(codeUnknownTeammate, "the NameID %s is not an email address, so it names no SSO teammate", strconv.Quote(cut(a.NameID)))
	}
	t, err := s.store.GetTeammate(ctx, in.AccountID, a.NameID)
	if err == nil {
		return t, nil
	}
	if ssod.CodeOf(err) != ssod.ENotFound {
		return nil, storeFailed(fmt.Errorf("find teammate: %w", err))
	}
	if !in.JITProvisioning {
		return nil, ssod.Errorf(codeUnknownTeammate, "%s is not an SSO teammate of this account, and the integration does not provision teammates just in time",
			strconv.Quote(cut(a.NameID)))
	}
	t, _, err = s.store.ProvisionTeammate(ctx, jitTeammate(in, a), now.Unix())
	if err != nil {
		if code := ssod.CodeOf(err); code != ssod.EInternal {
			return nil, ssod.Errorf(codeUnknownTeammate, "%s could not be provisioned as an SSO teammate: %s", strconv.Quote(cut(a.NameID)), ssod.ProblemsOf(err)[0].Message)
		}
		return nil, storeFailed(fmt.Errorf("provision teammate: %w", err))
	}
	return t, nil
}

// replayHorizon is how long an accepted assertion ID is kept: until Verify would refuse
// it as expired anyway, NotOnOrAfter plus the skew, rounded up to the second the store
// counts in.
func replayHorizon(notOnOrAfter time.Time, skew time.Duration) int64 {
	t := notOnOrAfter.Add(max(skew, 0))
	sec := t.Unix()
	if t.After(time.Unix(sec, 0)) {
		sec++
	}
	return sec
}

// cut bounds a document's value in a message, as the verifier's messages do.
func cut(s string) string {
	const n = 120
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// samlError turns the verifier's refusal into the error array's problem.
func samlError(err error) error {
	if e, ok := errors.AsType[*saml.Error](err); ok {
		return ssod.Errorf(ssod.Code(e.Code), "%s", e.Message)
	}
	return err
}

// readACSForm reads check 1's form: an application/x-www-form-urlencoded body with one
// SAMLResponse of at most maxSAMLResponse base64 characters and at most one RelayState of
// at most maxRelayState bytes. It returns the decoded XML and RelayState.
func readACSForm(w http.ResponseWriter, r *http.Request) (xml []byte, relayState string, err error) {
	types := r.Header.Values("Content-Type")
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" || len(types) != 1 {
		return nil, "", ssod.Errorf(ssod.EUnsupportedMediaType, "the SAML response must be posted as application/x-www-form-urlencoded (the HTTP-POST binding)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxACSBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, "", ssod.Errorf(ssod.ETooLarge, "the request body must be at most %d bytes", maxACSBody)
	}
	if err != nil {
		return nil, "", bodyReadError(err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, "", ssod.Errorf(codeMalformed, "the request body is not a valid URL-encoded form")
	}
	values := form["SAMLResponse"]
	switch {
	case len(values) == 0 || values[0] == "":
		return nil, "", ssod.Errorf(codeMalformed, "the form has no SAMLResponse")
	case len(values) > 1:
		return nil, "", ssod.Errorf(codeMalformed, "the form has %d SAMLResponse fields; send one", len(values))
	case len(values[0]) > maxSAMLResponse:
		return nil, "", ssod.Errorf(ssod.ETooLarge, "SAMLResponse is %d characters of base64, more than the %d allowed", len(values[0]), maxSAMLResponse)
	}
	relay := form["RelayState"]
	switch {
	case len(relay) > 1:
		return nil, "", ssod.Errorf(codeMalformed, "the form has %d RelayState fields; send at most one", len(relay))
	case len(relay) == 1 && len(relay[0]) > maxRelayState:
		return nil, "", ssod.Errorf(codeMalformed, "RelayState is %d bytes, more than the %d allowed", len(relay[0]), maxRelayState)
	case len(relay) == 1:
		relayState = relay[0]
	}
	// IdPs wrap the base64 at 64 or 76 columns; some leave the padding off.
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, values[0])
	xml, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
	if err != nil {
		return nil, "", ssod.Errorf(codeMalformed, "SAMLResponse is not valid base64")
	}
	return xml, relayState, nil
}

// Attribute names IdPs commonly send a user's given name and surname under: the LDAP
// names, their OIDs, the WS-Federation claims ADFS and Entra ID send, and Okta's defaults.
var (
	givenNameAttributes = []string{"givenName", "firstName", "first_name", "urn:oid:2.5.4.42",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"}
	surnameAttributes = []string{"sn", "surname", "lastName", "last_name", "urn:oid:2.5.4.4",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"}
)

// jitTeammate is the teammate just-in-time provisioning creates for a verified assertion:
// the NameID as username, the integration's jit_persona and its scopes, and the names
// from the assertion's attributes; the NameID's local part and domain stand in for a
// missing given name and surname (a teammate needs both).
func jitTeammate(in *ssod.Integration, a *saml.Assertion) ssod.Teammate {
	p := in.JITPersona
	if p == "" {
		p = ssod.DefaultJITPersona
	}
	scopes, _ := persona.Scopes(p)
	at := strings.LastIndexByte(a.NameID, '@') // ValidateUsername made sure there is one
	local, domain := a.NameID[:at], a.NameID[at+1:]
	return ssod.Teammate{
		AccountID: in.AccountID,
		Username:  a.NameID,
		FirstName: attributeOr(a.Attributes, givenNameAttributes, local),
		LastName:  attributeOr(a.Attributes, surnameAttributes, domain),
		Persona:   p,
		Scopes:    scopes,
	}
}

// attributeOr returns the first usable value of the first of names the assertion carries,
// else def.
func attributeOr(attrs map[string][]string, names []string, def string) string {
	for _, n := range names {
		for _, v := range attrs[n] {
			if (ssod.TeammateUpdate{FirstName: &v}).Validate() == nil { // a usable name

				return v
			}
		}
	}
	return def
}
