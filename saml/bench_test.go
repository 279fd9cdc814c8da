package saml

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

// BenchmarkVerify is one sign-in on a realistic integration: two RSA-2048 certificates
// (the old one and the one the IdP signs with now, as during a rotation), an Okta-shaped
// response with a signed Assertion of about 3 KiB. Parse plus Verify, per operation.
func BenchmarkVerify(b *testing.B) {
	old, current := newRSA(b), newRSA(b)
	certs := []Certificate{certOf(b, 1, old), certOf(b, 2, current)}
	d := validDoc()
	for _, tc := range []struct {
		name      string
		noKeyInfo bool
		response  bool
	}{
		{"assertion-signed/keyinfo", false, false},
		{"assertion-signed/no-keyinfo", true, false}, // the wrong certificate is tried first
		{"response-signed/keyinfo", false, true},
	} {
		s := newSigner(current)
		s.noKeyInfo = tc.noKeyInfo
		xml := []byte(d.responseXML(s.sign(b, d.assertionXML())))
		if tc.response {
			xml = []byte(s.sign(b, d.responseXML(d.assertionXML())))
		}
		opts := options(certs...)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(xml)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := Parse(xml)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Verify(opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parse-only", func(b *testing.B) {
		xml := []byte(d.responseXML(newSigner(current).sign(b, d.assertionXML())))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(xml); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRSA2048Verify is the bare public-key operation Verify cannot beat: one RSA-2048
// PKCS#1 v1.5 SHA-256 signature check of a digest.
func BenchmarkRSA2048Verify(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("SignedInfo"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
