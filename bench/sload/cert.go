package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"time"
)

// certMaker makes distinct, real X.509 certificates of the size IdPs use
// (about 1.1 KB of PEM): an RSA-2048 subject key, an IdP-like subject, a
// random serial. So that thousands can be made in a second, every
// certificate is signed with one ECDSA P-256 key instead of its own RSA key;
// ssod parses certificates and never checks their self-signature.
type certMaker struct {
	subjectKey *rsa.PublicKey
	signer     *ecdsa.PrivateKey
}

func newCertMaker() (*certMaker, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ECDSA key: %w", err)
	}
	return &certMaker{subjectKey: &rsaKey.PublicKey, signer: signer}, nil
}

// make returns certificate number n as PEM.
func (m *certMaker) make(n int) (string, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return "", err
	}
	now := time.Now().Truncate(time.Second)
	name := pkix.Name{
		CommonName:         fmt.Sprintf("sload-idp-%d.example.com", n),
		Organization:       []string{"ssod sload benchmark"},
		OrganizationalUnit: []string{"Identity Provider"},
		Locality:           []string{"San Francisco"},
		Province:           []string{"California"},
		Country:            []string{"US"},
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, m.subjectKey, m.signer)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// makeMany returns n distinct certificates, made on every core.
func (m *certMaker) makeMany(n int) ([]string, error) {
	out := make([]string, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				p, err := m.make(i)
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = p
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("make certificate: %w", err)
		}
	}
	return out, nil
}
