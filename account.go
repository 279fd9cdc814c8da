package ssod

import (
	"context"
	"slices"
	"strings"
)

// Account owns integrations, certificates and API keys. An account with a
// parent is that parent's subuser: the parent's keys may act for it.
type Account struct {
	ID        int64
	Name      string
	ParentID  int64 // 0 when the account has no parent
	CreatedAt int64
}

// MaxAccountNameLength bounds account names, which also travel in the
// On-Behalf-Of header.
const MaxAccountNameLength = 64

// ValidateAccountName accepts 1 to 64 letters, digits, '.', '_' and '-', so a
// name is safe in a header, a log line and a shell.
func ValidateAccountName(name string) error {
	if name == "" || len(name) > MaxAccountNameLength {
		return FieldErrorf(EInvalid, "name", "account name must be 1 to %d characters", MaxAccountNameLength)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return FieldErrorf(EInvalid, "name", "account name may hold only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// Scope is a permission an API key may hold; the names are SendGrid's.
type Scope string

// Scopes of the SSO API.
const (
	ScopeSettingsRead    Scope = "sso.settings.read"
	ScopeSettingsCreate  Scope = "sso.settings.create"
	ScopeSettingsUpdate  Scope = "sso.settings.update"
	ScopeSettingsDelete  Scope = "sso.settings.delete"
	ScopeTeammatesCreate Scope = "sso.teammates.create"
	ScopeTeammatesUpdate Scope = "sso.teammates.update"
	// SendGrid's Teammates API reads and deletes teammates, SSO ones included.
	ScopeTeammatesRead   Scope = "teammates.read"
	ScopeTeammatesDelete Scope = "teammates.delete"
)

// AllScopes is what a key created without an explicit scope list holds.
func AllScopes() []Scope {
	return []Scope{ScopeSettingsRead, ScopeSettingsCreate, ScopeSettingsUpdate, ScopeSettingsDelete, ScopeTeammatesCreate, ScopeTeammatesUpdate,
		ScopeTeammatesRead, ScopeTeammatesDelete}
}

// ParseScopes reads a comma-separated scope list, rejecting unknown names so
// a typo never silently yields a key that can do less than intended.
func ParseScopes(csv string) ([]Scope, error) {
	var out []Scope
	for part := range strings.SplitSeq(csv, ",") {
		s := Scope(strings.TrimSpace(part))
		if s == "" {
			continue
		}
		if !slices.Contains(AllScopes(), s) {
			return nil, FieldErrorf(EInvalid, "scopes", "unknown scope %q", s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, FieldErrorf(EInvalid, "scopes", "at least one scope is required")
	}
	return out, nil
}

// APIKey is a stored key. Only a hash of the secret half is kept; the ID is
// the public half and is safe to show and log.
type APIKey struct {
	ID         string
	AccountID  int64
	Name       string
	Scopes     []Scope
	SecretHash []byte
	CreatedAt  int64
	RevokedAt  int64 // 0 while the key is active
}

// HasScope reports whether k carries s.
func (k *APIKey) HasScope(s Scope) bool { return slices.Contains(k.Scopes, s) }

// AccountStore keeps accounts.
type AccountStore interface {
	// CreateAccount returns EConflict when the name is taken and ENotFound
	// when parentID (if not 0) names no account.
	CreateAccount(ctx context.Context, name string, parentID int64, now int64) (*Account, error)
	// FindAccountByName returns ENotFound when there is no such account.
	FindAccountByName(ctx context.Context, name string) (*Account, error)
	// ListAccounts returns every account by ID.
	ListAccounts(ctx context.Context) ([]Account, error)
	// HasAccounts reports whether any account exists, without reading them:
	// every start asks it.
	HasAccounts(ctx context.Context) (bool, error)
}

// KeyStore keeps API keys.
type KeyStore interface {
	// CreateKey stores k; its ID must be new (EConflict otherwise) and its
	// account must exist (ENotFound otherwise).
	CreateKey(ctx context.Context, k APIKey) error
	// FindKey returns the key, revoked or not, or ENotFound.
	FindKey(ctx context.Context, id string) (*APIKey, error)
	// ListKeys returns the keys of one account, or of all when accountID is 0.
	ListKeys(ctx context.Context, accountID int64) ([]APIKey, error)
	// RevokeKey marks the key revoked at now; ENotFound for an unknown ID.
	// Revoking a revoked key keeps its first revocation time.
	RevokeKey(ctx context.Context, id string, now int64) error
}

// Store is everything ssod persists, as one backend implements it.
type Store interface {
	AccountStore
	KeyStore
	IntegrationStore
	CertificateStore
	SigningWindowStore
	AuditStore
	SignInStore
	TeammateStore
	ExpiryWebhookStore
	MetadataStore
	ConsoleStore
	Exporter
	Importer
	Seeder
	Resetter
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// JoinScopes is the one text form of a scope list that stores keep: comma
// separated. A scope holding a comma would come back as two, so it is refused.
func JoinScopes(scopes []Scope) (string, error) {
	parts := make([]string, len(scopes))
	for i, sc := range scopes {
		if sc == "" || strings.Contains(string(sc), ",") {
			return "", FieldErrorf(EInvalid, "scopes", "scope %q cannot be stored", sc)
		}
		parts[i] = string(sc)
	}
	return strings.Join(parts, ","), nil
}

// SplitScopes reads what JoinScopes wrote.
func SplitScopes(csv string) []Scope {
	if csv == "" {
		return nil
	}
	parts := strings.Split(csv, ",")
	scopes := make([]Scope, len(parts))
	for i, p := range parts {
		scopes[i] = Scope(p)
	}
	return scopes
}
