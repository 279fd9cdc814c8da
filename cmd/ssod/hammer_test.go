package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/ssod/ssod/internal/testcert"
)

// testHammerOneCertificate sends concurrent PATCHes and DELETEs at one
// certificate and checks that every answer fits some serial order: one
// DELETE wins, it returns a state that the create or one acknowledged PATCH
// produced, no PATCH is acknowledged with a state that never existed, and
// the certificate is gone afterwards. Every write carries a certificate of
// its own, so a row mixing two writes (one's certificate, another's
// enabled) matches no write and is caught.
func testHammerOneCertificate(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--rate-limit", "off")
	c := ts.client(ts.Key)
	in := c.createIntegration("hammered")
	const writers = 12
	for round := range 5 {
		pems := make([]string, writers+1)
		for i := range pems {
			pems[i] = testcert.New(t, testcert.Options{CommonName: fmt.Sprintf("round %d write %d", round, i)}).PEM
		}
		created := c.createCertificate(in.ID, pems[writers])
		path := fmt.Sprintf("/v3/sso/certificates/%d", created.ID)
		var (
			mu      sync.Mutex
			enabled = map[string]bool{created.PublicCertificate: *created.Enabled} // by certificate: what its write set
			deleted []certificateResp
			wg      sync.WaitGroup
		)
		for i := range writers {
			wg.Go(func() {
				if i == 6 || i == 9 {
					r := c.do("DELETE", path, nil)
					switch r.Status {
					case http.StatusOK:
						mu.Lock()
						if d, ok := decodeInGoroutine[certificateResp](t, r); ok {
							deleted = append(deleted, d)
						}
						mu.Unlock()
					case http.StatusNotFound:
					default:
						t.Errorf("DELETE -> %d %s", r.Status, r.Body)
					}
					return
				}
				pem, on := pems[i], i%2 == 0
				r := c.do("PATCH", path, map[string]any{"public_certificate": pem, "enabled": on})
				switch r.Status {
				case http.StatusOK:
					got, ok := decodeInGoroutine[certificateResp](t, r)
					if ok && (got.PublicCertificate != pem || got.Enabled == nil || *got.Enabled != on) {
						t.Errorf("PATCH %d acknowledged with a state it did not write", i)
					}
					mu.Lock()
					enabled[pem] = on
					mu.Unlock()
				case http.StatusNotFound: // after the delete: fine
				default:
					t.Errorf("PATCH -> %d %s", r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		if len(deleted) != 1 {
			t.Fatalf("round %d: %d DELETEs succeeded, want exactly 1", round, len(deleted))
		}
		d := deleted[0]
		if on, ok := enabled[d.PublicCertificate]; !ok || d.Enabled == nil || *d.Enabled != on {
			t.Fatalf("round %d: DELETE returned a state no acknowledged write produced", round)
		}
		wantError(t, c.do("GET", path, nil), 404, "", "not_found")
	}
}
