package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
)

// session is a signed-in browser and what it may do now.
type session struct {
	ssod.ConsoleSession
	scopes map[ssod.Scope]bool
}

func (s *session) can(sc ssod.Scope) bool { return s.scopes[sc] }

// actorName is who the audit trail names for the session's changes.
func (s *session) actorName() string {
	if s.Username != "" {
		return "teammate:" + s.Username
	}
	return s.KeyID
}

// Who is how the pages name the signed-in person.
func (s *session) Who() string {
	if s.Username != "" {
		return s.Username
	}
	return "API key " + s.KeyID
}

// touchEvery bounds how often a session's LastSeen is written: the idle
// timeout is minutes, a write per page view would be waste.
const touchEvery = time.Minute

// relayPrefix marks the RelayState of a sign-in the console started.
const relayPrefix = "console."

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is the stored form of a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Cookie names: under HTTPS the __Host- prefix makes the browser refuse a
// cookie that is not Secure, host-only and for path /, so a sibling domain
// cannot plant one (a fixation route).
func (c *Console) sessionCookie() string  { return c.cookieName("ssod_console") }
func (c *Console) preLoginCookie() string { return c.cookieName("ssod_console_pre") }

func (c *Console) cookieName(name string) string {
	if c.secure {
		return "__Host-" + name
	}
	return name
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (c *Console) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

func cookieValue(r *http.Request, name string) string {
	if ck, err := r.Cookie(name); err == nil {
		return ck.Value
	}
	return ""
}

// currentSession returns the request's live session, or nil. An expired one
// is deleted. Scopes are read now, from the key or the teammate.
func (c *Console) currentSession(ctx context.Context, r *http.Request) (*session, error) {
	token := cookieValue(r, c.sessionCookie())
	if token == "" {
		return nil, nil
	}
	cs, err := c.store.GetConsoleSession(ctx, hashToken(token))
	if ssod.CodeOf(err) == ssod.ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := c.now()
	if now.Unix() >= cs.ExpiresAt || now.Sub(time.Unix(cs.LastSeen, 0)) >= c.idle {
		return nil, c.store.DeleteConsoleSession(ctx, cs.TokenHash)
	}
	s := &session{ConsoleSession: *cs, scopes: map[ssod.Scope]bool{}}
	switch {
	case cs.KeyID != "":
		k, err := c.store.FindKey(ctx, cs.KeyID)
		if ssod.CodeOf(err) == ssod.ENotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if k.RevokedAt != 0 || k.AccountID != cs.AccountID {
			return nil, nil
		}
		for _, sc := range k.Scopes {
			s.scopes[sc] = true
		}
	default:
		t, err := c.store.GetTeammate(ctx, cs.AccountID, cs.Username)
		if ssod.CodeOf(err) == ssod.ENotFound {
			return nil, nil // removed since
		}
		if err != nil {
			return nil, err
		}
		for _, sc := range t.Scopes {
			s.scopes[ssod.Scope(sc)] = true
		}
	}
	if now.Sub(time.Unix(cs.LastSeen, 0)) >= touchEvery {
		if err := c.store.TouchConsoleSession(ctx, cs.TokenHash, now.Unix()); err != nil && ssod.CodeOf(err) != ssod.ENotFound {
			return nil, err
		}
	}
	return s, nil
}

// startSession replaces whatever session the browser had with a new one,
// under a new token (no fixation), and sets its cookie.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, accountID int64, username, keyID string) error {
	if old := cookieValue(r, c.sessionCookie()); old != "" {
		if err := c.store.DeleteConsoleSession(ctx, hashToken(old)); err != nil {
			return err
		}
	}
	now := c.now().Unix()
	token := newToken()
	err := c.store.CreateConsoleSession(ctx, ssod.ConsoleSession{
		TokenHash: hashToken(token), AccountID: accountID, Username: username, KeyID: keyID,
		CSRFToken: newToken(), CreatedAt: now, LastSeen: now, ExpiresAt: now + int64(c.lifetime.Seconds()),
	})
	if err != nil {
		return err
	}
	c.setCookie(w, c.sessionCookie(), token, c.lifetime)
	c.clearCookie(w, c.preLoginCookie())
	return nil
}

// sameOrigin refuses a POST whose Origin header names another site: a
// second line behind the CSRF token. Browsers send Origin on every POST.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// handler is a page or action of a signed-in session.
type handler func(w http.ResponseWriter, r *http.Request, s *session) error

