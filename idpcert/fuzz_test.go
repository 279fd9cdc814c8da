package idpcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testenv"
)

// FuzzParse checks that Parse never panics, that it only fails with the
// documented errors, and that what it returns parses back to itself.
func FuzzParse(f *testing.F) {
	// The real IdP certificates are the best seeds, but the target is worth
	// running on the others without them.
	if dir := testenv.Optional(f, testenv.IdPCerts, "seeds from real IdP certificates"); dir != "" {
		for _, c := range idpCerts {
			raw, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				f.Fatal(err)
			}
			for _, form := range pasteForms(string(raw)) {
				f.Add(form.input)
			}
		}
	}
	// Keys and a certificate built from fixed bytes, so that the seeds are
	// the same on every run (Ed25519 signatures are deterministic).
	ed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		f.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ed)
	if err != nil {
		f.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp.example.com"},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1800000000, 0),
	}
	cert, err := x509.CreateCertificate(nil, tmpl, tmpl, ed.Public(), ed)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		pemOf("CERTIFICATE", cert),
		b64(cert),
		pemOf("PRIVATE KEY", pkcs8),
		b64(pkcs8),
		pemOf("EC PRIVATE KEY", sec1),
		b64(sec1),
		pemOf("CERTIFICATE", cert) + pemOf("CERTIFICATE", cert),
		b64(append(cert[:len(cert):len(cert)], cert...)),
		pemOf("CERTIFICATE", cert[:len(cert)-1]),
		"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n" + pemOf("CERTIFICATE", cert),
		"",
		" \r\n",
		"not a certificate",
		"MIIB",
		"-----BEGIN CERTIFICATE-----",
		"\x00\xff\xfe",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, input string) {
		got, err := Parse(input)
		if err != nil {
			var e *ssod.Error
			if !errors.As(err, &e) || e.Field != "public_certificate" || e.Message == "" {
				t.Fatalf("error %#v is not an *ssod.Error about public_certificate", err)
			}
			switch e.Code {
			case ssod.EInvalidCertificate, ssod.EPrivateKeyRejected, ssod.ETooLarge:
			default:
				t.Fatalf("error code %q", e.Code)
			}
			if got != (ssod.X509{}) {
				t.Fatalf("Parse returned %+v with its error", got)
			}
			return
		}
		if strings.Contains(strings.ToUpper(input), "PRIVATE KEY") {
			t.Fatal("accepted an input that mentions a private key")
		}
		again, err := Parse(got.PEM)
		if err != nil || again != got {
			t.Fatalf("Parse(%q) = %+v, %v; want %+v", got.PEM, again, err, got)
		}
	})
}
