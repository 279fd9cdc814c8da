package ssod

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Integration is one IdP configuration of an account (SendGrid's "SSO
// Integration"). Certificates belong to exactly one integration.
type Integration struct {
	ID                   string // random UUID v4, lower case
	AccountID            int64
	Name                 string
	Enabled              bool
	SigninURL            string
	SignoutURL           string
	EntityID             string
	CompletedIntegration bool
	// JITProvisioning makes an unknown NameID that signs in through this
	// integration a new teammate with JITPersona.
	JITProvisioning bool
	JITPersona      string // one of Personas; DefaultJITPersona unless set
	LastUpdated     int64  // Unix seconds of the last change
	// MetadataURL is where the IdP publishes its metadata, re-read on a
	// schedule; "" when the integration is not kept up to date from one.
	MetadataURL string
	// MetadataRefreshedAt is when metadata last configured the integration
	// (Unix seconds); 0 never.
	MetadataRefreshedAt int64
	// MetadataError is why the last read of MetadataURL failed; "" after a
	// success.
	MetadataError string
	// MetadataClaimedAt is when an instance last took the integration's
	// scheduled refresh (Unix seconds).
	MetadataClaimedAt int64
}

// DefaultJITPersona is the persona of an integration created without one:
// the persona that may change nothing.
const DefaultJITPersona = PersonaObserver

// IntegrationUpdate carries the fields of a create or PATCH request. A nil
// field was absent from the request, which on PATCH means "leave unchanged".
type IntegrationUpdate struct {
	Name                 *string
	Enabled              *bool
	SigninURL            *string
	SignoutURL           *string
	EntityID             *string
	CompletedIntegration *bool
	JITProvisioning      *bool
	JITPersona           *string
}

// Limits on integration fields; generous for real IdPs, small enough that a
// row stays small.
const (
	MaxNameLength     = 255
	MaxURLLength      = 2048
	MaxEntityIDLength = 1024
)

// ValidateCreate reports every problem that stops u from creating an
// integration: all required fields present, and every field well formed.
func (u IntegrationUpdate) ValidateCreate() error {
	var errs Errors
	required := []struct {
		name    string
		missing bool
	}{
		{"name", u.Name == nil},
		{"enabled", u.Enabled == nil},
		{"signin_url", u.SigninURL == nil},
		{"signout_url", u.SignoutURL == nil},
		{"entity_id", u.EntityID == nil},
	}
	for _, r := range required {
		if r.missing {
			errs = append(errs, FieldErrorf(ERequired, r.name, "%s is required", r.name))
		}
	}
	errs = append(errs, u.problems()...)
	return errs.Err()
}

// Validate reports every malformed field of a PATCH request; absent fields
// are fine.
func (u IntegrationUpdate) Validate() error {
	return Errors(u.problems()).Err()
}

func (u IntegrationUpdate) problems() Errors {
	var errs Errors
	if u.Name != nil {
		if e := checkText("name", *u.Name, MaxNameLength); e != nil {
			errs = append(errs, e)
		}
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"signin_url", u.SigninURL}, {"signout_url", u.SignoutURL}} {
		if f.value == nil {
			continue
		}
		if e := checkURL(f.name, *f.value); e != nil {
			errs = append(errs, e)
		}
	}
	if u.EntityID != nil {
		if e := checkText("entity_id", *u.EntityID, MaxEntityIDLength); e != nil {
			errs = append(errs, e)
		}
	}
	if u.JITPersona != nil && !ValidPersona(*u.JITPersona) {
		errs = append(errs, FieldErrorf(EInvalid, "jit_persona", "jit_persona must be one of %s", strings.Join(Personas(), ", ")))
	}
	return errs
}

