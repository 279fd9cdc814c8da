package idpcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testcert"
)

// withNegativeSerial returns a certificate whose DER serial has its sign bit
// set: a negative serial of the same length, as some IdPs' certificates have.
func withNegativeSerial(t *testing.T) (testcert.Cert, []byte) {
	t.Helper()
	for {
		c := testcert.New(t, testcert.Options{})
		cert, err := x509.ParseCertificate(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		content := cert.SerialNumber.Bytes()
		if content[0]&0x80 != 0 {
			continue // DER pads it with a zero byte; take another
		}
		encoded := append([]byte{asn1.TagInteger, byte(len(content))}, content...)
		i := bytes.Index(cert.RawTBSCertificate, encoded)
		if i < 0 {
			t.Fatal("serial not found in the TBSCertificate")
		}
		der := bytes.Clone(c.DER)
		j := bytes.Index(der, cert.RawTBSCertificate) + i + 2
		der[j] |= 0x80
		return c, der
	}
}

func TestParseNegativeSerial(t *testing.T) {
	c, der := withNegativeSerial(t)
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Fatal("precondition: Go's parser accepts the negative serial; this test would prove nothing")
	}
	want, err := Parse(c.PEM)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	got, err := Parse(pemText)
	if err != nil {
		t.Fatalf("negative serial refused: %v", err)
	}
	if got.PEM != pemText {
		t.Errorf("stored PEM differs from the uploaded certificate:\n%s\nwant\n%s", got.PEM, pemText)
	}
	if got.NotBefore != want.NotBefore || got.NotAfter != want.NotAfter {
		t.Errorf("window %d..%d, want %d..%d", got.NotBefore, got.NotAfter, want.NotBefore, want.NotAfter)
	}
	cert, ok := parseNegativeSerial(der)
	if !ok {
		t.Fatal("parseNegativeSerial refused it")
	}
	if cert.SerialNumber.Sign() >= 0 {
		t.Errorf("serial %v, want the original negative one", cert.SerialNumber)
	}
	if !cert.PublicKey.(*ecdsa.PublicKey).Equal(c.Key.Public()) {
		t.Error("public key differs from the certificate's")
	}

	// Only the serial is forgiven: the same certificate truncated, or with a
	// positive serial and another defect, is still refused.
	truncated := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der[:len(der)-10]}))
	if _, err := Parse(truncated); ssod.CodeOf(err) != ssod.EInvalidCertificate {
		t.Errorf("truncated: %v, want invalid_certificate", err)
	}
	if _, ok := parseNegativeSerial(c.DER); ok {
		t.Error("parseNegativeSerial took a positive serial")
	}
}

func TestParseRefusesKeyInExtension(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	mustMarshal := func(v any) []byte {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A PKCS#1 shape Go would refuse to parse (a toy RSA key): the shape
	// alone is enough.
	nine := make([]int, 9)
	for i := range nine {
		nine[i] = i + 3
	}
	nine[0] = 0
	toyPKCS1 := mustMarshal(struct {
		V, N, E, D, P, Q, Dp, Dq, Qi int
	}{nine[0], nine[1], nine[2], nine[3], nine[4], nine[5], nine[6], nine[7], nine[8]})
	oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})

	refused := map[string][]byte{
		"PKCS#8 as the value":              pkcs8,
		"SEC1 as the value":                sec1,
		"PKCS#8 in an OCTET STRING":        mustMarshal(pkcs8),
		"PKCS#8 deep in a SEQUENCE":        mustMarshal([]asn1.RawValue{{FullBytes: mustMarshal(1)}, {FullBytes: mustMarshal([]asn1.RawValue{{FullBytes: mustMarshal(pkcs8)}})}}),
		"PKCS#8 in a BIT STRING":           mustMarshal(asn1.BitString{Bytes: pkcs8, BitLength: 8 * len(pkcs8)}),
		"toy PKCS#1 shape":                 toyPKCS1,
		"PEM private key as UTF8String":    mustMarshal(string(keyPEM)),
		"lower-case pem words as raw text": bytes.ToLower(keyPEM),
	}
	for name, value := range refused {
		t.Run(name, func(t *testing.T) {
			c := testcert.New(t, testcert.Options{Extensions: []pkix.Extension{{Id: oid, Value: value}}})
			for _, input := range []string{c.PEM, string(pemBody(c.PEM))} {
				_, err := Parse(input)
				if ssod.CodeOf(err) != ssod.EPrivateKeyRejected {
					t.Fatalf("got %v, want private_key_rejected", err)
				}
			}
		})
	}

	// Ordinary extension values that start like a key must still pass.
	accepted := map[string][]byte{
		"basicConstraints with only a path length": mustMarshal(struct{ PathLen int }{0}),
		"SEQUENCE of INTEGER 0 and a BOOLEAN": mustMarshal(struct {
			V int
			B bool
		}{0, true}),
		"eight INTEGERs": mustMarshal(struct{ A, B, C, D, E, F, G, H int }{0, 1, 2, 3, 4, 5, 6, 7}),
		"random bytes":   mustMarshal(big.NewInt(0).Lsh(big.NewInt(1), 200).Bytes()),
	}
	for name, value := range accepted {
		t.Run("accepts "+name, func(t *testing.T) {
			c := testcert.New(t, testcert.Options{Extensions: []pkix.Extension{{Id: oid, Value: value}}})
			if _, err := Parse(c.PEM); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

// pemBody returns the base64 between a PEM block's BEGIN and END lines.
func pemBody(p string) []byte {
	lines := bytes.Split(bytes.TrimSpace([]byte(p)), []byte("\n"))
	return bytes.Join(lines[1:len(lines)-1], nil)
}

func TestCertificateReadsStoredPEM(t *testing.T) {
	c, der := withNegativeSerial(t)
	stored, err := Parse(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := Certificate(stored)
	if err != nil {
		t.Fatalf("a stored certificate with a negative serial: %v", err)
	}
	if !cert.PublicKey.(*ecdsa.PublicKey).Equal(c.Key.Public()) || cert.NotAfter.Unix() != stored.NotAfter {
		t.Error("parsed certificate differs from the stored one")
	}
	for _, bad := range []string{"", "not pem", stored.PEM + stored.PEM, strings.Replace(stored.PEM, "CERTIFICATE", "PUBLIC KEY", 2)} {
		if _, err := Certificate(ssod.X509{PEM: bad}); err == nil {
			t.Errorf("Certificate(%.30q) accepted", bad)
		}
	}
}
