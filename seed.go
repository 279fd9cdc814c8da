package ssod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Seed is what a deployment starts with, for test suites: accounts, API
// keys with known strings, integrations and certificates with known ids,
// and SSO teammates.
// The seed package reads and checks it from a file; stores write it. It
// refers to accounts by name, so that it means the same on any database.
type Seed struct {
	Accounts     []SeedAccount // a parent before its subusers
	Keys         []SeedKey
	Integrations []SeedIntegration // in the order lists show them
	Certificates []SeedCertificate
	Teammates    []SeedTeammate
}

// SeedAccount is an account of a seed; Parent is "" or the name of an
// account listed before it.
type SeedAccount struct {
	Name   string
	Parent string
}

// SeedKey is an API key of a seed: its public id, the hash of its secret
// and its scopes, for the account named Account.
type SeedKey struct {
	Account    string
	ID         string
	SecretHash []byte
	Name       string
	Scopes     []Scope
}

// SeedIntegration is an integration of a seed, with its id, for the account
// named Account. Its AccountID and LastUpdated are set by the store.
type SeedIntegration struct {
	Account string
	Integration
}

// SeedCertificate is a certificate of a seed, with its id. Its account is
// its integration's, which the seed lists.
type SeedCertificate struct {
	ID            int64
	IntegrationID string
	Enabled       bool
	X509
}

// SeedTeammate is an SSO teammate of a seed, for the account named
// Account, with the scopes its persona or is_admin grants already expanded.
// Subusers names the account of each SubuserAccess, in order: the store
// sets AccountID, the SubuserIDs, CreatedAt and UpdatedAt.
type SeedTeammate struct {
	Account  string
	Subusers []string
	Teammate
}

// SeedAuditKeyID is the key id recorded in the audit events of what a seed
// creates: no key made those changes, and no real key id has this shape.
const SeedAuditKeyID = "seed"

// Seeder applies a seed.
type Seeder interface {
	// ApplySeed creates, in one transaction, every entry of s that the store
	// lacks, with its ids and key hashes, and leaves alone those it holds
	// with the same values; ids handed out later continue after the seed's.
	// An entry the store holds with other values is EConflict naming it, and
	// nothing is written. Each integration, certificate and teammate created
	// records an audit event with key id SeedAuditKeyID at now. s must have passed
	// the seed package's checks.
	ApplySeed(ctx context.Context, s *Seed, now int64) error
}

// Resetter puts a store back to a seed, for test suites.
type Resetter interface {
	// ResetTo removes every object (accounts, keys, integrations,
	// certificates, audit events, SSO teammates, and what sign-in remembers:
	// AuthnRequests, accepted assertions, login traces) and applies s, in one transaction, with
	// every id sequence restarted: afterwards the store reads exactly as a
	// new, empty one after ApplySeed(s). Concurrent readers see the state
	// before or after, never a mix; concurrent writes land before the reset
	// (and are removed) or after it.
	ResetTo(ctx context.Context, s *Seed, now int64) error
}

// ErrSeedConflict is what ApplySeed returns for an entry that the store
// holds with other values: what names the entry, field the value that
// differs.
func ErrSeedConflict(what, field, format string, args ...any) *Error {
	return FieldErrorf(EConflict, field, "%s is in the database with other values than the seed's: %s", what, fmt.Sprintf(format, args...))
}

// CheckSeedAccount compares a seed's account with the stored one; parentID
// is the stored id of the seed's parent (0 for none).
func CheckSeedAccount(want SeedAccount, parentID int64, got Account) error {
	if got.ParentID != parentID {
		return ErrSeedConflict(fmt.Sprintf("account %q", want.Name), "parent", "its parent differs from %q", want.Parent)
	}
	return nil
}

// CheckSeedKey compares a seed's key with the stored one; accountID is the
// stored id of the seed key's account. Scopes compare as sets.
func CheckSeedKey(want SeedKey, accountID int64, got APIKey) error {
	what := fmt.Sprintf("API key %q", want.ID)
	switch {
	case got.AccountID != accountID:
		return ErrSeedConflict(what, "account", "it belongs to another account than %q", want.Account)
	case !bytes.Equal(got.SecretHash, want.SecretHash):
		return ErrSeedConflict(what, "key", "the stored key has the same id but another secret")
	case got.Name != want.Name:
		return ErrSeedConflict(what, "name", "name %q, the seed says %q", got.Name, want.Name)
	case !sameScopes(got.Scopes, want.Scopes):
		return ErrSeedConflict(what, "scopes", "scopes %v, the seed says %v", got.Scopes, want.Scopes)
	case got.RevokedAt != 0:
		return ErrSeedConflict(what, "key", "it has been revoked")
	}
	return nil
}

