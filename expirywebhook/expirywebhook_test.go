package expirywebhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/eventsign"
	"github.com/ssod/ssod/expirywebhook"
	"github.com/ssod/ssod/outbound"
	"github.com/ssod/ssod/postgres"
	"github.com/ssod/ssod/postgres/pgtest"
	"github.com/ssod/ssod/sqlite"
)

const (
	day = 24 * time.Hour
	t0  = int64(1_800_000_000)
)

func at(d time.Duration) time.Time { return time.Unix(t0, 0).Add(d) }

func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		want     int64
	}{{1, 30}, {2, 60}, {3, 120}, {4, 240}, {7, 1920}, {8, 3600}, {9, 3600}, {40, 3600}} {
		next, giveUp := expirywebhook.Schedule(0, 1000, tc.attempts)
		if giveUp || next-1000 != tc.want {
			t.Errorf("Schedule after attempt %d = +%d (give up %v), want +%d", tc.attempts, next-1000, giveUp, tc.want)
		}
	}
	// Failing for ever: how long and how often it is tried.
	queued, now, attempts := int64(0), int64(0), 1
	for {
		next, giveUp := expirywebhook.Schedule(queued, now, attempts)
		if giveUp {
			break
		}
		now, attempts = next, attempts+1
	}
	if now < int64(expirywebhook.RetryFor/time.Second) || now > int64((expirywebhook.RetryFor+expirywebhook.MaxRetry)/time.Second) {
		t.Errorf("gave up %v after the first attempt, want between 24 h and 25 h", time.Duration(now)*time.Second)
	}
	if attempts < 24 || attempts > 40 {
		t.Errorf("%d attempts in a day", attempts)
	}
}

// receiver is a webhook endpoint that fails the first failFirst posts of
// each event and records every post.
type receiver struct {
	*httptest.Server
	failFirst int
	delay     time.Duration

	mu    sync.Mutex
	posts []post
	tries map[string]int // by sg_event_id
}

type post struct {
	body                 []byte
	signature, timestamp string
	status               int
	event                eventJSON
}

