// Package expirywebhook finds the expiry events accounts are owed and
// delivers them to their webhooks (README, "Expiry webhook").
//
// Every instance runs the same Notifier; the store makes that safe. Finding
// an event queues it in the store's outbox, where its (integration, epoch,
// event, days left) is unique, so the instances that find it at once store
// it once. Delivering first leases an event in the store, so one instance
// sends it; the outcome is recorded under the lease, and a failure is
// retried on the Schedule by whichever instance claims it next.
package expirywebhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/eventsign"
)

// Store is what the Notifier needs of ssod's store.
type Store interface {
	ListExpiryWatches(ctx context.Context) ([]ssod.ExpiryWatch, error)
	QueueExpiryEvent(ctx context.Context, ev ssod.ExpiryEvent) (bool, error)
	ClaimExpiryEvent(ctx context.Context, now, leaseUntil int64, token string) (*ssod.ExpiryClaim, error)
	FinishExpiryEvent(ctx context.Context, id int64, token string, a ssod.ExpiryAttempt) (bool, error)
}

// Poster sends a request body to a tenant's URL: outbound.Client, which
// enforces the policy on tenant-given URLs and the 10 s limit.
type Poster interface {
	Post(ctx context.Context, url string, header http.Header, body []byte) (int, error)
}

// Lease is how long a claimed event is held by its sender: well beyond one
// POST (10 s), so that only a sender that died loses it.
const Lease = 2 * time.Minute

// Delivery outcomes, the values of the metric's outcome label.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed" // given up
	OutcomeLost      = "lease_lost"
)

// Notifier evaluates integrations and delivers their events.
type Notifier struct {
	store      Store
	post       Poster
	log        *slog.Logger
	deliveries *prometheus.CounterVec
}

// New returns a Notifier; log may be nil.
func New(store Store, post Poster, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{
		store: store, post: post, log: log,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssod_expiry_webhook_deliveries_total",
			Help: "Expiry webhook delivery attempts by outcome: delivered, retry (will be tried again), failed (given up), lease_lost (another instance took the event over).",
		}, []string{"outcome"}),
	}
}

// Collector is the Notifier's metric, for the server's registry.
func (n *Notifier) Collector() prometheus.Collector { return n.deliveries }

// Evaluate queues the event each watched integration calls for at now, and
// returns how many were queued. After a renewal it looks again, so the new
// window's first threshold is queued in the same pass.
func (n *Notifier) Evaluate(ctx context.Context, now time.Time) (int, error) {
	ws, err := n.store.ListExpiryWatches(ctx)
	if err != nil {
		return 0, fmt.Errorf("expiry webhook: evaluate: %w", err)
	}
	queued := 0
	var errs []error // one integration's failure does not hold the others back
	for _, w := range ws {
		for range 2 { // at most a renewal and the new window's threshold
			ev, ok := ssod.NextExpiryEvent(w, now.Unix())
			if !ok {
				break
			}
			ev.EventID = rand.Text()
			stored, err := n.store.QueueExpiryEvent(ctx, ev)
			if err != nil {
				errs = append(errs, fmt.Errorf("expiry webhook: queue %s for %s: %w", ev.Event, ev.IntegrationID, err))
				break
			}
			if !stored {
				break // another instance got there first; it queues what follows
			}
			queued++
			n.log.Info("expiry event queued", "integration_id", ev.IntegrationID, "event", ev.Event, "days_left", ev.DaysLeft)
			if ev.Event != ssod.EventSigningRenewed {
				break
			}
			w.Epoch, w.Sent = w.Epoch+1, []ssod.ExpiryMark{{Event: ev.Event}}
		}
	}
	return queued, errors.Join(errs...)
}

// Deliver sends, one at a time, every event due at now, and returns how many
// were delivered. An event that fails is rescheduled past now, so each is
// tried at most once per call.
func (n *Notifier) Deliver(ctx context.Context, now time.Time) (int, error) {
	delivered := 0
	for ctx.Err() == nil {
		token := rand.Text()
		c, err := n.store.ClaimExpiryEvent(ctx, now.Unix(), now.Add(Lease).Unix(), token)
		if err != nil {
			return delivered, fmt.Errorf("expiry webhook: claim: %w", err)
		}
		if c == nil {
			return delivered, nil
		}
		if n.send(ctx, c, now) {
			delivered++
		}
	}
	return delivered, ctx.Err()
}

// eventJSON is one event as the receiver gets it.
type eventJSON struct {
	Event             string `json:"event"`
	IntegrationID     string `json:"integration_id"`
	DaysLeft          int    `json:"days_left"`
	SigningValidUntil *int64 `json:"signing_valid_until"`
	Timestamp         int64  `json:"timestamp"`
	EventID           string `json:"sg_event_id"`
}

// Payload is the body sent for ev: a JSON array, as SendGrid's Event
// Webhook posts, of one event.
func Payload(ev ssod.ExpiryEvent) []byte {
	b, _ := json.Marshal([]eventJSON{{ev.Event, ev.IntegrationID, ev.DaysLeft, ev.SigningValidUntil, ev.Timestamp, ev.EventID}}) // plain values cannot fail
	return b
}

