package ssod

import "context"

// IdPMetadata is what an integration takes from its IdP's SAML metadata.
type IdPMetadata struct {
	EntityID   string
	SigninURL  string
	SignoutURL string
	// Certificates are the signing certificates the IdP publishes, each once.
	Certificates []X509
}

// MetadataImport creates or updates an integration from its IdP's metadata.
type MetadataImport struct {
	// Name and Enabled are the request's; required to create, optional to update.
	Name    *string
	Enabled *bool
	// URL is where the metadata was read from: "" for pasted XML, which
	// forgets a stored URL; nil (a refresh) keeps the stored one.
	URL      *string
	Metadata IdPMetadata
}

// Update is the change m makes to an integration's own fields.
func (m MetadataImport) Update() IntegrationUpdate {
	return IntegrationUpdate{
		Name: m.Name, Enabled: m.Enabled,
		SigninURL: &m.Metadata.SigninURL, SignoutURL: &m.Metadata.SignoutURL, EntityID: &m.Metadata.EntityID,
	}
}

// Apply returns in as m leaves it, but for its certificates: the fields
// Update sets, and the metadata URL.
func (m MetadataImport) Apply(in Integration) Integration {
	in = m.Update().Apply(in)
	if m.URL != nil {
		in.MetadataURL = *m.URL
	}
	return in
}

// Imported returns the integration that importing m at now makes of old
// (nil: a new integration, given id and accountID), and whether its own
// fields changed, which is what moves LastUpdated and is audited.
func (m MetadataImport) Imported(old *Integration, id string, accountID int64, now int64) (Integration, bool) {
	if old == nil {
		in := m.Apply(Integration{ID: id, AccountID: accountID, JITPersona: DefaultJITPersona, LastUpdated: now})
		in.MetadataRefreshedAt, in.MetadataClaimedAt = now, now
		return in, true
	}
	in := m.Apply(*old)
	changed := in != *old
	if changed {
		in.LastUpdated = now
	}
	in.MetadataRefreshedAt, in.MetadataError, in.MetadataClaimedAt = now, "", now
	return in, changed
}

// Validate reports what stops m from creating (create) or updating an
// integration, as ValidateCreate and Validate do for the API's requests.
func (m MetadataImport) Validate(create bool) error {
	if create {
		return m.Update().ValidateCreate()
	}
	return m.Update().Validate()
}

// MetadataStore keeps what integrations read from their IdPs' metadata.
type MetadataStore interface {
	// ImportMetadata creates an integration from m (id "") or updates the
	// account's integration id, in one transaction: its fields as
	// MetadataImport.Apply sets them, MetadataRefreshedAt = now and
	// MetadataError cleared; every certificate of m it does not hold added,
	// enabled; every enabled certificate it holds that m lacks disabled
	// (never deleted). Each change is validated, limited and audited as the
	// integration and certificate methods do theirs (ErrTooManyIntegrations,
	// ErrIntegrationFull, ENotFound as GetIntegration). LastUpdated moves
	// only when the integration's own fields change.
	ImportMetadata(ctx context.Context, accountID int64, id string, m MetadataImport, now int64) (*Integration, error)
	// RecordMetadataFailure notes why the last read of the integration's
	// metadata URL failed, leaving everything else as it is. ENotFound as
	// GetIntegration.
	RecordMetadataFailure(ctx context.Context, accountID int64, id, message string) error
	// ClaimMetadataRefreshes returns at most limit integrations, of any
	// account, with a metadata URL not claimed since due, and marks them
	// claimed at now in the same statement, so that of several instances
	// exactly one refreshes each.
	ClaimMetadataRefreshes(ctx context.Context, due, now int64, limit int) ([]Integration, error)
}

// TruncateMetadataError makes a failure message storable: valid UTF-8 with
// no NUL, at most MaxLoginTraceText bytes, as login trace messages are.
func TruncateMetadataError(s string) string { return boundText(s) }

// CertificateChanges is the rule of a metadata import for an integration's
// certificates: of published, those held lacks are added (each once); of
// held, the enabled ones published lacks are disabled. A certificate is the
// same when its canonical PEM is, as the duplicate rule has it.
func CertificateChanges(held []Certificate, published []X509) (adds []X509, disables []Certificate) {
	have := make(map[string]bool, len(held))
	for _, c := range held {
		have[c.PEM] = true
	}
	want := make(map[string]bool, len(published))
	for _, x := range published {
		want[x.PEM] = true
		if !have[x.PEM] {
			have[x.PEM] = true
			adds = append(adds, x)
		}
	}
	for _, c := range held {
		if c.Enabled && !want[c.PEM] {
			disables = append(disables, c)
		}
	}
	return adds, disables
}
