package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/internal/testenv"
	"github.com/ssod/ssod/postgres/pgtest"
)

// twoInstances starts two `ssod serve` on one fresh PostgreSQL database, as
// a load balancer would see them, and returns them with one shared key.
func twoInstances(t *testing.T, args ...string) (a, b *testServer, key string) {
	dsn := pgtest.DSN(t)
	a = startServer(t, dsn, args...)
	b = startServer(t, dsn, args...)
	if a.Key == "" || b.Key != "" {
		t.Fatalf("first-start key printed by %q and %q: want exactly the first instance", a.Key, b.Key)
	}
	return a, b, a.Key
}

func TestClusterReadsOwnWritesAcrossInstances(t *testing.T) {
	a, b, key := twoInstances(t)
	ca, cb := a.client(key), b.client(key)
	in := ca.createIntegration("written through A")
	if got := decode[integrationResp](t, cb.do("GET", "/v3/sso/integrations/"+in.ID, nil)); got.Name != "written through A" {
		t.Fatalf("B reads %+v", got)
	}
	cert := cb.createCertificate(in.ID, testcert.New(t, testcert.Options{}).PEM)
	if r := ca.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", cert.ID), nil); r.Status != 200 {
		t.Fatalf("A cannot read B's certificate: %d", r.Status)
	}
	// B reads the certificate before every PATCH through A, so its copy is
	// in B's cache when the PATCH answers.
	path := fmt.Sprintf("/v3/sso/certificates/%d", cert.ID)
	for round := range 20 {
		enabled := round%2 == 1
		cb.do("GET", path, nil)
		if r := ca.do("PATCH", path, map[string]any{"enabled": enabled}); r.Status != 200 {
			t.Fatalf("PATCH through A -> %d %s", r.Status, r.Body)
		}
		if got := decode[certificateResp](t, cb.do("GET", path, nil)); *got.Enabled != enabled {
			t.Fatalf("round %d: B serves enabled=%v after A's PATCH to %v", round, *got.Enabled, enabled)
		}
	}
	if r := ca.do("DELETE", path, nil); r.Status != 200 {
		t.Fatalf("DELETE through A -> %d %s", r.Status, r.Body)
	}
	if r := cb.do("GET", path, nil); r.Status != 404 {
		t.Fatalf("B answers %d for a certificate A deleted", r.Status)
	}
}

