package storetest

import (
	"context"
	"time"

	"github.com/ssod/ssod"
)

var cancelTests = []test{
	// A caller that gives up (a client that resets its connection) at any
	// moment of a write is told exactly what happened: success only for a
	// write that committed, an error only for one that did not. The
	// cancellations are spread over one write's duration, so some land while
	// the commit is under way, the moment a store that commits under the
	// caller's context reports a committed write as failed.
	{"CancelledWritesReportTheirOutcome", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		c := e.certificate(e.alice.ID, in.ID, 0)
		start := time.Now()
		for i := range 5 {
			if _, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, c.ID, ssod.CertificateUpdate{X509: ptr(testX509(10_000 + i))}); err != nil {
				e.t.Fatal(err)
			}
		}
		perWrite := time.Since(start) / 5

		const tries = 200
		var committed, refused int
		for i := range tries {
			ctx, cancel := context.WithCancel(e.ctx)
			timer := time.AfterFunc(perWrite*time.Duration(i%25)/20, cancel) // 0 to 1.2 writes in
			var ok, stored bool
			var err error
			if i%2 == 0 {
				x := testX509(20_000 + i)
				var got *ssod.Certificate
				got, err = e.s.UpdateCertificate(ctx, e.alice.ID, c.ID, ssod.CertificateUpdate{X509: &x})
				ok = err == nil && got.X509 == x
				stored = e.getCertificate(e.alice.ID, c.ID).X509 == x
			} else {
				doomed := e.certificate(e.alice.ID, in.ID, 30_000+i)
				_, err = e.s.DeleteCertificate(ctx, e.alice.ID, doomed.ID)
				ok = err == nil
				_, gerr := e.s.GetCertificate(e.ctx, e.alice.ID, doomed.ID)
				stored = ssod.CodeOf(gerr) == ssod.ENotFound
				if !stored { // keep the integration below its limit
					if _, derr := e.s.DeleteCertificate(e.ctx, e.alice.ID, doomed.ID); derr != nil {
						e.t.Fatalf("try %d: a delete reported as %v took effect after it returned: %v", i, err, derr)
					}
				}
			}
			timer.Stop()
			cancel()
			switch {
			case err == nil && !ok:
				e.t.Fatalf("try %d: an acknowledged write returned something else than it wrote", i)
			case err == nil && !stored:
				e.t.Fatalf("try %d: an acknowledged write is not in the store", i)
			case err != nil && stored:
				e.t.Fatalf("try %d: a write that committed was reported as failed: %v", i, err)
			case err == nil:
				committed++
			default:
				refused++
			}
		}
		// Both outcomes must occur, or the offsets missed the write.
		if committed == 0 || refused == 0 {
			e.t.Fatalf("%d writes committed and %d gave up: the cancellations did not spread over the writes (one takes %v)",
				committed, refused, perWrite)
		}
	}},
}
