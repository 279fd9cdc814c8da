package ssod

import (
	"context"
	"strings"
	"unicode/utf8"
)

// LoginTrace is the record of one POST to an integration's Assertion
// Consumer Service: what was decided and why, so that whoever sets an IdP
// up can read why a sign-in failed. It never holds XML, an assertion or a
// certificate body.
type LoginTrace struct {
	ID            int64 // positive, unique in the deployment, increasing
	IntegrationID string
	Time          int64  // Unix seconds
	Result        string // "ok", or the error_id of the check that refused
	Message       string
	// The values below are "" or 0 where unknown (null on the wire). NameID
	// is only ever the NameID of an assertion whose signature verified.
	NameID        string
	AssertionID   string
	CertificateID int64
	InResponseTo  string
	RequestID     string
}

// Sign-in limits.
const (
	// MaxLoginTraces is how many traces a store keeps per integration; the
	// oldest go first.
	MaxLoginTraces = 1000
	// DefaultLoginTraces and MaxLoginTracesPerList bound one list request.
	DefaultLoginTraces    = 50
	MaxLoginTracesPerList = 1000
	// AuthnRequestLifetime is how long an SP-initiated sign-in may take, in
	// seconds: an AuthnRequest ID is remembered this long.
	AuthnRequestLifetime = 600
	// MaxSignInIDLength bounds the AuthnRequest and assertion IDs a store
	// remembers, in bytes: far above any IdP's (40 to 50), far below what
	// a database index takes in one entry.
	MaxSignInIDLength = 1024
	// MaxLoginTraceText bounds each text field of a stored trace, in bytes,
	// so that MaxLoginTraces of them stay small whatever an IdP sends.
	MaxLoginTraceText = 1024
)

// ValidSignInID reports whether a store can remember id as an AuthnRequest
// or assertion ID: 1 to MaxSignInIDLength bytes of UTF-8 without NUL, which
// both databases store and compare alike.
func ValidSignInID(id string) bool {
	return id != "" && len(id) <= MaxSignInIDLength && storableText(id)
}

func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Stored returns t as a store keeps it: every text field valid UTF-8 without
// NUL (PostgreSQL stores nothing else) and cut to MaxLoginTraceText bytes at
// a character boundary.
func (t LoginTrace) Stored() LoginTrace {
	for _, f := range []*string{&t.IntegrationID, &t.Result, &t.Message, &t.NameID, &t.AssertionID, &t.InResponseTo, &t.RequestID} {
		*f = boundText(*f)
	}
	return t
}

func boundText(s string) string {
	if !storableText(s) {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	if len(s) <= MaxLoginTraceText {
		return s
	}
	cut := MaxLoginTraceText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// SignInStore keeps what SAML sign-in must remember between requests and
// across instances: the AuthnRequests ssod sent, the assertions it
// accepted, and the trace of every attempt. Deleting an integration deletes
// all three of its records.
//
// A record "expired at now" is one whose expiresAt <= now: expiresAt is the
// first second it no longer counts, as SAML's NotOnOrAfter is. Expired
// records are pruned a few at a time by the writes that add new ones, so
// they never accumulate; the README's Storage section says how.
type SignInStore interface {
	// FindIntegration returns the integration with id whatever its account:
	// the public SAML paths carry no API key, the integration ID is all
	// they have. ENotFound when there is none.
	FindIntegration(ctx context.Context, id string) (*Integration, error)
	// SaveAuthnRequest remembers that integrationID sent an AuthnRequest
	// with requestID, until expiresAt (Unix seconds). EConflict if the ID is
	// already remembered (for any integration), EInvalid unless
	// ValidSignInID(requestID), ENotFound when the integration does not
	// exist. It may prune requests expired at expiresAt -
	// AuthnRequestLifetime, the time the caller saved this one.
	SaveAuthnRequest(ctx context.Context, integrationID, requestID string, expiresAt int64) error
	// UseAuthnRequest uses up a remembered request: true exactly once for
	// an ID that integrationID saved and that has not expired at now, false
	// for an unknown, used, expired or other integration's ID (which stays
	// usable by its own integration). Atomic across instances: of two
	// concurrent uses, one gets true.
	UseAuthnRequest(ctx context.Context, integrationID, requestID string, now int64) (bool, error)
	// UseAssertion records that the assertion assertionID was accepted for
	// integrationID, to be remembered until expiresAt: true the first time,
	// false while an earlier record has not expired at now (a replay). One
	// atomic insert, never a read then a write; records expired at now may
	// be pruned on the way. EInvalid unless ValidSignInID(assertionID),
	// ENotFound when the integration does not exist. A true is durable
	// before it is returned.
	UseAssertion(ctx context.Context, integrationID, assertionID string, expiresAt, now int64) (bool, error)
	// AddLoginTrace stores t.Stored() with a new ID (t.ID is ignored) and
	// returns it, keeping the newest MaxLoginTraces of its integration.
	// ENotFound when the integration no longer exists.
	AddLoginTrace(ctx context.Context, t LoginTrace) (*LoginTrace, error)
	// ListLoginTraces returns up to limit traces of the account's
	// integration, newest first (none when limit < 1; at most
	// MaxLoginTracesPerList). ENotFound when the account has no such
	// integration.
	ListLoginTraces(ctx context.Context, accountID int64, integrationID string, limit int) ([]LoginTrace, error)
}