// Apply returns in with the fields present in u changed.
func (u IntegrationUpdate) Apply(in Integration) Integration {
	if u.Name != nil {
		in.Name = *u.Name
	}
	if u.Enabled != nil {
		in.Enabled = *u.Enabled
	}
	if u.SigninURL != nil {
		in.SigninURL = *u.SigninURL
	}
	if u.SignoutURL != nil {
		in.SignoutURL = *u.SignoutURL
	}
	if u.EntityID != nil {
		in.EntityID = *u.EntityID
	}
	if u.CompletedIntegration != nil {
		in.CompletedIntegration = *u.CompletedIntegration
	}
	if u.JITProvisioning != nil {
		in.JITProvisioning = *u.JITProvisioning
	}
	if u.JITPersona != nil {
		in.JITPersona = *u.JITPersona
	}
	return in
}

// checkText accepts a non-blank string of at most max bytes with no control
// characters, which would only ever be an injection attempt or a paste error.
// Blank means empty or white space only (Unicode's White_Space): it names
// nothing, and would show as nothing in a list.
func checkText(field, s string, max int) *Error {
	switch {
	case s == "":
		return FieldErrorf(EInvalid, field, "%s must not be empty", field)
	case strings.TrimFunc(s, unicode.IsSpace) == "":
		return FieldErrorf(EInvalid, field, "%s must not be blank", field)
	case len(s) > max:
		return FieldErrorf(EInvalid, field, "%s must be at most %d bytes", field, max)
	case !utf8.ValidString(s):
		return FieldErrorf(EInvalid, field, "%s must be valid UTF-8", field)
	case hasControl(s):
		return FieldErrorf(EInvalid, field, "%s must not contain control characters", field)
	}
	return nil
}

// checkURL accepts an absolute http or https URL with a host name and, if
// it names a port, a port from 1 to 65535: url.Parse alone accepts
// "https://:80", "https://idp:0", "https://idp:99999" and "https://idp:".
func checkURL(field, s string) *Error {
	if e := checkText(field, s, MaxURLLength); e != nil {
		return e
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return FieldErrorf(EInvalid, field, "%s must be an absolute http or https URL with a host", field)
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return FieldErrorf(EInvalid, field, "%s must have a port from 1 to 65535 if it names one", field)
		}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// IntegrationStore keeps integrations. Every method is scoped to one account:
// another account's integration is reported exactly as a missing one.
type IntegrationStore interface {
	// CreateIntegration stores a new integration built from u, which must
	// have passed ValidateCreate, with a fresh ID and LastUpdated = now.
	// ErrTooManyIntegrations when the account holds MaxIntegrationsPerAccount,
	// checked atomically with the insert.
	CreateIntegration(ctx context.Context, accountID int64, u IntegrationUpdate, now int64) (*Integration, error)
	// ListIntegrations returns the account's integrations, oldest first.
	ListIntegrations(ctx context.Context, accountID int64) ([]Integration, error)
	// GetIntegration returns ENotFound when the account has no such integration.
	GetIntegration(ctx context.Context, accountID int64, id string) (*Integration, error)
	// UpdateIntegration applies u and sets LastUpdated = now. ENotFound as Get.
	// An update that changes no field writes nothing: LastUpdated stays and
	// no audit event is recorded.
	UpdateIntegration(ctx context.Context, accountID int64, id string, u IntegrationUpdate, now int64) (*Integration, error)
	// DeleteIntegration deletes the integration and its certificates in one
	// transaction. ENotFound as Get.
	DeleteIntegration(ctx context.Context, accountID int64, id string) error
}

// ValidIntegrationID reports whether s has the shape of an integration ID:
// a lower-case UUID. Anything else cannot name an integration, so callers
// answer "not found" without asking the store.
func ValidIntegrationID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// NewIntegrationID returns a random (version 4) UUID in lower case.
// Integration ids are random so that one account cannot guess another's.
func NewIntegrationID() string {
	var b [16]byte
	rand.Read(b[:])         // never fails; see crypto/rand.Read
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ErrIntegrationNotFound is what stores answer for an integration id that is
// not the account's, whether it exists elsewhere or not.
func ErrIntegrationNotFound(id string) *Error {
	return Errorf(ENotFound, "SSO integration %q not found", id)
}
