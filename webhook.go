package ssod

import "context"

// Expiry webhook events (README, "Expiry webhook").
const (
	EventSigningExpiring = "sso.signing.expiring"
	EventSigningBroken   = "sso.signing.broken"
	EventSigningRenewed  = "sso.signing.renewed"
)

// ExpiryThresholds are the days before an integration's signing horizon at
// which an expiring event is sent, widest first.
var ExpiryThresholds = [...]int{90, 30, 7, 1}

// Audit operations on the expiry webhook; the object id is ExpiryWebhookObject.
const (
	AuditExpiryWebhookUpdate = "expiry_webhook.update"
	AuditExpiryWebhookDelete = "expiry_webhook.delete"
	ExpiryWebhookObject      = "expiry-webhook"
)

// ExpiryWebhook is where an account is told of its integrations' signing
// horizons, and the public half of the key its events are signed with.
type ExpiryWebhook struct {
	AccountID int64
	URL       string
	Enabled   bool
	PublicKey []byte // PKIX DER of an ECDSA P-256 key
}

// ErrExpiryWebhookNotFound is what stores answer for an account without an
// expiry webhook.
func ErrExpiryWebhookNotFound() *Error {
	return Errorf(ENotFound, "no expiry webhook is set")
}

// SigningKey is an account's webhook signing key pair. The private half
// stays in the store and in the process that signs.
type SigningKey struct {
	Private []byte // PKCS #8 DER
	Public  []byte // PKIX DER
}

// ExpiryMark is an event already queued for an integration in its current
// warning window.
type ExpiryMark struct {
	Event    string
	DaysLeft int
}

// ExpiryWatch is what the evaluator needs of one enabled integration whose
// account has an enabled webhook.
type ExpiryWatch struct {
	AccountID     int64
	IntegrationID string
	// Epoch counts the integration's renewals: a renewal starts a new
	// warning window, in which every threshold may fire again.
	Epoch        int64
	Sent         []ExpiryMark  // queued in this epoch
	Certificates []Certificate // windows only, as ListCertificateWindows
}

// Delivery states of an ExpiryEvent.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // given up after the retry period
)

// ExpiryEvent is one event in the outbox, unique per (integration, epoch,
// event, days left).
type ExpiryEvent struct {
	ID                int64
	AccountID         int64
	IntegrationID     string
	Epoch             int64
	Event             string
	DaysLeft          int    // the threshold for expiring; 0 otherwise
	SigningValidUntil *int64 // nil when broken
	Timestamp         int64  // Unix seconds the event was found
	EventID           string // sg_event_id, for receivers to drop duplicates
	Status            string
	Attempts          int
	NextAttempt       int64
	LastError         string
}

// ExpiryClaim is a due event leased to one sender, with what it needs to
// send it.
type ExpiryClaim struct {
	ExpiryEvent
	Token      string // the lease; FinishExpiryEvent must present it
	URL        string
	PrivateKey []byte // PKCS #8 DER
}

// ExpiryAttempt is the outcome of one send.
type ExpiryAttempt struct {
	Status      string // DeliveryDelivered, DeliveryPending (retry) or DeliveryFailed
	NextAttempt int64  // for DeliveryPending
	LastError   string // "" when delivered
}

// ExpiryWebhookStore keeps accounts' expiry webhooks and the outbox of
// their events.
type ExpiryWebhookStore interface {
	// PutExpiryWebhook sets the account's webhook. key is stored only if the
	// account has none yet: the key is made once per account, and the
	// returned webhook carries the one kept. Records an audit event.
	PutExpiryWebhook(ctx context.Context, accountID int64, url string, enabled bool, key SigningKey) (*ExpiryWebhook, error)
	// GetExpiryWebhook returns ENotFound when the account has none.
	GetExpiryWebhook(ctx context.Context, accountID int64) (*ExpiryWebhook, error)
	// DeleteExpiryWebhook removes it (the key stays); ENotFound when there is
	// none. Records an audit event.
	DeleteExpiryWebhook(ctx context.Context, accountID int64) error
	// ListExpiryWatches returns every enabled integration of the accounts
	// with an enabled webhook, with its epoch, the events queued in it and
	// its certificates' windows, read in one snapshot.
	ListExpiryWatches(ctx context.Context) ([]ExpiryWatch, error)
	// QueueExpiryEvent adds ev to the outbox, atomically with the check that
	// ev.Epoch is still the integration's epoch. A renewed event moves the
	// epoch from ev.Epoch to ev.Epoch+1 and is stored in the new one. It
	// reports false, writing nothing, when the epoch has moved or the same
	// (integration, epoch, event, days left) is already queued: whichever
	// instance queues first wins.
	QueueExpiryEvent(ctx context.Context, ev ExpiryEvent) (bool, error)
	// ClaimExpiryEvent leases the oldest pending event due at now whose
	// lease is free and whose account's webhook is enabled, until
	// leaseUntil, under token. nil when there is none.
	ClaimExpiryEvent(ctx context.Context, now, leaseUntil int64, token string) (*ExpiryClaim, error)
	// FinishExpiryEvent records an attempt on a claimed event, counting it,
	// and frees the lease. It reports false, writing nothing, when token no
	// longer holds the lease.
	FinishExpiryEvent(ctx context.Context, id int64, token string, a ExpiryAttempt) (bool, error)
	// ListExpiryEvents returns the account's events, oldest first.
	ListExpiryEvents(ctx context.Context, accountID int64) ([]ExpiryEvent, error)
}

// QueuedMark is an ExpiryMark of one integration, as a store reads them all
// at once.
type QueuedMark struct {
	IntegrationID string
	ExpiryMark
}

// AttachToWatches gives each watch its certificates and the marks queued in
// its epoch; the rest (other integrations') are ignored. Stores read the
// three lists in one snapshot and join them here.
func AttachToWatches(ws []ExpiryWatch, certs []Certificate, marks []QueuedMark) {
	at := make(map[string]int, len(ws))
	for i, w := range ws {
		at[w.IntegrationID] = i
	}
	for _, c := range certs {
		if i, ok := at[c.IntegrationID]; ok {
			ws[i].Certificates = append(ws[i].Certificates, c)
		}
	}
	for _, m := range marks {
		if i, ok := at[m.IntegrationID]; ok {
			ws[i].Sent = append(ws[i].Sent, m.ExpiryMark)
		}
	}
}