type eventJSON struct {
	Event             string `json:"event"`
	IntegrationID     string `json:"integration_id"`
	DaysLeft          int    `json:"days_left"`
	SigningValidUntil *int64 `json:"signing_valid_until"`
	Timestamp         int64  `json:"timestamp"`
	EventID           string `json:"sg_event_id"`
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	rc := &receiver{failFirst: failFirst, tries: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var evs []eventJSON
		if err := json.Unmarshal(body, &evs); err != nil || len(evs) != 1 {
			t.Errorf("body %s is not an array of one event: %v", body, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		time.Sleep(rc.delay)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.tries[evs[0].EventID]++
		status := http.StatusNoContent
		if rc.tries[evs[0].EventID] <= rc.failFirst {
			status = http.StatusServiceUnavailable
		}
		rc.posts = append(rc.posts, post{body, r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader), status, evs[0]})
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// taken returns the events the receiver accepted, in order.
func (rc *receiver) taken() []eventJSON {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []eventJSON
	for _, p := range rc.posts {
		if p.status < 300 {
			out = append(out, p.event)
		}
	}
	return out
}

// verify checks every post's signature with sendgrid-go's helper, and that
// a tampered body fails it.
func (rc *receiver) verify(t *testing.T, publicKey []byte) {
	t.Helper()
	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(base64.StdEncoding.EncodeToString(publicKey))
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.posts) == 0 {
		t.Fatal("no post to verify")
	}
	for _, p := range rc.posts {
		if ok, err := eventwebhook.VerifySignature(key, p.body, p.signature, p.timestamp); !ok || err != nil {
			t.Errorf("post %s: signature does not verify: %v", p.body, err)
		}
		tampered := append([]byte(nil), p.body...)
		tampered[len(tampered)-2] = ' '
		if ok, _ := eventwebhook.VerifySignature(key, tampered, p.signature, p.timestamp); ok {
			t.Errorf("post %s: a tampered body verifies", p.body)
		}
	}
}

// fixture is an account with a webhook pointing at a receiver.
type fixture struct {
	ctx     context.Context
	store   ssod.Store
	account *ssod.Account
	hook    *ssod.ExpiryWebhook
}

func newFixture(t *testing.T, store ssod.Store, url string) *fixture {
	f := &fixture{ctx: t.Context(), store: store}
	var err error
	if f.account, err = store.CreateAccount(f.ctx, "acme", 0, t0); err != nil {
		t.Fatal(err)
	}
	private, public, err := eventsign.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if f.hook, err = store.PutExpiryWebhook(f.ctx, f.account.ID, url, true, ssod.SigningKey{Private: private, Public: public}); err != nil {
		t.Fatal(err)
	}
	return f
}

// integration creates an integration with one enabled certificate valid
// until t0 + validFor.
func (f *fixture) integration(t *testing.T, name string, enabled bool, validFor time.Duration) *ssod.Integration {
	t.Helper()
	ptr := func(s string) *string { return &s }
	in, err := f.store.CreateIntegration(f.ctx, f.account.ID, ssod.IntegrationUpdate{Name: ptr(name), Enabled: &enabled,
		SigninURL: ptr("https://idp.example.com/sso"), SignoutURL: ptr("https://idp.example.com/slo"), EntityID: ptr("https://idp.example.com/" + name)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	f.certificate(t, in.ID, 1, validFor)
	return in
}

func (f *fixture) certificate(t *testing.T, integrationID string, n int, validFor time.Duration) {
	t.Helper()
	_, err := f.store.CreateCertificate(f.ctx, f.account.ID, ssod.CertificateUpdate{IntegrationID: &integrationID,
		X509: &ssod.X509{PEM: fmt.Sprintf("cert %s %d", integrationID, n), NotBefore: t0 - int64(30*day/time.Second), NotAfter: at(validFor).Unix()}})
	if err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T) ssod.Store {
	s, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, dsn string) ssod.Store {
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func client() *outbound.Client { return outbound.New(outbound.Policy{AllowPrivate: true}) }

// round is what each instance does on a tick.
func round(t *testing.T, n *expirywebhook.Notifier, now time.Time) {
	t.Helper()
	if _, err := n.Evaluate(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Deliver(t.Context(), now); err != nil {
		t.Fatal(err)
	}
}

type sent struct {
	event string
	days  int
}

func summary(evs []eventJSON) []sent {
	out := []sent{}
	for _, e := range evs {
		out = append(out, sent{e.Event, e.DaysLeft})
	}
	return out
}

// TestThresholds drives one integration through a certificate's life with
// a clock the test chooses, and a renewal.
func TestThresholds(t *testing.T) {
	rc := newReceiver(t, 0)
	f := newFixture(t, openSQLite(t), rc.URL)
	in := f.integration(t, "okta", true, 100*day)
	f.integration(t, "disabled", false, 3*day) // sends nothing
	n := expirywebhook.New(f.store, client(), nil)

	steps := []struct {
		at   time.Duration
		want []sent
	}{
		{0, nil},
		{10*day - time.Second, nil},
		{10*day + time.Second, []sent{{ssod.EventSigningExpiring, 90}}},
		{20 * day, nil},
		{70*day + time.Second, []sent{{ssod.EventSigningExpiring, 30}}},
		{99*day + time.Hour, []sent{{ssod.EventSigningExpiring, 1}}}, // 7 was never seen: only the tightest
		{99*day + 2*time.Hour, nil},
		{100*day + time.Second, []sent{{ssod.EventSigningBroken, 0}}},
		{110 * day, nil},
	}
	for _, s := range steps {
		before := len(rc.taken())
		round(t, n, at(s.at))
		if got := summary(rc.taken()[before:]); fmt.Sprint(got) != fmt.Sprint(append([]sent{}, s.want...)) {
			t.Fatalf("at t0+%v: sent %v, want %v", s.at, got, s.want)
		}
	}
	// A new certificate, valid for a year from now: renewed, then 90 days
	// before its end the thresholds start again.
	f.certificate(t, in.ID, 2, 110*day+365*day)
	round(t, n, at(110*day))
	round(t, n, at(110*day+time.Hour))
	round(t, n, at(110*day+276*day))
	got := summary(rc.taken())
	want := []sent{{ssod.EventSigningExpiring, 90}, {ssod.EventSigningExpiring, 30}, {ssod.EventSigningExpiring, 1},
		{ssod.EventSigningBroken, 0}, {ssod.EventSigningRenewed, 0}, {ssod.EventSigningExpiring, 90}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
	evs := rc.taken()
	if evs[0].IntegrationID != in.ID || evs[0].SigningValidUntil == nil || *evs[0].SigningValidUntil != at(100*day).Unix() ||
		evs[0].Timestamp != at(10*day+time.Second).Unix() || evs[3].SigningValidUntil != nil ||
		*evs[4].SigningValidUntil != at(475*day).Unix() || evs[0].EventID == "" || evs[0].EventID == evs[1].EventID {
		t.Errorf("events: %+v", evs)
	}
	rc.verify(t, f.hook.PublicKey)
}

// TestRetries shows the schedule on a receiver that fails three times, and
// giving up on one that always fails.
func TestRetries(t *testing.T) {
	rc := newReceiver(t, 3)
	f := newFixture(t, openSQLite(t), rc.URL)
	f.integration(t, "okta", true, 20*day)
	n := expirywebhook.New(f.store, client(), nil)
	for _, step := range []struct {
		at    time.Duration
		posts int
	}{{0, 1}, {29 * time.Second, 1}, {30 * time.Second, 2}, {89 * time.Second, 2}, {90 * time.Second, 3}, {210 * time.Second, 4}, {time.Hour, 4}} {
		round(t, n, at(step.at))
		rc.mu.Lock()
		got := len(rc.posts)
		rc.mu.Unlock()
		if got != step.posts {
			t.Fatalf("at +%v: %d posts, want %d", step.at, got, step.posts)
		}
	}
	for _, p := range rc.posts {
		if string(p.body) != string(rc.posts[0].body) {
			t.Fatalf("a retry is not the same event: %s, then %s", rc.posts[0].body, p.body)
		}
	}
	rc.verify(t, f.hook.PublicKey)
	evs, err := f.store.ListExpiryEvents(f.ctx, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != ssod.DeliveryDelivered || evs[0].Attempts != 4 {
		t.Fatalf("outbox: %+v", evs)
	}

	// A receiver that never takes it: tried for a day, then given up.
	rc.failFirst = 1 << 30
	f.integration(t, "onelogin", true, 5*day)
	now := at(2 * time.Hour)
	round(t, n, now)
	for range 100 {
		evs, err = f.store.ListExpiryEvents(f.ctx, f.account.ID)
		if err != nil {
			t.Fatal(err)
		}
		if evs[1].Status != ssod.DeliveryPending {
			break
		}
		now = time.Unix(evs[1].NextAttempt, 0)
		round(t, n, now)
	}
	if evs[1].Status != ssod.DeliveryFailed || now.Sub(at(2*time.Hour)) < 24*time.Hour || evs[1].LastError != "status 503" {
		t.Fatalf("after %v: %+v", now.Sub(at(2*time.Hour)), evs[1])
	}
}

// TestAttemptErrorsHideTheURL: a receiver's URL may hold a secret; what is
// stored and logged of a failed attempt does not.
func TestAttemptErrorsHideTheURL(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	f := newFixture(t, openSQLite(t), closed.URL+"/hook?token=s3cret")
	f.integration(t, "okta", true, 20*day)
	var logs bytes.Buffer
	n := expirywebhook.New(f.store, client(), slog.New(slog.NewTextHandler(&logs, nil)))
	round(t, n, at(0))
	evs, err := f.store.ListExpiryEvents(f.ctx, f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Attempts != 1 || evs[0].LastError == "" || strings.Contains(evs[0].LastError, "s3cret") {
		t.Errorf("outbox: %+v", evs)
	}
	if !strings.Contains(logs.String(), "will retry") || strings.Contains(logs.String(), "s3cret") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// TestExactlyOnceAcrossInstances races two instances on one PostgreSQL
// database through every threshold of several integrations, against a
// receiver that fails each event's first two posts: each event must be
// taken exactly once, after exactly three posts.
func TestExactlyOnceAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	rc := newReceiver(t, 2)
	rc.delay = 5 * time.Millisecond // widens the windows in which the two race
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	f := newFixture(t, a, rc.URL)
	const integrations = 4
	for i := range integrations {
		f.integration(t, fmt.Sprint("idp-", i), true, 100*day)
	}
	instances := []*expirywebhook.Notifier{expirywebhook.New(a, client(), nil), expirywebhook.New(b, client(), nil)}
	for _, phase := range []time.Duration{11 * day, 71 * day, 94 * day, 99*day + time.Hour, 101 * day} {
		for _, retry := range []time.Duration{0, 30 * time.Second, 90 * time.Second} {
			var wg sync.WaitGroup
			for _, n := range instances {
				wg.Go(func() { round(t, n, at(phase+retry)) })
			}
			wg.Wait()
		}
	}
	taken := rc.taken()
	if len(taken) != integrations*5 {
		t.Errorf("%d events taken, want %d", len(taken), integrations*5)
	}
	seen := map[string]bool{}
	for _, e := range taken {
		k := fmt.Sprint(e.IntegrationID, e.Event, e.DaysLeft)
		if seen[k] {
			t.Errorf("%s taken twice", k)
		}
		seen[k] = true
	}
	rc.mu.Lock()
	for id, tries := range rc.tries {
		if tries != 3 {
			t.Errorf("event %s posted %d times, want 3", id, tries)
		}
	}
	if len(rc.tries) != integrations*5 {
		t.Errorf("%d distinct sg_event_ids, want %d", len(rc.tries), integrations*5)
	}
	rc.mu.Unlock()
	rc.verify(t, f.hook.PublicKey)
}
