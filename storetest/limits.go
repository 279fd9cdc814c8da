package storetest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssod/ssod"
)

var limitTests = []test{
	{"CertificatesPerIntegration", func(e *env) {
		full := e.integration(e.alice.ID, "full")
		other := e.integration(e.alice.ID, "other")
		certs := e.fill(full.ID, ssod.MaxCertificatesPerIntegration)
		mover := e.certificate(e.alice.ID, other.ID, 1_000)

		_, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: &full.ID, X509: ptr(testX509(1_001))})
		wantProblem(e.t, err, ssod.ErrIntegrationFull())
		_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, mover.ID, ssod.CertificateUpdate{IntegrationID: &full.ID})
		wantProblem(e.t, err, ssod.ErrIntegrationFull())
		if got := e.getCertificate(e.alice.ID, mover.ID); got != *mover {
			e.t.Errorf("a refused move changed the certificate: %+v", got)
		}
		// Changing a certificate already in the full integration adds none.
		if _, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, certs[0].ID, ssod.CertificateUpdate{
			IntegrationID: &full.ID, Enabled: ptr(false), X509: ptr(testX509(1_002)),
		}); err != nil {
			e.t.Errorf("update inside a full integration: %v", err)
		}
		if n := len(e.listCertificates(e.alice.ID, full.ID)); n != ssod.MaxCertificatesPerIntegration {
			e.t.Errorf("the full integration holds %d certificates, want %d", n, ssod.MaxCertificatesPerIntegration)
		}
		// A slot freed is a slot to take.
		if _, err := e.s.DeleteCertificate(e.ctx, e.alice.ID, certs[1].ID); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, mover.ID, ssod.CertificateUpdate{IntegrationID: &full.ID}); err != nil {
			e.t.Errorf("move into a freed slot: %v", err)
		}
	}},
	{"CreatesAndMovesRaceForTheLastSlots", func(e *env) {
		full := e.integration(e.alice.ID, "nearly full")
		other := e.integration(e.alice.ID, "other")
		const free, racers = 3, 12
		e.fill(full.ID, ssod.MaxCertificatesPerIntegration-free)
		movers := make([]*ssod.Certificate, racers)
		for i := range racers {
			if i%2 == 1 {
				movers[i] = e.certificate(e.alice.ID, other.ID, 2_000+i)
			}
		}
		var won, refused atomic.Int64
		Parallel(racers, func(i int) {
			var err error
			if movers[i] != nil {
				_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, movers[i].ID, ssod.CertificateUpdate{IntegrationID: &full.ID})
			} else {
				_, err = e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: &full.ID, X509: ptr(testX509(2_000 + i))})
			}
			switch {
			case err == nil:
				won.Add(1)
			case isProblem(err, ssod.ErrIntegrationFull()):
				refused.Add(1)
			default:
				e.t.Errorf("racer %d: %v", i, err)
			}
		})
		if won.Load() != free || refused.Load() != racers-free {
			e.t.Errorf("%d writes took the %d free slots and %d were refused", won.Load(), free, refused.Load())
		}
		if n := len(e.listCertificates(e.alice.ID, full.ID)); n != ssod.MaxCertificatesPerIntegration {
			e.t.Errorf("the integration holds %d certificates, want %d", n, ssod.MaxCertificatesPerIntegration)
		}
	}},
	{"IntegrationsPerAccount", func(e *env) {
		const free, racers = 2, 8
		Parallel(16, func(g int) {
			for i := g; i < ssod.MaxIntegrationsPerAccount-free; i += 16 {
				if _, err := e.s.CreateIntegration(e.ctx, e.alice.ID, integrationUpdate(fmt.Sprint("idp-", i)), now); err != nil {
					e.t.Errorf("create integration %d: %v", i, err)
					return
				}
			}
		})
		var won, refused atomic.Int64
		Parallel(racers, func(i int) {
			_, err := e.s.CreateIntegration(e.ctx, e.alice.ID, integrationUpdate(fmt.Sprint("racer-", i)), now)
			switch {
			case err == nil:
				won.Add(1)
			case isProblem(err, ssod.ErrTooManyIntegrations()):
				refused.Add(1)
			default:
				e.t.Errorf("racer %d: %v", i, err)
			}
		})
		if won.Load() != free || refused.Load() != racers-free {
			e.t.Errorf("%d creates took the %d free slots and %d were refused", won.Load(), free, refused.Load())
		}
		ins, err := e.s.ListIntegrations(e.ctx, e.alice.ID)
		if err != nil || len(ins) != ssod.MaxIntegrationsPerAccount {
			e.t.Errorf("the account holds %d integrations (%v), want %d", len(ins), err, ssod.MaxIntegrationsPerAccount)
		}
		// Another account is not limited by alice's.
		e.integration(e.bob.ID, "bob's")
	}},
	{"DuplicateCertificateRefused", func(e *env) {
		a := e.integration(e.alice.ID, "a")
		b := e.integration(e.alice.ID, "b")
		first := e.certificate(e.alice.ID, a.ID, 1)
		_, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: &a.ID, X509: ptr(testX509(1))})
		wantProblem(e.t, err, ssod.ErrDuplicateCertificate(first.ID))
		if err != nil && !strings.Contains(ssod.ProblemsOf(err)[0].Message, fmt.Sprint(first.ID)) {
			e.t.Errorf("%q does not name certificate %d", ssod.ProblemsOf(err)[0].Message, first.ID)
		}
		// The same certificate in another integration is another matter.
		inB := e.certificate(e.alice.ID, b.ID, 1)
		_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, inB.ID, ssod.CertificateUpdate{IntegrationID: &a.ID})
		wantProblem(e.t, err, ssod.ErrDuplicateCertificate(first.ID))
		second := e.certificate(e.alice.ID, a.ID, 2)
		_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, second.ID, ssod.CertificateUpdate{X509: ptr(testX509(1))})
		wantProblem(e.t, err, ssod.ErrDuplicateCertificate(first.ID))
		// A certificate is no duplicate of itself.
		if _, err := e.s.UpdateCertificate(e.ctx, e.alice.ID, first.ID, ssod.CertificateUpdate{X509: ptr(testX509(1)), Enabled: ptr(false)}); err != nil {
			e.t.Errorf("rewriting a certificate's own PEM: %v", err)
		}
		e.wantCertificates(e.alice.ID, a.ID, e.getCertificate(e.alice.ID, first.ID), *second)
		e.wantCertificates(e.alice.ID, b.ID, *inB)
	}},
	{"ConcurrentDuplicatesOneWins", func(e *env) {
		a := e.integration(e.alice.ID, "a")
		const racers = 8
		// Half create the certificate in a; a quarter move a copy of it in
		// from an integration of its own, a quarter write it over another
		// certificate of a.
		others := make([]*ssod.Certificate, racers)
		for i := range racers {
			switch i % 4 {
			case 1:
				others[i] = e.certificate(e.alice.ID, e.integration(e.alice.ID, fmt.Sprint("b", i)).ID, 7)
			case 3:
				others[i] = e.certificate(e.alice.ID, a.ID, 3_000+i)
			}
		}
		var won atomic.Int64
		Parallel(racers, func(i int) {
			var err error
			switch {
			case i%4 == 1:
				_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, others[i].ID, ssod.CertificateUpdate{IntegrationID: &a.ID})
			case i%4 == 3:
				_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, others[i].ID, ssod.CertificateUpdate{X509: ptr(testX509(7))})
			default:
				_, err = e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: &a.ID, X509: ptr(testX509(7))})
			}
			switch {
			case err == nil:
				won.Add(1)
			case ssod.CodeOf(err) == ssod.EInvalid && ssod.ProblemsOf(err)[0].Field == "public_certificate":
			default:
				e.t.Errorf("racer %d: %v", i, err)
			}
		})
		n := 0
		for _, c := range e.listCertificates(e.alice.ID, a.ID) {
			if c.X509 == testX509(7) {
				n++
			}
		}
		if won.Load() != 1 || n != 1 {
			e.t.Errorf("%d of %d racing writes of one certificate succeeded, and the integration holds %d copies; want 1 and 1", won.Load(), racers, n)
		}
	}},
	// The room checks lock integrations; updates that change a PEM, moves
	// both ways and deletes of either integration, all at once, must never
	// fail for any other reason than the certificate or integration being
	// gone (a deadlock between their locks would surface as internal).
	{"RoomChecksUnderConcurrentWrites", func(e *env) {
		for round := range 4 {
			a := e.integration(e.alice.ID, fmt.Sprint("a", round))
			b := e.integration(e.alice.ID, fmt.Sprint("b", round))
			ids := []string{a.ID, b.ID}
			var certs []*ssod.Certificate
			for i := range 4 {
				certs = append(certs, e.certificate(e.alice.ID, ids[i%2], 4_000+round*100+i))
			}
			Parallel(12, func(i int) {
				c := certs[i%4]
				var err error
				switch i / 4 {
				case 0:
					_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, c.ID, ssod.CertificateUpdate{X509: ptr(testX509(5_000 + round*100 + i))})
				case 1:
					_, err = e.s.UpdateCertificate(e.ctx, e.alice.ID, c.ID, ssod.CertificateUpdate{IntegrationID: &ids[(i+1)%2]})
				default:
					if i%4 < 2 {
						err = e.s.DeleteIntegration(e.ctx, e.alice.ID, ids[i%2])
					} else {
						_, err = e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: &ids[i%2], X509: ptr(testX509(6_000 + round*100 + i))})
					}
				}
				if code := ssod.CodeOf(err); code != "" && code != ssod.ENotFound && !isProblem(err, ssod.ErrIntegrationNotYours()) {
					e.t.Errorf("round %d, writer %d: %v", round, i, err)
				}
			})
		}
	}},
}

// fill creates n certificates in the integration, 16 at a time.
func (e *env) fill(integrationID string, n int) []*ssod.Certificate {
	e.t.Helper()
	certs := make([]*ssod.Certificate, n)
	Parallel(16, func(g int) {
		for i := g; i < n; i += 16 {
			c, err := e.s.CreateCertificate(e.ctx, e.alice.ID, ssod.CertificateUpdate{IntegrationID: &integrationID, X509: ptr(testX509(100_000 + i))})
			if err != nil {
				e.t.Errorf("fill: create %d: %v", i, err)
				return
			}
			certs[i] = c
		}
	})
	if e.t.Failed() {
		e.t.FailNow()
	}
	return certs
}

// isProblem reports whether err is want: its code and field.
func isProblem(err error, want *ssod.Error) bool {
	if err == nil {
		return false
	}
	got := ssod.ProblemsOf(err)[0]
	return got.Code == want.Code && got.Field == want.Field
}

// wantProblem fails the test unless err is want (code and field).
func wantProblem(t *testing.T, err error, want *ssod.Error) {
	t.Helper()
	if !isProblem(err, want) {
		t.Errorf("got error %v, want %v", err, want)
	}
}
