package ssod

import "context"

// Certificate is an IdP's X.509 signing certificate attached to one
// integration (SendGrid's "SSO Certificate").
type Certificate struct {
	ID            int64 // positive, unique in the deployment, never reused
	AccountID     int64
	IntegrationID string
	X509
	Enabled bool
}

// X509 is a certificate as ssod stores it: canonical PEM and the validity
// window read from it. Only the idpcert package builds one from user input.
type X509 struct {
	PEM       string
	NotBefore int64 // Unix seconds
	NotAfter  int64 // Unix seconds
}

// CertificateUpdate carries the fields of a create or PATCH request; nil means
// absent (PATCH: unchanged).
type CertificateUpdate struct {
	IntegrationID *string
	Enabled       *bool
	X509          *X509
}

// ValidateCreate reports the required fields missing from a create request.
func (u CertificateUpdate) ValidateCreate() error {
	var errs Errors
	if u.X509 == nil {
		errs = append(errs, FieldErrorf(ERequired, "public_certificate", "public_certificate is required"))
	}
	if u.IntegrationID == nil {
		errs = append(errs, FieldErrorf(ERequired, "integration_id", "integration_id is required"))
	}
	return errs.Err()
}

// Apply returns c with the fields present in u changed.
func (u CertificateUpdate) Apply(c Certificate) Certificate {
	if u.IntegrationID != nil {
		c.IntegrationID = *u.IntegrationID
	}
	if u.Enabled != nil {
		c.Enabled = *u.Enabled
	}
	if u.X509 != nil {
		c.X509 = *u.X509
	}
	return c
}

// ErrIntegrationNotYours is what certificate writes return when the named
// integration does not exist or belongs to another account; both look alike.
func ErrIntegrationNotYours() *Error {
	return FieldErrorf(EInvalid, "integration_id", "integration_id does not name one of your SSO integrations")
}

// CertificateStore keeps certificates. Every method is scoped to one account:
// another account's certificate is reported exactly as a missing one.
type CertificateStore interface {
	// CreateCertificate stores a certificate for an integration of the
	// account. u must have passed ValidateCreate; Enabled defaults to true.
	// Returns ErrIntegrationNotYours when the integration is not the
	// account's, ErrIntegrationFull when it holds
	// MaxCertificatesPerIntegration, ErrDuplicateCertificate when it holds
	// the same PEM; each checked atomically with the insert.
	CreateCertificate(ctx context.Context, accountID int64, u CertificateUpdate) (*Certificate, error)
	// GetCertificate returns ENotFound when the account has no such certificate.
	GetCertificate(ctx context.Context, accountID int64, id int64) (*Certificate, error)
	// UpdateCertificate applies u atomically. ENotFound as Get;
	// ErrIntegrationNotYours for a new integration that is not the account's,
	// ErrIntegrationFull for one that is full, ErrDuplicateCertificate when
	// the integration it ends in holds the same PEM in another certificate.
	// An update that changes no field writes nothing and records no audit event.
	UpdateCertificate(ctx context.Context, accountID int64, id int64, u CertificateUpdate) (*Certificate, error)
	// DeleteCertificate deletes and returns the certificate. ENotFound as Get.
	DeleteCertificate(ctx context.Context, accountID int64, id int64) (*Certificate, error)
	// ListCertificates returns an integration's certificates by ID ascending,
	// or ENotFound when the integration is not the account's.
	ListCertificates(ctx context.Context, accountID int64, integrationID string) ([]Certificate, error)
	// ListCertificateWindows returns every certificate of the account's
	// integrations, ordered by integration id then certificate id, without
	// the PEM (left empty): the inputs of SigningHorizon for a whole list of
	// integrations in one query rather than one per integration.
	ListCertificateWindows(ctx context.Context, accountID int64) ([]Certificate, error)
}

// ErrCertificateNotFound is what stores answer for a certificate id that is not
// the account's, whether it exists elsewhere or not.
func ErrCertificateNotFound(id int64) *Error {
	return Errorf(ENotFound, "SSO certificate %d not found", id)
}
