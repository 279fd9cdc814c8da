package ssod

import "context"

// Snapshot is every row a store holds, ids and all, for moving a deployment
// from one backend to another without changing a single id.
type Snapshot struct {
	Accounts     []Account     // by ID; a parent before its subusers
	Keys         []APIKey      // by ID
	Integrations []Integration // oldest first, the order lists show
	Certificates []Certificate // by ID
	AuditEvents  []AuditEvent  // by ID
	Teammates    []Teammate    // oldest first
	// LastCertificateID is the highest certificate id ever handed out,
	// deleted ones included, so that the copy never reuses one either.
	LastCertificateID int64
	// What sign-in remembers, so that a request or an assertion used once
	// before the copy cannot be used again after it.
	AuthnRequests []SignInRecord // outstanding AuthnRequests, by integration then ID
	Assertions    []SignInRecord // accepted assertions, by integration then ID
	LoginTraces   []LoginTrace   // by ID
	// LastLoginTraceID is the highest trace id ever handed out.
	LastLoginTraceID int64
}

// SignInRecord is a remembered AuthnRequest or accepted assertion: its ID,
// remembered for IntegrationID until ExpiresAt.
type SignInRecord struct {
	IntegrationID string
	ID            string
	ExpiresAt     int64
}

// Exporter reads a whole store.
type Exporter interface {
	// Export returns every row, read in one transaction.
	Export(ctx context.Context) (*Snapshot, error)
}

// Importer fills an empty store.
type Importer interface {
	// Import writes every row of s with its ids, in one transaction, so that
	// later ids continue after the highest imported. It returns EConflict,
	// writing nothing, unless the store is empty.
	Import(ctx context.Context, s *Snapshot) error
}