func TestClusterConcurrentPatchesNeverMix(t *testing.T) {
	a, b, key := twoInstances(t, "--rate-limit", "off")
	ca, cb := a.client(key), b.client(key)
	in := ca.createIntegration("contended")
	other := ca.createIntegration("other")
	certs := []testcert.Cert{testcert.New(t, testcert.Options{CommonName: "one"}), testcert.New(t, testcert.Options{CommonName: "two"})}
	target := ca.createCertificate(in.ID, certs[0].PEM)
	path := fmt.Sprintf("/v3/sso/certificates/%d", target.ID)

	// Each write sets all three fields to values that belong together; a
	// mix of two writes would pair a certificate with the other's fields.
	writes := []map[string]any{
		{"public_certificate": certs[0].PEM, "enabled": true, "integration_id": in.ID},
		{"public_certificate": certs[1].PEM, "enabled": false, "integration_id": other.ID},
	}
	for round := range 10 {
		var wg sync.WaitGroup
		for i, c := range []*client{ca, cb, ca, cb} {
			wg.Go(func() {
				if r := c.do("PATCH", path, writes[i%2]); r.Status != 200 {
					t.Errorf("round %d: PATCH -> %d %s", round, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		got := decode[certificateResp](t, cb.do("GET", path, nil))
		one := got.PublicCertificate == certs[0].PEM && *got.Enabled && got.IntegrationID == in.ID
		two := got.PublicCertificate == certs[1].PEM && !*got.Enabled && got.IntegrationID == other.ID
		if !one && !two {
			t.Fatalf("round %d: certificate is a mix of two writes: enabled=%v integration=%s", round, *got.Enabled, got.IntegrationID)
		}
	}
}

func TestClusterDeleteIntegrationLeavesNoOrphans(t *testing.T) {
	a, b, key := twoInstances(t, "--rate-limit", "off")
	ca, cb := a.client(key), b.client(key)
	// A certificate of its own for every POST: a duplicate would be refused
	// (400) just as one for a deleted integration is.
	pems := make([]string, 30)
	for i := range pems {
		pems[i] = testcert.New(t, testcert.Options{}).PEM
	}
	for round := range 5 {
		in := ca.createIntegration(fmt.Sprint("doomed ", round))
		var (
			mu    sync.Mutex
			acked []int64
			wg    sync.WaitGroup
		)
		for g := range 3 {
			wg.Go(func() {
				for i := range 10 {
					r := cb.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": pems[g*10+i], "integration_id": in.ID})
					switch r.Status {
					case http.StatusOK:
						mu.Lock()
						if c, ok := decodeInGoroutine[certificateResp](t, r); ok {
							acked = append(acked, c.ID)
						}
						mu.Unlock()
					case http.StatusBadRequest: // the integration is gone: refused, as it must be
					default:
						t.Errorf("POST during delete -> %d %s", r.Status, r.Body)
					}
				}
			})
		}
		time.Sleep(time.Duration(round) * 5 * time.Millisecond)
		if r := ca.do("DELETE", "/v3/sso/integrations/"+in.ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE -> %d", r.Status)
		}
		wg.Wait()
		// Every certificate acknowledged for the deleted integration is gone.
		for _, id := range acked {
			if r := ca.do("GET", fmt.Sprintf("/v3/sso/certificates/%d", id), nil); r.Status != http.StatusNotFound {
				t.Fatalf("round %d: orphan certificate %d answers %d", round, id, r.Status)
			}
		}
	}
}

func TestClusterSharesRateLimitThroughRedis(t *testing.T) {
	url := testenv.RedisURL(t, "shared rate-limit test")
	// A generous deadline: this test is about counting, and on a loaded
	// machine a healthy Redis can miss the default 50 ms, which lets a
	// request through uncounted, as designed.
	a, b, key := twoInstances(t, "--rate-limit", "6/60s", "--redis", url, "--redis-timeout", "2s")
	var statuses []int
	for i := range 10 {
		c := a.client(key)
		if i%2 == 1 {
			c = b.client(key)
		}
		statuses = append(statuses, c.do("GET", "/v3/sso/integrations", nil).Status)
	}
	ok := len(slices.DeleteFunc(slices.Clone(statuses), func(s int) bool { return s != 200 }))
	// Six per window in all; a window boundary inside the loop may grant one
	// more budget, never two instances' worth.
	if ok < 6 || ok > 7 || !slices.Contains(statuses, http.StatusTooManyRequests) {
		t.Fatalf("statuses %v: want one budget of 6 across both instances", statuses)
	}
	if r := a.client("").do("GET", "/readyz", nil); string(r.Body) != `{"status":"ready","rate_limiter":"available"}` {
		t.Errorf("/readyz with Redis answering -> %d %s", r.Status, r.Body)
	}
	if r := b.client("").do("GET", "/metrics", nil); !strings.Contains(string(r.Body), "\nssod_rate_limiter_available 1\n") {
		t.Error("metrics lack ssod_rate_limiter_available 1")
	}
}

// A client that resets its connection just after sending a PATCH
// (enabled:false) or a DELETE through A must not leave B serving the old
// certificate: once the change has committed, B drops its copy whether or
// not the client is still there. The resets are spread over one request's
// duration, so that some land between the commit and the notice to B, a
// window of a few milliseconds.
func TestClusterAbortedWritesReachOtherInstances(t *testing.T) {
	a, b, key := twoInstances(t, "--rate-limit", "off")
	ca, cb := a.client(key), b.client(key)
	db, err := pgx.Connect(t.Context(), a.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	in := ca.createIntegration("aborted")
	pem := testcert.New(t, testcert.Options{}).PEM

	// stored reads the certificate from the database itself: whether it
	// exists and whether it is enabled.
	stored := func(id int64) (exists, enabled bool) {
		err := db.QueryRow(t.Context(), `SELECT enabled FROM certificates WHERE id = $1`, id).Scan(&enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return true, enabled
	}
	// served is what B answers for the certificate.
	served := func(path string) (exists, enabled bool) {
		r := cb.do("GET", path, nil)
		if r.Status == http.StatusNotFound {
			return false, false
		}
		return true, *decode[certificateResp](t, r).Enabled
	}

	// How long one PATCH takes with B holding a lease, to spread the resets over.
	probe := ca.createCertificate(in.ID, pem)
	probePath := fmt.Sprintf("/v3/sso/certificates/%d", probe.ID)
	start := time.Now()
	for i := range 10 {
		ca.do("PATCH", probePath, map[string]any{"enabled": i%2 == 0})
	}
	perRequest := time.Since(start) / 10
	ca.do("DELETE", probePath, nil)

	const tries = 150
	var committed, untouched int
	var slowest time.Duration
	for i := range tries {
		cert := ca.createCertificate(in.ID, pem)
		path := fmt.Sprintf("/v3/sso/certificates/%d", cert.ID)
		if exists, enabled := served(path); !exists || !enabled { // now in B's cache
			t.Fatalf("try %d: B serves the new certificate as exists=%v enabled=%v", i, exists, enabled)
		}
		method, body := "PATCH", `{"enabled":false}`
		if i%3 == 2 {
			method, body = "DELETE", ""
		}
		abortRequest(t, a, key, method, path, body, perRequest*time.Duration(i%30)/20) // 0 to 1.5 requests in
		time.Sleep(30 * time.Millisecond)                                              // for A to end the transaction the client left

		exists, enabled := stored(cert.ID)
		if !exists || !enabled {
			committed++
		} else {
			untouched++
		}
		// B answers as the database does, at once: the notice came with
		// the commit. A missed notice would leave B's copy for 30 s.
		since := time.Now()
		for {
			bExists, bEnabled := served(path)
			if bExists == exists && bEnabled == enabled {
				break
			}
			if time.Since(since) > time.Second {
				t.Fatalf("try %d (%s, reset %v in): B serves exists=%v enabled=%v for a second after the database holds exists=%v enabled=%v",
					i, method, perRequest*time.Duration(i%30)/20, bExists, bEnabled, exists, enabled)
			}
			time.Sleep(5 * time.Millisecond)
			exists, enabled = stored(cert.ID) // a commit later than the sleep allowed for
		}
		slowest = max(slowest, time.Since(since))
		if exists {
			ca.do("DELETE", path, nil)
		}
	}
	t.Logf("%d tries, a request takes %v: %d changes committed, %d did not; B agreed with the database after at most %v",
		tries, perRequest, committed, untouched, slowest)
	if committed == 0 || untouched == 0 {
		t.Fatalf("%d committed and %d untouched: the resets did not spread over the requests", committed, untouched)
	}
}

// abortRequest sends one request to ts on a raw connection and resets the
// connection after wait, without reading the answer.
func abortRequest(t *testing.T, ts *testServer, key, method, path, body string, wait time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	req := method + " " + path + " HTTP/1.1\r\nHost: ssod\r\nAuthorization: Bearer " + key + "\r\n"
	if body != "" {
		req += "Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n" + body)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(wait)
	conn.(*net.TCPConn).SetLinger(0) // Close sends a reset
	conn.Close()
}