func sameScopes(a, b []Scope) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// CheckSeedIntegration compares a seed's integration with the stored one;
// accountID is the stored id of the seed integration's account.
// LastUpdated is not compared: it records when, not what.
func CheckSeedIntegration(want SeedIntegration, accountID int64, got Integration) error {
	what := fmt.Sprintf("integration %q", want.ID)
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"account", got.AccountID, accountID},
		{"name", got.Name, want.Name},
		{"enabled", got.Enabled, want.Enabled},
		{"signin_url", got.SigninURL, want.SigninURL},
		{"signout_url", got.SignoutURL, want.SignoutURL},
		{"entity_id", got.EntityID, want.EntityID},
		{"completed_integration", got.CompletedIntegration, want.CompletedIntegration},
	} {
		if f.got == f.want {
			continue
		}
		if f.name == "account" {
			return ErrSeedConflict(what, f.name, "it belongs to another account than %q", want.Account)
		}
		return ErrSeedConflict(what, f.name, "%s %q, the seed says %q", f.name, fmt.Sprint(f.got), fmt.Sprint(f.want))
	}
	return nil
}

// CheckSeedCertificate compares a seed's certificate with the stored one.
func CheckSeedCertificate(want SeedCertificate, got Certificate) error {
	what := fmt.Sprintf("certificate %d", want.ID)
	switch {
	case got.IntegrationID != want.IntegrationID:
		return ErrSeedConflict(what, "integration_id", "it belongs to integration %q, the seed says %q", got.IntegrationID, want.IntegrationID)
	case got.PEM != want.PEM:
		return ErrSeedConflict(what, "public_certificate", "the stored certificate is another one (SHA-256 %s)", Fingerprint(got.PEM))
	case got.Enabled != want.Enabled:
		return ErrSeedConflict(what, "enabled", "enabled %t, the seed says %t", got.Enabled, want.Enabled)
	}
	return nil
}

// Resolve returns st's teammate with the stored ids of its account and
// subusers (by name, from accounts) and fresh, non-nil slices, as a store
// reads it back.
func (st SeedTeammate) Resolve(accounts map[string]int64) SeedTeammate {
	st.Teammate = TeammateUpdate{}.Apply(st.Teammate)
	st.AccountID = accounts[st.Account]
	for i := range st.SubuserAccess {
		st.SubuserAccess[i].SubuserID = accounts[st.Subusers[i]]
	}
	return st
}

// CheckSeedTeammate compares a seed's teammate, resolved (Resolve), with the
// stored one of the same UsernameKey. The username is compared exactly: it
// never changes, so another spelling of it is another value. CreatedAt and
// UpdatedAt record when, not what.
func CheckSeedTeammate(want SeedTeammate, got Teammate) error {
	what := fmt.Sprintf("teammate %q of account %q", want.Username, want.Account)
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"email", got.Username, want.Username},
		{"first_name", got.FirstName, want.FirstName},
		{"last_name", got.LastName, want.LastName},
		{"is_admin", got.IsAdmin, want.IsAdmin},
		{"persona", got.Persona, want.Persona},
		{"scopes", got.Scopes, want.Scopes},
		{"has_restricted_subuser_access", got.HasRestrictedSubuserAccess, want.HasRestrictedSubuserAccess},
		{"subuser_access", got.SubuserAccess, want.SubuserAccess},
	} {
		a, _ := json.Marshal(f.got) // plain values cannot fail
		b, _ := json.Marshal(f.want)
		if string(a) != string(b) {
			return ErrSeedConflict(what, f.name, "%s %s, the seed says %s", f.name, a, b)
		}
	}
	return nil
}

// SeedRefused names a seed's entry (what: `certificate 7`) in a refusal
// that the API words for a request (a full integration, a duplicate), as
// EConflict: the store's other contents refuse the seed.
func SeedRefused(what string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: EConflict, Field: e.Field, Message: fmt.Sprintf("%s: %s", what, e.Message)}
	}
	return err
}
