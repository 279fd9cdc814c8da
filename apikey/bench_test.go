package apikey

import "testing"

// BenchmarkSplitVerify measures what authentication does with a presented
// key before and after the store lookup: Split checks its shape, Verify
// hashes the secret and compares it with the stored hash.
func BenchmarkSplitVerify(b *testing.B) {
	key, _, hash, err := New()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, secret, ok := Split(key)
		if !ok || !Verify(secret, hash) {
			b.Fatal("key does not verify")
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	key, _, _, err := New()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := Split(key); !ok {
			b.Fatal("key does not split")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	_, secret, hash := mustKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(secret, hash) {
			b.Fatal("secret does not verify")
		}
	}
}

func mustKey(b *testing.B) (key, secret string, hash []byte) {
	key, _, hash, err := New()
	if err != nil {
		b.Fatal(err)
	}
	_, secret, ok := Split(key)
	if !ok {
		b.Fatal("new key does not split")
	}
	return key, secret, hash
}
