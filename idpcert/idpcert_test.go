package idpcert

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testenv"
)

// idpCerts are the real IdP certificates (public test data kept outside the
// repository, in the folder SSOD_TEST_IDP_CERTS names; see the README's
// Tests section) with their windows as `openssl x509 -noout -dates` reads
// them.
var idpCerts = []struct {
	file                string
	notBefore, notAfter int64
}{
	{"adfs_idp_signing_cert.pem", 1478125755, 1509661755},
	{"auth0_cert.pem", 1469468985, 1901468985},
	{"okta_cert.pem", 1455054726, 1770673986},
	{"onelogin_cert.pem", 1488768413, 1646621213},
}

type form struct{ name, input string }

// pasteForms returns the ways users paste the certificate of a PEM file: the
// file itself, re-wrapped, with other line ends, and its base64 body alone.
func pasteForms(file string) []form {
	lf := strings.ReplaceAll(file, "\r\n", "\n")
	lines := strings.Split(strings.TrimSpace(lf), "\n")
	bodyLines := lines[1 : len(lines)-1]
	body := strings.Join(bodyLines, "\n")
	oneLine := strings.Join(bodyLines, "")
	armor := func(b string) string {
		return lines[0] + "\n" + b + "\n" + lines[len(lines)-1] + "\n"
	}
	forms := []form{
		{"file as is", file},
		{"PEM with LF", lf},
		{"PEM with CRLF", strings.ReplaceAll(lf, "\n", "\r\n")},
		{"PEM without final newline", strings.TrimRight(file, "\r\n")},
		{"PEM surrounded by whitespace", " \n\t\r\n" + file + "\n \t \n"},
		{"PEM wrapped at 64 columns", armor(wrap(oneLine, 64, "\n"))},
		{"PEM wrapped at 76 columns", armor(wrap(oneLine, 76, "\n"))},
		{"PEM body on one line", armor(oneLine)},
		{"body multi-line", body},
		{"body multi-line CRLF", strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"},
		{"body on one line", oneLine},
		{"body surrounded by whitespace", "\n\t " + body + " \r\n\n"},
		{"body split by spaces and tabs", wrap(oneLine, 16, " \t")},
	}
	if unpadded := strings.TrimRight(oneLine, "="); unpadded != oneLine {
		forms = append(forms,
			form{"body on one line without padding", unpadded},
			form{"body multi-line without padding", wrap(unpadded, 64, "\n")},
		)
	}
	return forms
}

func wrap(s string, width int, sep string) string {
	var parts []string
	for len(s) > width {
		parts = append(parts, s[:width])
		s = s[width:]
	}
	return strings.Join(append(parts, s), sep)
}

// idpCertsDir is the folder of real IdP certificates; t skips without it
// (fails under CI=true).
func idpCertsDir(t testing.TB) string {
	return testenv.Dir(t, testenv.IdPCerts, "tests on real IdP certificates")
}

func TestParseIdPCertificates(t *testing.T) {
	dir := idpCertsDir(t)
	for _, c := range idpCerts {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			block, rest := pem.Decode(raw)
			if block == nil || len(bytes.TrimSpace(rest)) != 0 {
				t.Fatalf("%s is not a single PEM block", c.file)
			}
			wantPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}))
			for _, f := range pasteForms(string(raw)) {
				got, err := Parse(f.input)
				if err != nil {
					t.Errorf("%s: Parse: %v", f.name, err)
					continue
				}
				if got.NotBefore != c.notBefore || got.NotAfter != c.notAfter {
					t.Errorf("%s: window = [%d, %d], want [%d, %d]", f.name, got.NotBefore, got.NotAfter, c.notBefore, c.notAfter)
				}
				if got.PEM != wantPEM {
					t.Errorf("%s: PEM = %q, want canonical %q", f.name, got.PEM, wantPEM)
				}
				checkReparses(t, f.name, got, block.Bytes)
			}
		})
	}
}

// checkReparses checks that got.PEM holds exactly der and parses to got.
func checkReparses(t *testing.T, name string, got ssod.X509, der []byte) {
	t.Helper()
	b, rest := pem.Decode([]byte(got.PEM))
	if b == nil || len(rest) != 0 || b.Type != "CERTIFICATE" || !bytes.Equal(b.Bytes, der) {
		t.Errorf("%s: output PEM does not hold the input DER", name)
	}
	again, err := Parse(got.PEM)
	if err != nil || again != got {
		t.Errorf("%s: Parse(output) = %+v, %v; want %+v", name, again, err, got)
	}
}

