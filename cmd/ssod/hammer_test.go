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
// the certificate is gone afterwards.
func testHammerOneCertificate(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--rate-limit", "off")
	c := ts.client(ts.Key)
	in := c.createIntegration("hammered")
	pems := []string{testcert.New(t, testcert.Options{CommonName: "a"}).PEM, testcert.New(t, testcert.Options{CommonName: "b"}).PEM}
	for round := range 5 {
		created := c.createCertificate(in.ID, pems[0])
		path := fmt.Sprintf("/v3/sso/certificates/%d", created.ID)
		type state struct {
			pem     string
			enabled bool
		}
		var (
			mu      sync.Mutex
			states  = map[state]bool{{created.PublicCertificate, *created.Enabled}: true}
			deleted []certificateResp
			wg      sync.WaitGroup
		)
		for i := range 12 {
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
				want := state{pems[i%2], i%3 == 0}
				r := c.do("PATCH", path, map[string]any{"public_certificate": want.pem, "enabled": want.enabled})
				switch r.Status {
				case http.StatusOK:
					got, ok := decodeInGoroutine[certificateResp](t, r)
					if ok && got.PublicCertificate != want.pem || *got.Enabled != want.enabled {
						t.Errorf("PATCH acknowledged with a state it did not write: enabled=%v", *got.Enabled)
					}
					mu.Lock()
					states[want] = true
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
		if d := deleted[0]; !states[state{d.PublicCertificate, *d.Enabled}] {
			t.Fatalf("round %d: DELETE returned a state no acknowledged write produced", round)
		}
		wantError(t, c.do("GET", path, nil), 404, "", "not_found")
	}
}
