package ssod

import "context"

// ConsoleSession is one signed-in browser of the web console, kept in the
// database so that any instance serves it. It names who signed in, not what
// they may do: the teammate's or key's scopes are read at every request, so
// a change of scopes, a removed teammate or a revoked key bites at once.
type ConsoleSession struct {
	// TokenHash is the hex SHA-256 of the cookie's token; the token itself
	// is never stored, so a copy of the database signs nobody in.
	TokenHash string
	AccountID int64
	Username  string // the SSO teammate signed in, or ""
	KeyID     string // the API key signed in with, or ""
	// CSRFToken is the synchronizer token every change must carry.
	CSRFToken string
	CreatedAt int64
	LastSeen  int64 // Unix seconds of the last request, for the idle timeout
	ExpiresAt int64 // the absolute timeout
}

// ConsoleSignIn is an SSO sign-in the console started and has not finished:
// the IdP's response names it by RelayState, and only the browser holding
// the pre-login cookie whose hash is BindingHash may finish it.
type ConsoleSignIn struct {
	StateHash     string // hex SHA-256 of the RelayState handle
	BindingHash   string // hex SHA-256 of the pre-login cookie's value
	IntegrationID string
	// Username is the verified NameID's teammate once the ACS accepted the
	// response; "" before.
	Username  string
	ExpiresAt int64
}

// ConsoleStore keeps console sessions and unfinished SSO sign-ins.
type ConsoleStore interface {
	// CreateConsoleSession stores s; EConflict when its hash is taken,
	// ENotFound when its account does not exist. It also deletes a few
	// sessions whose ExpiresAt has passed s.CreatedAt.
	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	// GetConsoleSession returns ENotFound for an unknown hash.
	GetConsoleSession(ctx context.Context, tokenHash string) (*ConsoleSession, error)
	// TouchConsoleSession sets LastSeen; ENotFound for an unknown hash.
	TouchConsoleSession(ctx context.Context, tokenHash string, now int64) error
	// DeleteConsoleSession removes the session; an unknown hash is no error.
	DeleteConsoleSession(ctx context.Context, tokenHash string) error
	// SaveConsoleSignIn stores p; EConflict when its hash is taken,
	// ENotFound when its integration does not exist. It also deletes a few
	// expired sign-ins.
	SaveConsoleSignIn(ctx context.Context, p ConsoleSignIn) error
	// VerifyConsoleSignIn records username on the unexpired sign-in of
	// integrationID named by stateHash that has none yet, and reports
	// whether there was one: a response verifies a sign-in once.
	VerifyConsoleSignIn(ctx context.Context, stateHash, integrationID, username string, now int64) (bool, error)
	// TakeConsoleSignIn deletes the sign-in and returns it; ENotFound when
	// there is none or it has expired.
	TakeConsoleSignIn(ctx context.Context, stateHash string, now int64) (*ConsoleSignIn, error)
}

// ConsoleSignInLifetime is how long, in seconds, a console SSO sign-in may
// take from start to finish: an AuthnRequest's lifetime.
const ConsoleSignInLifetime = AuthnRequestLifetime