type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

// keys are generated once per test run; RSA generation takes a while.
var keys = sync.OnceValue(func() (k testKeys) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// issue returns the DER of a certificate for pub signed by signer; pub may
// be a key nobody holds the private half of.
func issue(t testing.TB, pub any, signer crypto.Signer, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "idp.example.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func b64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }

func TestParseGenerated(t *testing.T) {
	k := keys()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	year := 365 * 24 * time.Hour
	cases := []struct {
		name                string
		signer              crypto.Signer
		notBefore, notAfter time.Time
	}{
		{"RSA 2048", k.rsa, now.Add(-time.Hour), now.Add(year)},
		{"ECDSA P-256", k.ec, now.Add(-time.Hour), now.Add(year)},
		{"ECDSA P-384", p384, now.Add(-time.Hour), now.Add(year)},
		{"Ed25519", k.ed, now.Add(-time.Hour), now.Add(year)},
		{"expired", k.ec, now.Add(-2 * year), now.Add(-year)},
		{"not yet valid", k.ec, now.Add(24 * time.Hour), now.Add(year)},
		{"ends after 2049 (GeneralizedTime)", k.ed, now, time.Date(2100, 1, 1, 0, 0, 0, 750e6, time.UTC)},
		{"starts before the Unix epoch", k.ed, time.Date(1960, 6, 1, 12, 0, 0, 500e6, time.UTC), now},
	}
	for _, c := range cases {
		der := issue(t, c.signer.Public(), c.signer, c.notBefore, c.notAfter)
		wantBefore := c.notBefore.Truncate(time.Second).Unix()
		wantAfter := c.notAfter.Truncate(time.Second).Unix()
		for _, f := range []form{
			{"PEM", pemOf("CERTIFICATE", der)},
			{"base64", b64(der)},
			{"base64 wrapped at 76", wrap(b64(der), 76, "\r\n")},
		} {
			name := c.name + ", " + f.name
			got, err := Parse(f.input)
			if err != nil {
				t.Errorf("%s: Parse: %v", name, err)
				continue
			}
			if got.NotBefore != wantBefore || got.NotAfter != wantAfter {
				t.Errorf("%s: window = [%d, %d], want [%d, %d]", name, got.NotBefore, got.NotAfter, wantBefore, wantAfter)
			}
			checkReparses(t, name, got, der)
		}
	}
}

// rsaModulus returns an odd number of exactly bits bits: an RSA public key
// of that size for a certificate, without the cost of generating one.
func rsaModulus(bits int) *big.Int {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return n.SetBit(n, 0, 1)
}

func TestParseRSAKeySize(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		bits int
		ok   bool
	}{{8192, true}, {8193, false}, {16384, false}} {
		der := issue(t, &rsa.PublicKey{N: rsaModulus(c.bits), E: 65537}, keys().ec, now, now.Add(time.Hour))
		got, err := Parse(pemOf("CERTIFICATE", der))
		if c.ok {
			if err != nil {
				t.Errorf("%d bits: %v", c.bits, err)
			} else {
				checkReparses(t, "8192 bits", got, der)
			}
			continue
		}
		e := checkError(t, err, ssod.EInvalidCertificate)
		if e != nil && !strings.Contains(e.Message, "8192") {
			t.Errorf("%d bits: message %q does not give the limit", c.bits, e.Message)
		}
	}
}

func TestParseSizeLimit(t *testing.T) {
	der := issue(t, keys().ed.Public(), keys().ed, time.Now(), time.Now().Add(time.Hour))
	p := pemOf("CERTIFICATE", der)
	padded := p + strings.Repeat(" ", MaxInputSize-len(p))
	if _, err := Parse(padded); err != nil {
		t.Errorf("certificate padded to exactly %d bytes: %v", MaxInputSize, err)
	}
	_, err := Parse(padded + "\n")
	checkError(t, err, ssod.ETooLarge)
}

// checkError checks that err is an *ssod.Error about public_certificate with
// code and a message, and returns it (nil after reporting a failure).
func checkError(t *testing.T, err error, code ssod.Code) *ssod.Error {
	t.Helper()
	var e *ssod.Error
	if !errors.As(err, &e) {
		t.Errorf("error = %v, want *ssod.Error with code %s", err, code)
		return nil
	}
	if e.Code != code || e.Field != "public_certificate" || e.Message == "" {
		t.Errorf("error = %+v, want code %s on field public_certificate with a message", e, code)
		return nil
	}
	return e
}

// rejectCases returns inputs that Parse must reject, with the code and a
// word of the message that shows which check fired.
func rejectCases(t *testing.T) []struct {
	name, input string
	code        ssod.Code
	msg         string
} {
	k := keys()
	now := time.Now()
	certEC := issue(t, k.ec.Public(), k.ec, now, now.Add(time.Hour))
	certRSA := issue(t, k.rsa.Public(), k.rsa, now, now.Add(time.Hour))

	pkcs1 := x509.MarshalPKCS1PrivateKey(k.rsa)
	must := func(der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	pkcs8RSA := must(x509.MarshalPKCS8PrivateKey(k.rsa))
	pkcs8EC := must(x509.MarshalPKCS8PrivateKey(k.ec))
	pkcs8Ed := must(x509.MarshalPKCS8PrivateKey(k.ed))
	sec1 := must(x509.MarshalECPrivateKey(k.ec))
	// Private keys that the crypto/x509 parsers refuse: OpenSSL's DSA
	// format and PKCS#8 with an algorithm Go does not know (X448).
	big1 := func() *big.Int { n, _ := rand.Int(rand.Reader, rsaModulus(1024)); return n }
	dsa := must(asn1.Marshal(struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}{0, big1(), big1(), big1(), big1(), big1()}))
	x448 := must(asn1.Marshal(struct {
		Version int
		Algo    pkix.AlgorithmIdentifier
		Key     []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 101, 111}}, bytes.Repeat([]byte{7}, 56)}))
	openssh := pemOf("OPENSSH PRIVATE KEY", append([]byte("openssh-key-v1\x00\x00\x00\x00\x04none"), k.ed...))

	csr := must(x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "idp.example.com"}}, k.ec))
	spki := must(x509.MarshalPKIXPublicKey(k.ec.Public()))

	// A certificate whose key algorithm x509 does not know: an Ed25519
	// certificate (signed with ECDSA, so the OID appears once) relabelled X448.
	unknownAlg := issue(t, k.ed.Public(), k.ec, now, now.Add(time.Hour))
	ed25519OID, x448OID := []byte{6, 3, 0x2b, 0x65, 0x70}, []byte{6, 3, 0x2b, 0x65, 0x6f}
	if bytes.Count(unknownAlg, ed25519OID) != 1 {
		t.Fatal("Ed25519 OID not found exactly once in the certificate")
	}
	unknownAlg = bytes.Replace(unknownAlg, ed25519OID, x448OID, 1)

	certPEM := pemOf("CERTIFICATE", certEC)
	concat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	return []struct {
		name, input string
		code        ssod.Code
		msg         string
	}{
		// Private keys, alone or next to a certificate.
		{"PKCS#1 RSA key PEM", pemOf("RSA PRIVATE KEY", pkcs1), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 RSA key PEM", pemOf("PRIVATE KEY", pkcs8RSA), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 ECDSA key PEM", pemOf("PRIVATE KEY", pkcs8EC), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 Ed25519 key PEM", pemOf("PRIVATE KEY", pkcs8Ed), ssod.EPrivateKeyRejected, "private key"},
		{"SEC1 EC key PEM", pemOf("EC PRIVATE KEY", sec1), ssod.EPrivateKeyRejected, "private key"},
		{"openssl ecparam -genkey output", pemOf("EC PARAMETERS", []byte{6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 3, 1, 7}) + pemOf("EC PRIVATE KEY", sec1), ssod.EPrivateKeyRejected, "private key"},
		{"encrypted PKCS#8 key PEM", pemOf("ENCRYPTED PRIVATE KEY", pkcs8EC), ssod.EPrivateKeyRejected, "private key"},
		{"legacy encrypted PKCS#1 key PEM", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n" + wrap(b64(pkcs1), 64, "\n") + "\n-----END RSA PRIVATE KEY-----\n", ssod.EPrivateKeyRejected, "private key"},
		{"OpenSSH key", openssh, ssod.EPrivateKeyRejected, "private key"},
		{"the words private key in lower case", "my idp private key:\n" + b64(pkcs8EC), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#1 key base64 on one line", b64(pkcs1), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#1 key base64 wrapped", wrap(b64(pkcs1), 64, "\n"), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 RSA key base64", b64(pkcs8RSA), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 ECDSA key base64", b64(pkcs8EC), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 Ed25519 key base64", b64(pkcs8Ed), ssod.EPrivateKeyRejected, "private key"},
		{"SEC1 EC key base64 without padding", base64.RawStdEncoding.EncodeToString(sec1), ssod.EPrivateKeyRejected, "private key"},
		{"DSA key base64", b64(dsa), ssod.EPrivateKeyRejected, "private key"},
		{"PKCS#8 X448 key base64", b64(x448), ssod.EPrivateKeyRejected, "private key"},
		{"certificate then its key PEM", certPEM + pemOf("EC PRIVATE KEY", sec1), ssod.EPrivateKeyRejected, "private key"},
		{"key then certificate PEM", pemOf("PRIVATE KEY", pkcs8EC) + certPEM, ssod.EPrivateKeyRejected, "private key"},
		{"certificate then its key as base64 DER", b64(concat(certEC, pkcs8EC)), ssod.EPrivateKeyRejected, "private key"},
		{"key DER in a CERTIFICATE block", pemOf("CERTIFICATE", pkcs1), ssod.EPrivateKeyRejected, "private key"},
		{"key DER in a CERTIFICATE block after a certificate", certPEM + pemOf("CERTIFICATE", sec1), ssod.EPrivateKeyRejected, "private key"},
		{"key DER in an unlabelled block", pemOf("DATA", pkcs8RSA), ssod.EPrivateKeyRejected, "private key"},

		// Too large, checked before anything else.
		{"16 KiB + 1 bytes", strings.Repeat("A", MaxInputSize+1), ssod.ETooLarge, "16384"},
		{"certificate padded past 16 KiB", certPEM + strings.Repeat("\n", MaxInputSize), ssod.ETooLarge, "16384"},
		{"private key past 16 KiB", strings.Repeat(pemOf("PRIVATE KEY", pkcs8RSA), 16), ssod.ETooLarge, "16384"},

		// More than one certificate.
		{"chain of two certificates PEM", certPEM + pemOf("CERTIFICATE", certRSA), ssod.EInvalidCertificate, "exactly one"},
		{"two certificates as base64 DER", b64(concat(certEC, certRSA)), ssod.EInvalidCertificate, "exactly one"},
		{"two certificates in one CERTIFICATE block", pemOf("CERTIFICATE", concat(certEC, certRSA)), ssod.EInvalidCertificate, "exactly one"},
		{"certificate then a CSR", certPEM + pemOf("CERTIFICATE REQUEST", csr), ssod.EInvalidCertificate, "exactly one"},

		// Not a certificate.
		{"empty", "", ssod.EInvalidCertificate, "empty"},
		{"whitespace only", " \r\n\t\n ", ssod.EInvalidCertificate, "empty"},
		{"garbage", "this is not a certificate!", ssod.EInvalidCertificate, "base64"},
		{"CSR PEM", pemOf("CERTIFICATE REQUEST", csr), ssod.EInvalidCertificate, "signing request"},
		{"CSR base64 DER", b64(csr), ssod.EInvalidCertificate, "not a valid X.509"},
		{"PUBLIC KEY block", pemOf("PUBLIC KEY", spki), ssod.EInvalidCertificate, "public key"},
		{"RSA PUBLIC KEY block", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)), ssod.EInvalidCertificate, "public key"},
		{"public key base64 DER", b64(spki), ssod.EInvalidCertificate, "not a valid X.509"},
		{"PKCS7 block", pemOf("PKCS7", certEC), ssod.EInvalidCertificate, "BEGIN CERTIFICATE"},
		{"TRUSTED CERTIFICATE block", pemOf("TRUSTED CERTIFICATE", certEC), ssod.EInvalidCertificate, "BEGIN CERTIFICATE"},
		{"PEM headers", strings.Replace(certPEM, "-----\n", "-----\nComment: hello\n\n", 1), ssod.EInvalidCertificate, "headers"},
		{"trailing garbage after END", certPEM + "thanks!\n", ssod.EInvalidCertificate, "after"},
		{"garbage before BEGIN", "Subject: CN=idp.example.com\n" + certPEM, ssod.EInvalidCertificate, "before"},
		{"BEGIN line without its space", strings.Replace(certPEM, "BEGIN CERTIFICATE", "BEGINCERTIFICATE", 1), ssod.EInvalidCertificate, "not valid PEM"},
		{"text on the END line", strings.TrimSuffix(certPEM, "\n") + " thanks\n", ssod.EInvalidCertificate, "not valid PEM"},
		{"no END line", strings.TrimSuffix(certPEM, "-----END CERTIFICATE-----\n"), ssod.EInvalidCertificate, "not valid PEM"},
		{"END line of another type", strings.Replace(certPEM, "END CERTIFICATE", "END PUBLIC KEY", 1), ssod.EInvalidCertificate, "not valid PEM"},
		{"damaged base64 in PEM", strings.Replace(certPEM, "\n", "\n!!", 2), ssod.EInvalidCertificate, "not valid PEM"},
		// pem.Decode would skip the first, malformed, block and return the second.
		{"malformed block then a certificate", "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n" + certPEM, ssod.EInvalidCertificate, "not valid PEM"},
		{"DER with trailing bytes base64", b64(concat(certEC, []byte{0, 0})), ssod.EInvalidCertificate, "not a valid X.509"},
		{"DER with trailing bytes PEM", pemOf("CERTIFICATE", concat(certEC, []byte{5, 0})), ssod.EInvalidCertificate, "not a valid X.509"},
		{"truncated DER base64", b64(certEC[:len(certEC)-10]), ssod.EInvalidCertificate, "not a valid X.509"},
		{"truncated DER PEM", pemOf("CERTIFICATE", certEC[:len(certEC)/2]), ssod.EInvalidCertificate, "not a valid X.509"},
		{"DER with an absurd length", b64([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00}), ssod.EInvalidCertificate, "not a valid X.509"},
		{"invalid base64 characters", "MIIB$$$$" + b64(certEC), ssod.EInvalidCertificate, "base64"},
		{"padding in the middle of base64", b64(certEC[:30]) + "==" + b64(certEC[30:]), ssod.EInvalidCertificate, "base64"},
		{"too much base64 padding", strings.TrimRight(b64(certEC), "=") + "===", ssod.EInvalidCertificate, "base64"},
		{"URL-safe base64", base64.RawURLEncoding.EncodeToString(concat([]byte{0xfb, 0xff}, certEC)), ssod.EInvalidCertificate, "base64"},
		{"unknown public key algorithm", pemOf("CERTIFICATE", unknownAlg), ssod.EInvalidCertificate, "algorithm"},
		{"RSA key over 8192 bits", b64(issue(t, &rsa.PublicKey{N: rsaModulus(9000), E: 65537}, k.ec, now, now.Add(time.Hour))), ssod.EInvalidCertificate, "8192"},
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range rejectCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.input)
			if got != (ssod.X509{}) {
				t.Errorf("Parse returned %+v with the error", got)
			}
			e := checkError(t, err, c.code)
			if e == nil {
				return
			}
			if !strings.Contains(e.Message, c.msg) {
				t.Errorf("message %q does not contain %q", e.Message, c.msg)
			}
			if leak := echoed(c.input, e.Error()); leak != "" {
				t.Errorf("error %q echoes input %q", e.Error(), leak)
			}
		})
	}
}

// echoed returns a 20-character slice of the base64 body of input (the input
// without BEGIN/END lines and whitespace) that msg contains, or "".
func echoed(input, msg string) string {
	var body []string
	for _, line := range strings.Split(input, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "-----") {
			body = append(body, line)
		}
	}
	s := strings.Join(strings.Fields(strings.Join(body, "")), "")
	for i := 0; i+20 <= len(s); i++ {
		if strings.Contains(msg, s[i:i+20]) {
			return s[i : i+20]
		}
	}
	return ""
}
