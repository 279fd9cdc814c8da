package testmode

import "testing"

// BenchmarkEnter is what the reset gate costs a request in test mode: one
// read lock and unlock (no reset running).
func BenchmarkEnter(b *testing.B) {
	m := New(Options{})
	for b.Loop() {
		m.Enter()
		m.Leave()
	}
}

// BenchmarkEnterParallel is the same with every core entering at once, where
// the read lock's shared counter is contended.
func BenchmarkEnterParallel(b *testing.B) {
	m := New(Options{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Enter()
			m.Leave()
		}
	})
}
