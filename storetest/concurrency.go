package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ssod/ssod"
)

var concurrencyTests = []test{
	{"CreatesGetDistinctIDs", func(e *env) {
		in := e.integration(e.alice.ID, "okta")
		const n = 16
		created := make([]*ssod.Certificate, n)
		errs := make([]error, n)
		Parallel(n, func(i int) {
			created[i], errs[i] = e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{
				IntegrationID: ptr(in.ID), X509: ptr(testX509(i)), Enabled: ptr(i%2 == 0),
			})
		})
		var want []ssod.Certificate
		ids := map[int64]bool{}
		for i, err := range errs {
			if err != nil {
				e.t.Errorf("create %d: %v", i, err)
				continue
			}
			if ids[created[i].ID] {
				e.t.Errorf("id %d handed out twice", created[i].ID)
			}
			ids[created[i].ID] = true
			want = append(want, *created[i])
		}
		slices.SortFunc(want, func(a, b ssod.Certificate) int { return cmp.Compare(a.ID, b.ID) })
		e.wantCertificates(e.alice.ID, in.ID, want...)
	}},
	{"UpdatesOfOneCertificateDoNotMix", func(e *env) {
		a := e.integration(e.alice.ID, "a")
		b := e.integration(e.alice.ID, "b")
		c := e.certificate(e.alice.ID, a.ID, 0)
		// Several rounds, because a store that writes field by field mixes
		// two writes only when they interleave.
		for round := range 10 {
			e.updateConcurrently(*c, round, a.ID, b.ID)
		}
	}},
	{"DeleteIntegrationDuringCreatesLeavesNoOrphan", func(e *env) {
		kept := e.integration(e.alice.ID, "kept")
		keptCert := e.certificate(e.alice.ID, kept.ID, 0)
		for round := range 3 {
			doomed := e.integration(e.alice.ID, fmt.Sprintf("doomed-%d", round))
			e.deleteDuringCreates(doomed.ID, 4)
		}
		e.wantCertificates(e.alice.ID, kept.ID, *keptCert)
	}},
}

// Parallel runs f(0) … f(n-1) in n goroutines released together, so that
// their calls overlap as much as the store lets them, and waits for all.
// Store packages use it for their own concurrency tests too.
func Parallel(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// updateConcurrently has 8 goroutines update certificate c at once, and
// checks that each update returned what it wrote and that c ends up equal to
// one of the writes, in one of the integrations a and b. Every write sets
// every field, to values unique to it or in a pattern no other write shares,
// so a row mixing two writes matches none of them.
func (e *env) updateConcurrently(c ssod.Certificate, round int, a, b string) {
	e.t.Helper()
	const n = 8
	writes := make([]ssod.Certificate, n)
	for i := range writes {
		writes[i] = ssod.Certificate{ID: c.ID, AccountID: c.AccountID, IntegrationID: []string{a, b}[i%2],
			X509: testX509(1000*round + i), Enabled: i/2%2 == 0}
	}
	got := make([]*ssod.Certificate, n)
	errs := make([]error, n)
	Parallel(n, func(i int) {
		w := writes[i]
		got[i], errs[i] = e.s.UpdateCertificate(e.ctx, c.AccountID, c.ID, ssod.CertificateUpdate{
			IntegrationID: &w.IntegrationID, Enabled: &w.Enabled, X509: &w.X509,
		})
	})
	for i, err := range errs {
		if err != nil {
			e.t.Errorf("update %d: %v", i, err)
			continue
		}
		wantEqual(e.t, fmt.Sprintf("update %d returned", i), *got[i], writes[i])
	}
	final := e.getCertificate(c.AccountID, c.ID)
	if !slices.Contains(writes, final) {
		e.t.Fatalf("after concurrent updates the certificate is %+v, which is none of the writes %+v", final, writes)
	}
	e.wantCertificates(c.AccountID, final.IntegrationID, final)
	e.wantCertificates(c.AccountID, map[string]string{a: b, b: a}[final.IntegrationID])
}

// deleteDuringCreates has workers create certificates for the integration
// in a loop while it is deleted, and checks that no certificate outlives it.
//
// Every worker keeps creating until a create fails, which must be
// ErrIntegrationNotYours once the integration is gone. A create that starts
// after DeleteIntegration returned must fail. And afterwards every
// certificate a create acknowledged is gone, cascaded away with the
// integration. A store that checks the integration and inserts in two steps
// without a foreign key can insert after the delete; one without a cascade
// keeps the early certificates.
func (e *env) deleteDuringCreates(integrationID string, workers int) {
	e.t.Helper()
	var (
		mu      sync.Mutex
		acked   []int64 // ids of successful creates that began before the delete returned
		late    []int64 // ids of successful creates that began after
		stopped []error // the error that stopped each worker
		deleted atomic.Bool
		enough  = make(chan struct{}) // closed once `workers` creates succeeded
		done    = make(chan struct{}) // closed once every worker stopped
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				afterDelete := deleted.Load()
				c, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{
					IntegrationID: ptr(integrationID), X509: ptr(testX509(w*100_000 + n)),
				})
				mu.Lock()
				switch {
				case err != nil:
					stopped = append(stopped, err)
				case afterDelete:
					late = append(late, c.ID)
				default:
					acked = append(acked, c.ID)
					if len(acked) == workers {
						close(enough)
					}
				}
				mu.Unlock()
				if err != nil || afterDelete {
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	select {
	case <-enough: // the race is on: creates have succeeded and more are under way
	case <-done: // every worker failed early; the checks below report why
	}
	err := e.s.DeleteIntegration(e.ctx, e.alice.ID, integrationID)
	deleted.Store(true)
	<-done

	if err != nil {
		e.t.Fatalf("DeleteIntegration during creates: %v", err)
	}
	if len(acked) < workers {
		e.t.Errorf("only %d creates succeeded before the delete, want at least %d", len(acked), workers)
	}
	if len(late) > 0 {
		e.t.Errorf("certificates %v were created for an integration already deleted", late)
	}
	for _, err := range stopped {
		wantNotYours(e.t, err)
	}
	_, err = e.s.ListCertificates(e.ctx, e.alice.ID, integrationID)
	wantCode(e.t, err, ssod.ENotFound)
	for _, id := range slices.Concat(acked, late) {
		if _, err := e.s.GetCertificate(e.ctx, e.alice.ID, id); err == nil {
			e.t.Errorf("certificate %d outlived its deleted integration", id)
		} else {
			wantCode(e.t, err, ssod.ENotFound)
		}
	}
}
