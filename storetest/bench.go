package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ssod/ssod"
)

// BenchmarkSignIn measures the writes of a sign-in on s, an empty store:
// accepting an assertion and adding a trace, from 16 goroutines per CPU,
// all for one integration and spread over 16. Store packages call it from
// their benchmarks. (That sign-ins of different integrations never wait
// for each other is shown by a test, not by these figures.)
func BenchmarkSignIn(b *testing.B, s ssod.Store) {
	ctx := b.Context()
	acct, err := s.CreateAccount(ctx, "bench", 0, now)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range 16 {
		in, err := s.CreateIntegration(ctx, acct.ID, integrationUpdate(fmt.Sprint("idp", i)), now)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	var seq atomic.Int64
	for _, spread := range []int{1, 16} {
		b.Run(fmt.Sprintf("UseAssertion/integrations=%d", spread), func(b *testing.B) {
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					ok, err := s.UseAssertion(ctx, ids[int(n)%spread], fmt.Sprint("_a", n), now+300, now)
					if err != nil || !ok {
						b.Errorf("UseAssertion: %v, %v", ok, err)
						return
					}
				}
			})
		})
		b.Run(fmt.Sprintf("AddLoginTrace/integrations=%d", spread), func(b *testing.B) {
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					_, err := s.AddLoginTrace(ctx, ssod.LoginTrace{IntegrationID: ids[int(n)%spread], Time: now, Result: "ok",
						NameID: "jane@example.com", AssertionID: fmt.Sprint("_a", n), CertificateID: 1})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