// signedIn runs h for a live session holding scope; a POST must also carry
// the session's CSRF token and come from this origin.
func (c *Console) signedIn(scope ssod.Scope, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r.Context(), r)
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, ssod.Errorf(ssod.EUnauthorized, "your session has ended; sign in again"))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !sameOrigin(r) || !equalTokens(r.PostFormValue("csrf"), s.CSRFToken) {
				c.fail(w, r, s, errBadCSRF)
				return
			}
		}
		if scope != "" && !s.can(scope) {
			c.fail(w, r, s, ssod.Errorf(ssod.EForbidden, "you lack the scope %s for this", scope))
			return
		}
		r = r.WithContext(actorContext(r.Context(), s))
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

var errBadCSRF = ssod.Errorf(ssod.EForbidden, "this form is out of date or did not come from the console; reload the page and try again")

// maxForm bounds a form: a certificate upload is the largest (16 KiB of
// PEM, as a file or pasted).
const maxForm = 256 << 10

// signInPage shows the two ways in, and gives the browser its pre-login
// cookie, which the sign-in forms echo (login CSRF) and an SSO sign-in is
// bound to.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.renderSignIn(w, r, http.StatusOK, signInForm{})
}

type signInForm struct {
	Email  string
	Errors map[string]string
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, f signInForm) {
	pre := cookieValue(r, c.preLoginCookie())
	if len(pre) != 43 {
		pre = newToken()
		c.setCookie(w, c.preLoginCookie(), pre, ssod.ConsoleSignInLifetime*time.Second)
	}
	c.render(w, r, status, "signin", nil, map[string]any{"Form": f, "PreCSRF": pre})
}

// checkPreLogin is the sign-in forms' CSRF check.
func (c *Console) checkPreLogin(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if !sameOrigin(r) || !equalTokens(r.PostFormValue("csrf"), cookieValue(r, c.preLoginCookie())) {
		c.fail(w, r, nil, errBadCSRF)
		return false
	}
	return true
}

// signInKey signs in with an API key: the first administrator's way in,
// before any SSO exists.
func (c *Console) signInKey(w http.ResponseWriter, r *http.Request) {
	if !c.checkPreLogin(w, r) {
		return
	}
	ctx := r.Context()
	bad := func() {
		c.renderSignIn(w, r, http.StatusUnauthorized, signInForm{Errors: map[string]string{"key": "This API key is not valid: check it was copied whole, and is not revoked."}})
	}
	id, secret, ok := apikey.Split(strings.TrimSpace(r.PostFormValue("key")))
	if !ok {
		bad()
		return
	}
	k, err := apikey.NewCache(c.store, 0, 1, c.now).FindVerified(ctx, id, secret)
	if code := ssod.CodeOf(err); code == ssod.ENotFound || code == ssod.EUnauthorized || err == nil && k.RevokedAt != 0 {
		bad()
		return
	}
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if err := c.startSession(ctx, w, r, k.AccountID, "", k.ID); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, home, http.StatusSeeOther)
}

// signInSSO finds the teammate's integration and starts an SP-initiated
// sign-in through the API's own login path, with a RelayState that names
// this attempt and is bound to this browser's pre-login cookie.
func (c *Console) signInSSO(w http.ResponseWriter, r *http.Request) {
	if !c.checkPreLogin(w, r) {
		return
	}
	ctx := r.Context()
	email := strings.TrimSpace(r.PostFormValue("email"))
	fieldErr := func(msg string) {
		c.renderSignIn(w, r, http.StatusBadRequest, signInForm{Email: email, Errors: map[string]string{"email": msg}})
	}
	if e := ssod.ValidateUsername("email", email); e != nil {
		fieldErr("Enter the email address you sign in to your identity provider with.")
		return
	}
	in, err := c.integrationFor(ctx, email)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if in == nil {
		fieldErr("No enabled SSO integration signs this address in. Ask an administrator to add you as an SSO teammate, or sign in with an API key.")
		return
	}
	state := newToken()
	err = c.store.SaveConsoleSignIn(ctx, ssod.ConsoleSignIn{
		StateHash: hashToken(state), BindingHash: hashToken(cookieValue(r, c.preLoginCookie())),
		IntegrationID: in.ID, ExpiresAt: c.now().Unix() + ssod.ConsoleSignInLifetime,
	})
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	q := url.Values{"RelayState": {relayPrefix + state}}
	http.Redirect(w, r, "/v3/public/sso/saml/login/id/"+in.ID+"?"+q.Encode(), http.StatusSeeOther)
}

