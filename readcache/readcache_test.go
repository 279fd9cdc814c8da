package readcache

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/sqlite"
	"github.com/ssod/ssod/storetest"
)

func open(t *testing.T, max int) *Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ssod.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s, max)
}

// The cached store keeps every promise of the store contract.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ssod.Store { return open(t, 1000) })
}

func ptr[T any](v T) *T { return &v }

func setup(t *testing.T, s *Store) (ctx context.Context, account int64, in *ssod.Integration, c *ssod.Certificate) {
	ctx = context.Background()
	a, err := s.CreateAccount(ctx, "a", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	in, err = s.CreateIntegration(ctx, a.ID, ssod.IntegrationUpdate{
		Name: ptr("n"), Enabled: ptr(true), SigninURL: ptr("https://x/in"), SignoutURL: ptr("https://x/out"), EntityID: ptr("e"),
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.CreateCertificate(ctx, a.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: "p1", NotBefore: 1, NotAfter: 2}})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, a.ID, in, c
}

func TestReadsAfterWritesSeeTheWrite(t *testing.T) {
	s := open(t, 1000)
	ctx, account, in, c := setup(t, s)
	if _, err := s.GetCertificate(ctx, account, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(s.certs) != 1 {
		t.Fatal("a read did not fill the cache")
	}
	if _, err := s.UpdateCertificate(ctx, account, c.ID, ssod.CertificateUpdate{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCertificate(ctx, account, c.ID); got.Enabled {
		t.Fatal("stale certificate served after PATCH")
	}
	other, _ := s.CreateAccount(ctx, "b", 0, 1)
	if _, err := s.GetCertificate(ctx, other.ID, c.ID); ssod.CodeOf(err) != ssod.ENotFound {
		t.Fatalf("another account reads a cached certificate: %v", err)
	}
	if err := s.DeleteIntegration(ctx, account, in.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCertificate(ctx, account, c.ID); ssod.CodeOf(err) != ssod.ENotFound {
		t.Fatalf("certificate served after its integration was deleted: %v", err)
	}
}

// pausingStore lets a test stop one read after it has fetched its value
// from the store and before the cache sees it: the moment a write can
// slip in between.
type pausingStore struct {
	ssod.Store
	armed   atomic.Bool
	fetched chan struct{} // a send when the armed read has its value
	resume  chan struct{} // the armed read returns once this is closed
}

func (p *pausingStore) GetCertificate(ctx context.Context, accountID, id int64) (*ssod.Certificate, error) {
	c, err := p.Store.GetCertificate(ctx, accountID, id)
	if p.armed.CompareAndSwap(true, false) {
		p.fetched <- struct{}{}
		<-p.resume
	}
	return c, err
}

// A read that fetched its value before a write and returns after it must
// not leave that value in the cache: every read that starts after a write
// has returned sees the write. Each case pauses a missing read right after
// its fetch, lets the write through the cache, then lets the read finish.
func TestNoStaleFillUnderConcurrentWrites(t *testing.T) {
	cases := []struct {
		name  string
		write func(s *Store, ctx context.Context, account int64, in *ssod.Integration, c *ssod.Certificate) error
		check func(got *ssod.Certificate, err error) bool // the read after the write
	}{
		{"update", func(s *Store, ctx context.Context, account int64, _ *ssod.Integration, c *ssod.Certificate) error {
			_, err := s.UpdateCertificate(ctx, account, c.ID, ssod.CertificateUpdate{Enabled: ptr(false)})
			return err
		}, func(got *ssod.Certificate, err error) bool { return err == nil && !got.Enabled }},
		{"delete", func(s *Store, ctx context.Context, account int64, _ *ssod.Integration, c *ssod.Certificate) error {
			_, err := s.DeleteCertificate(ctx, account, c.ID)
			return err
		}, func(_ *ssod.Certificate, err error) bool { return ssod.CodeOf(err) == ssod.ENotFound }},
		{"delete integration", func(s *Store, ctx context.Context, account int64, in *ssod.Integration, _ *ssod.Certificate) error {
			return s.DeleteIntegration(ctx, account, in.ID)
		}, func(_ *ssod.Certificate, err error) bool { return ssod.CodeOf(err) == ssod.ENotFound }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := open(t, 1000)
			p := &pausingStore{Store: base.store, fetched: make(chan struct{}), resume: make(chan struct{})}
			s := New(p, 1000)
			ctx, account, in, c := setup(t, s)

			p.armed.Store(true)
			read := make(chan error, 1)
			go func() {
				got, err := s.GetCertificate(ctx, account, c.ID)
				if err == nil && !got.Enabled {
					err = fmt.Errorf("the read that began before the write returned its result")
				}
				read <- err
			}()
			<-p.fetched // the old value is in hand
			if err := tc.write(s, ctx, account, in, c); err != nil {
				t.Fatal(err)
			}
			close(p.resume)
			if err := <-read; err != nil {
				t.Fatal(err)
			}
			if got, err := s.GetCertificate(ctx, account, c.ID); !tc.check(got, err) {
				t.Fatalf("a read after the write returned %+v, %v: the value read before it was cached", got, err)
			}
		})
	}
}

func TestBounded(t *testing.T) {
	s := open(t, 2)
	ctx, account, in, c := setup(t, s)
	ids := []int64{c.ID}
	for i := range 4 {
		n, err := s.CreateCertificate(ctx, account, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &ssod.X509{PEM: fmt.Sprint("bounded-", i), NotBefore: int64(i), NotAfter: 9}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	for _, id := range ids {
		if _, err := s.GetCertificate(ctx, account, id); err != nil {
			t.Fatal(err)
		}
		if len(s.certs) > 2 {
			t.Fatalf("cache holds %d certificates, max 2", len(s.certs))
		}
	}
}

// fakeCoherence is switched valid or not by the test.
type fakeCoherence struct{ valid bool }

func (f *fakeCoherence) Valid() bool { return f.valid }

func TestCoherentCacheFollowsItsCoherence(t *testing.T) {
	base := open(t, 1000)
	coh := &fakeCoherence{valid: true}
	s := NewCoherent(base.store, 1000, time.Hour, coh)
	ctx, account, _, c := setup(t, s)

	coh.valid = false
	if _, err := s.GetCertificate(ctx, account, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(s.certs) != 0 {
		t.Fatal("a read without a valid lease filled the cache")
	}
	coh.valid = true
	if _, err := s.GetCertificate(ctx, account, c.ID); err != nil || len(s.certs) != 1 {
		t.Fatalf("a read with a valid lease did not fill the cache: %v", err)
	}
}

func TestCoherentCacheCopiesExpire(t *testing.T) {
	base := open(t, 1000)
	s := NewCoherent(base.store, 1000, time.Nanosecond, &fakeCoherence{valid: true})
	ctx, account, _, c := setup(t, s)
	if _, err := s.GetCertificate(ctx, account, c.ID); err != nil {
		t.Fatal(err)
	}
	// Changed behind the cache's back, as a lost notice would leave it.
	off := false
	if _, err := base.store.UpdateCertificate(ctx, account, c.ID, ssod.CertificateUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if got, err := s.GetCertificate(ctx, account, c.ID); err != nil || got.Enabled {
		t.Fatalf("an expired copy was served: %+v, %v", got, err)
	}
}
