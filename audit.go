package ssod

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
)

// Actor is who makes a change, for the audit trail: the account whose key
// was used (a parent's, under On-Behalf-Of) and the key's public ID.
type Actor struct {
	AccountID int64
	KeyID     string
}

type actorKey struct{}

// WithActor returns ctx carrying a; stores record it with every change made
// under ctx, in the change's own transaction.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the zero Actor for changes made
// outside an API request (the command line).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// Audit operations.
const (
	AuditIntegrationCreate = "integration.create"
	AuditIntegrationUpdate = "integration.update"
	AuditIntegrationDelete = "integration.delete"
	AuditCertificateCreate = "certificate.create"
	AuditCertificateUpdate = "certificate.update"
	AuditCertificateDelete = "certificate.delete"
	AuditTeammateCreate    = "teammate.create"
	AuditTeammateUpdate    = "teammate.update"
	AuditTeammateDelete    = "teammate.delete"
	// AuditTeammateJIT is a teammate created by just-in-time provisioning
	// at sign-in; its actor is the zero Actor.
	AuditTeammateJIT = "teammate.jit_create"
)

// AuditEvent records one change of an integration, a certificate or a
// teammate.
type AuditEvent struct {
	ID             int64
	At             int64 // Unix seconds
	AccountID      int64 // the account whose object changed
	ActorAccountID int64 // the account whose key made the change; 0 outside the API
	KeyID          string
	Operation      string
	ObjectID       string
	Before         string // JSON summary of the object before; "" on create
	After          string // JSON summary after; "" on delete
}

// NewAuditEvent builds the event for a change made under ctx. before and
// after are *Integration, *Certificate, *Teammate or *ExpiryWebhook, or nil.
func NewAuditEvent(ctx context.Context, at, accountID int64, op, objectID string, before, after any) AuditEvent {
	a := ActorFrom(ctx)
	return AuditEvent{
		At: at, AccountID: accountID, ActorAccountID: a.AccountID, KeyID: a.KeyID,
		Operation: op, ObjectID: objectID, Before: auditSummary(before), After: auditSummary(after),
	}
}

// auditSummary describes an object without certificate bodies: a
// certificate is named by its SHA-256 fingerprint and validity window.
func auditSummary(v any) string {
	var s any
	switch o := v.(type) {
	case *Integration:
		if o == nil {
			return ""
		}
		s = struct {
			Name                 string `json:"name"`
			Enabled              bool   `json:"enabled"`
			SigninURL            string `json:"signin_url"`
			SignoutURL           string `json:"signout_url"`
			EntityID             string `json:"entity_id"`
			CompletedIntegration bool   `json:"completed_integration"`
			JITProvisioning      bool   `json:"jit_provisioning"`
			JITPersona           string `json:"jit_persona"`
			MetadataURL          string `json:"metadata_url,omitempty"`
		}{o.Name, o.Enabled, o.SigninURL, o.SignoutURL, o.EntityID, o.CompletedIntegration, o.JITProvisioning, o.JITPersona, o.MetadataURL}
	case *Certificate:
		if o == nil {
			return ""
		}
		s = struct {
			IntegrationID string `json:"integration_id"`
			Enabled       bool   `json:"enabled"`
			SHA256        string `json:"sha256"`
			NotBefore     int64  `json:"not_before"`
			NotAfter      int64  `json:"not_after"`
		}{o.IntegrationID, o.Enabled, Fingerprint(o.PEM), o.NotBefore, o.NotAfter}
	case *Teammate:
		if o == nil {
			return ""
		}
		type access struct {
			ID             int64    `json:"id"`
			PermissionType string   `json:"permission_type"`
			Scopes         []string `json:"scopes"`
		}
		subs := make([]access, len(o.SubuserAccess))
		for i, a := range o.SubuserAccess {
			subs[i] = access{a.SubuserID, a.PermissionType, a.Scopes}
		}
		s = struct {
			Username                   string   `json:"username"`
			FirstName                  string   `json:"first_name"`
			LastName                   string   `json:"last_name"`
			IsAdmin                    bool     `json:"is_admin"`
			Persona                    string   `json:"persona"`
			Scopes                     []string `json:"scopes"`
			HasRestrictedSubuserAccess bool     `json:"has_restricted_subuser_access"`
			SubuserAccess              []access `json:"subuser_access"`
		}{o.Username, o.FirstName, o.LastName, o.IsAdmin, o.Persona, o.Scopes, o.HasRestrictedSubuserAccess, subs}
	case *ExpiryWebhook:
		if o == nil {
			return ""
		}
		s = struct {
			URL     string `json:"url"`
			Enabled bool   `json:"enabled"`
		}{o.URL, o.Enabled}
	default:
		return ""
	}
	b, _ := json.Marshal(s) // plain structs of strings, bools and ints cannot fail
	return string(b)
}

// Fingerprint is the hex SHA-256 of a PEM certificate's DER, the usual way
// to name a certificate without its body.
func Fingerprint(pemText string) string {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return ""
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:])
}

// AuditStore reads the audit trail; stores write it as part of each change.
type AuditStore interface {
	// ListAuditEvents returns the newest events first, at most limit, of one
	// account or of all when accountID is 0.
	ListAuditEvents(ctx context.Context, accountID int64, limit int) ([]AuditEvent, error)
}