// send posts one claimed event and records the outcome; it reports whether
// the receiver took it.
func (n *Notifier) send(ctx context.Context, c *ssod.ExpiryClaim, now time.Time) bool {
	body := Payload(c.ExpiryEvent)
	timestamp := strconv.FormatInt(now.Unix(), 10)
	var status int
	sig, err := eventsign.Sign(c.PrivateKey, timestamp, body)
	if err == nil {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(eventsign.SignatureHeader, sig)
		h.Set(eventsign.TimestampHeader, timestamp)
		status, err = n.post.Post(ctx, c.URL, h, body)
	}
	var a ssod.ExpiryAttempt
	switch {
	case err == nil && status >= 200 && status < 300:
		a.Status = ssod.DeliveryDelivered
	case ctx.Err() != nil:
		// Stopped, not refused: whoever claims it next sends it at once.
		a = ssod.ExpiryAttempt{Status: ssod.DeliveryPending, NextAttempt: now.Unix(), LastError: "interrupted: ssod stopped"}
	default:
		why := fmt.Sprintf("status %d", status)
		if err != nil {
			why = attemptError(err)
		}
		next, giveUp := Schedule(c.Timestamp, now.Unix(), c.Attempts+1)
		a = ssod.ExpiryAttempt{Status: ssod.DeliveryPending, NextAttempt: next, LastError: why}
		if giveUp {
			a = ssod.ExpiryAttempt{Status: ssod.DeliveryFailed, LastError: why}
		}
	}
	// Recorded even if ctx has ended: the attempt happened.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	held, ferr := n.store.FinishExpiryEvent(rec, c.ID, c.Token, a)
	outcome := map[string]string{ssod.DeliveryDelivered: OutcomeDelivered, ssod.DeliveryPending: OutcomeRetry, ssod.DeliveryFailed: OutcomeFailed}[a.Status]
	attrs := []any{"integration_id", c.IntegrationID, "event", c.Event, "days_left", c.DaysLeft, "attempt", c.Attempts + 1}
	switch {
	case ferr != nil:
		n.log.Error("expiry event: recording the attempt failed; it will be sent again", append(attrs, "outcome", outcome, "err", ferr)...)
	case !held:
		outcome = OutcomeLost
		n.log.Warn("expiry event: the lease ran out during the attempt; another instance took the event over", attrs...)
	case a.Status == ssod.DeliveryFailed:
		n.log.Error("expiry event: giving up after retrying for a day", append(attrs, "last_error", a.LastError)...)
	case a.Status == ssod.DeliveryPending:
		n.log.Warn("expiry event: delivery failed; will retry", append(attrs, "last_error", a.LastError, "next_attempt", a.NextAttempt)...)
	default:
		n.log.Info("expiry event delivered", attrs...)
	}
	n.deliveries.WithLabelValues(outcome).Inc()
	return a.Status == ssod.DeliveryDelivered && ferr == nil && held
}

// attemptError says why a POST failed without naming the URL, which may
// carry a secret of the receiver's (a token in its query): it is stored
// and logged.
func attemptError(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "no answer in time"
	}
	return err.Error()
}

// Run evaluates and delivers at once, then every interval and whenever wake
// receives, until ctx ends. now is the clock (test mode's in tests). Errors
// are logged; the next round tries again.
func (n *Notifier) Run(ctx context.Context, interval time.Duration, now func() time.Time, wake <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n.round(ctx, now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

func (n *Notifier) round(ctx context.Context, now time.Time) {
	if _, err := n.Evaluate(ctx, now); err != nil && !errors.Is(err, context.Canceled) {
		n.log.Error("expiry webhook: evaluation failed", "err", err)
	}
	if _, err := n.Deliver(ctx, now); err != nil && !errors.Is(err, context.Canceled) {
		n.log.Error("expiry webhook: delivery failed", "err", err)
	}
}

// Retry schedule (README, "Expiry webhook").
const (
	FirstRetry = 30 * time.Second
	MaxRetry   = time.Hour
	RetryFor   = 24 * time.Hour
)

// Schedule is when to try an event queued at queuedAt again after its
// attempts-th attempt failed at failedAt (Unix seconds): FirstRetry after
// the first failure, doubling after each, at most MaxRetry apart; giveUp
// once a failure comes RetryFor or more after the event was queued, so
// attempts span at least RetryFor.
func Schedule(queuedAt, failedAt int64, attempts int) (next int64, giveUp bool) {
	if failedAt-queuedAt >= int64(RetryFor/time.Second) {
		return 0, true
	}
	d := MaxRetry
	if attempts < 20 { // past that the shift would overflow; the cap holds anyway
		d = min(FirstRetry<<max(attempts-1, 0), MaxRetry)
	}
	return failedAt + int64(d/time.Second), false
}
