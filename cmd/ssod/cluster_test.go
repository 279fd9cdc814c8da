package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	pem := testcert.New(t, testcert.Options{}).PEM
	for round := range 5 {
		in := ca.createIntegration(fmt.Sprint("doomed ", round))
		var (
			mu    sync.Mutex
			acked []int64
			wg    sync.WaitGroup
		)
		for range 3 {
			wg.Go(func() {
				for range 10 {
					r := cb.do("POST", "/v3/sso/certificates", map[string]any{"public_certificate": pem, "integration_id": in.ID})
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