// integrationFor returns the first enabled integration of the first account
// the email is an SSO teammate of, or nil.
func (c *Console) integrationFor(ctx context.Context, email string) (*ssod.Integration, error) {
	accounts, err := c.store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		if _, err := c.store.GetTeammate(ctx, a.ID, email); ssod.CodeOf(err) == ssod.ENotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		list, err := c.store.ListIntegrations(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if list[i].Enabled {
				return &list[i], nil
			}
		}
	}
	return nil, nil
}

// SignedIn is told by the Assertion Consumer Service of every verified
// sign-in. When its RelayState names a sign-in the console started for this
// integration, it records the teammate on it and sends the browser to
// finish it, and reports true. The IdP's POST is cross-site and carries no
// Lax cookie; the GET it is redirected to does, which is where the browser
// is checked.
func (c *Console) SignedIn(w http.ResponseWriter, r *http.Request, integrationID, username, relayState string) bool {
	state, ok := strings.CutPrefix(relayState, relayPrefix)
	if !ok {
		return false
	}
	ctx, cancel := detached(r)
	defer cancel()
	verified, err := c.store.VerifyConsoleSignIn(ctx, hashToken(state), integrationID, username, c.now().Unix())
	if err != nil {
		c.fail(w, r, nil, err)
		return true
	}
	if !verified {
		c.fail(w, r, nil, errSignInUnknown)
		return true
	}
	http.Redirect(w, r, Prefix+"signin/finish?"+url.Values{"state": {state}}.Encode(), http.StatusSeeOther)
	return true
}

// detached is the request's context without its cancellation, for the
// writes of an SSO sign-in: once the sign-in is used up, a client that
// leaves must not leave it without its session.
func detached(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), writeTimeout)
}

// writeTimeout bounds those writes.
const writeTimeout = 10 * time.Second

var errSignInUnknown = ssod.Errorf(ssod.EForbidden, "this sign-in was not started here, has already been used, or took longer than 10 minutes; start again")

// finishSSO turns a verified sign-in into a session, in the browser that
// started it only.
func (c *Console) finishSSO(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := detached(r)
	defer cancel()
	p, err := c.store.TakeConsoleSignIn(ctx, hashToken(r.URL.Query().Get("state")), c.now().Unix())
	if ssod.CodeOf(err) == ssod.ENotFound {
		c.fail(w, r, nil, errSignInUnknown)
		return
	}
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if p.Username == "" || !equalTokens(hashToken(cookieValue(r, c.preLoginCookie())), p.BindingHash) {
		c.fail(w, r, nil, errSignInOtherBrowser)
		return
	}
	in, err := c.store.FindIntegration(ctx, p.IntegrationID)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if err := c.startSession(ctx, w, r, in.AccountID, p.Username, ""); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, home, http.StatusSeeOther)
}

var errSignInOtherBrowser = ssod.Errorf(ssod.EForbidden, "this sign-in was started in another browser, or not finished at the identity provider; start again here")

// signOut ends the session.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.store.DeleteConsoleSession(r.Context(), s.TokenHash); err != nil {
		return err
	}
	c.clearCookie(w, c.sessionCookie())
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
	return nil
}

// statusOf is the HTTP status of a failure.
func statusOf(err error) int {
	switch ssod.CodeOf(err) {
	case ssod.EInvalid, ssod.ERequired:
		return http.StatusBadRequest
	case ssod.EUnauthorized:
		return http.StatusUnauthorized
	case ssod.EForbidden:
		return http.StatusForbidden
	case ssod.ENotFound:
		return http.StatusNotFound
	case ssod.EConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// fail shows an error page; an internal error's detail goes to the log only.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	status := statusOf(err)
	msg := "Something went wrong on the server. Try again; if it persists, the server log has the details."
	if status == http.StatusInternalServerError {
		c.log.ErrorContext(r.Context(), "console", "path", r.URL.Path, "err", err)
	} else {
		msg = ssod.ProblemsOf(err)[0].Message
	}
	c.render(w, r, status, "error", s, map[string]any{"Message": msg})
}
