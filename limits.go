package ssod

// Limits on what one account may hold, so that what one request can cost
// (a list, a duplicate check) stays bounded whatever a tenant stores. Both
// are far above what an SSO setup needs: an IdP rotates its signing
// certificate with one or two side by side, and an account configures a
// handful of IdPs. The README states them.
const (
	// MaxCertificatesPerIntegration bounds an integration's certificate
	// list: at most 100 of at most 16 KiB PEM each, about 1.7 MB of JSON.
	MaxCertificatesPerIntegration = 100
	// MaxIntegrationsPerAccount bounds an account's integration list: at
	// most 1,000 of at most about 6 KB each, about 6 MB of JSON.
	MaxIntegrationsPerAccount = 1000
)

// ErrIntegrationFull is what certificate writes return when the integration
// that would receive a certificate already holds the most it may.
func ErrIntegrationFull() *Error {
	return FieldErrorf(EInvalid, "integration_id",
		"the SSO integration already holds %d certificates, the most it may; delete one first", MaxCertificatesPerIntegration)
}

// ErrTooManyIntegrations is what CreateIntegration returns when the account
// already holds the most integrations it may.
func ErrTooManyIntegrations() *Error {
	return Errorf(EInvalid, "the account already holds %d SSO integrations, the most it may; delete one first", MaxIntegrationsPerAccount)
}

// ErrDuplicateCertificate is what certificate writes return when the
// integration already holds the same certificate (the same DER, so the same
// canonical PEM) as certificate id: a second copy would verify nothing more
// and only hide which one a later PATCH or DELETE should touch.
func ErrDuplicateCertificate(id int64) *Error {
	return FieldErrorf(EInvalid, "public_certificate",
		"the SSO integration already holds this certificate as certificate %d", id)
}
