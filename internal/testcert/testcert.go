// Package testcert makes self-signed X.509 certificates for tests, so that
// no test depends on a committed certificate it cannot explain.
package testcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// Options describe the certificate to make; zero values mean a currently
// valid ECDSA P-256 certificate.
type Options struct {
	CommonName string
	NotBefore  time.Time
	NotAfter   time.Time
	RSABits    int      // when set, an RSA key of this size instead of ECDSA
	Hosts      []string // DNS names or IP addresses, for a TLS server certificate
	// Extensions are added as they are, for tests of what a certificate
	// may carry.
	Extensions []pkix.Extension
}

// Cert is a generated certificate with its key.
type Cert struct {
	DER []byte
	PEM string
	Key crypto.Signer
}

// New makes a self-signed certificate; times are truncated to seconds, as
// X.509 stores them.
func New(t testing.TB, o Options) Cert {
	t.Helper()
	if o.CommonName == "" {
		o.CommonName = "test idp"
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = o.NotBefore.Add(365 * 24 * time.Hour)
	}
	var key crypto.Signer
	var err error
	if o.RSABits > 0 {
		key, err = rsa.GenerateKey(rand.Reader, o.RSABits)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatalf("testcert: generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatalf("testcert: serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: o.CommonName},
		NotBefore:       o.NotBefore.Truncate(time.Second),
		NotAfter:        o.NotAfter.Truncate(time.Second),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: o.Extensions,
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("testcert: create certificate: %v", err)
	}
	return Cert{DER: der, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), Key: key}
}

// KeyPEM returns the certificate's private key as PKCS#8 PEM, for tests
// that check a pasted key is refused.
func (c Cert) KeyPEM(t testing.TB) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatalf("testcert: marshal key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
