package saml

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/internal/testenv"
)

// The interop matrix: every external signer signs, for each check Verify decides, a response
// that breaks only that check, plus valid ones; Verify must give the check's exact Code. The
// signers share no code with goxmldsig, ssod's XML-DSig library, so a canonicalisation or
// encoding difference between them and ssod shows up here and not only in production:
//
//   - xmlsec1: libxmlsec1, the C reference implementation (Debian package xmlsec1), RSA and ECDSA.
//   - python3-saml: OneLogin's SAML toolkit (Debian package python3-onelogin-saml2), which builds
//     and places its own signature template with python3-xmlsec and lxml; RSA only (its
//     add_sign knows no ECDSA).
//   - xml-crypto: a JavaScript XML-DSig implementation with its own C14N on xmldom (npm, the
//     library samlify and passport-saml sign with); RSA only (it has no ECDSA).
//
// .ci/run installs all three; on a machine without one its column skips, saying how to
// install it, and under CI=true it fails instead.

// missingSigner skips t because an external signer is not installed, or fails it under
// CI=true, where .ci/run installs every signer and a skip would hide a lost column.
func missingSigner(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if testenv.CI() {
		t.Fatalf("%s; CI=true needs it (.ci/run installs it)", msg)
	}
	t.Skip(msg)
}

// xmlsecBinary returns the xmlsec1 command.
func xmlsecBinary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		missingSigner(t, "xmlsec1 is not installed (Debian package xmlsec1): responses signed by libxmlsec1 are not tested")
	}
	return bin
}

// xmlCryptoSigner returns node and the folder of sign.js, with xml-crypto installed in it.
func xmlCryptoSigner(t testing.TB) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingSigner(t, "node is not installed: responses signed by xml-crypto are not tested")
	}
	dir, err = filepath.Abs(filepath.Join("testdata", "xmlcrypto"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "xml-crypto")); err != nil {
		missingSigner(t, "xml-crypto is not installed (run `npm ci` in saml/testdata/xmlcrypto): responses signed by it are not tested")
	}
	return node, dir
}

// oneloginPython is Debian's python3, the one python3-onelogin-saml2 installs into (a
// python3 earlier on PATH, from pyenv or a virtualenv, would not see it).
const oneloginPython = "/usr/bin/python3"

// oneloginSigner checks that Debian's python3 imports python3-saml.
func oneloginSigner(t testing.TB) {
	t.Helper()
	if out, err := exec.Command(oneloginPython, "-c", "import onelogin.saml2.utils").CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		missingSigner(t, "python3-saml is not installed for %s (Debian package python3-onelogin-saml2): responses signed by it are not tested (%v: %s)",
			oneloginPython, err, lines[len(lines)-1])
	}
}

// writeKeyPair writes c's key and certificate as PEM files in dir.
func writeKeyPair(t testing.TB, dir string, c testcert.Cert) (key, cert string) {
	t.Helper()
	key, cert = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	for path, data := range map[string]string{key: c.KeyPEM(t), cert: c.PEM} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return key, cert
}

// runBatchSigner writes docs to files, runs name with args followed by those files (the
// helper scripts' batch form), and returns each file's ".signed" result.
func runBatchSigner(t testing.TB, dir string, docs []string, name string, args ...string) []string {
	t.Helper()
	files := make([]string, len(docs))
	for i, d := range docs {
		files[i] = filepath.Join(dir, fmt.Sprintf("doc%d.xml", i))
		if err := os.WriteFile(files[i], []byte(d), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(name, append(args, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
	signed := make([]string, len(docs))
	for i, f := range files {
		b, err := os.ReadFile(f + ".signed")
		if err != nil {
			t.Fatal(err)
		}
		signed[i] = string(b)
	}
	return signed
}

// stripXMLDecl removes a leading XML declaration, so a signed element can be embedded.
func stripXMLDecl(xml string) string {
	xml = strings.TrimSpace(xml)
	if strings.HasPrefix(xml, "<?xml") {
		if i := strings.Index(xml, "?>"); i >= 0 {
			return strings.TrimSpace(xml[i+2:])
		}
	}
	return xml
}

// interopSigner is one column of the matrix.
type interopSigner struct {
	name string
	ec   bool // an ECDSA P-256 key instead of RSA-2048
	// sign signs the root element of each document (an Assertion or a Response, named by
	// root) after its first saml:Issuer, with c's key; it skips or fails t when the signer
	// is missing.
	sign func(t *testing.T, c testcert.Cert, root string, docs []string) []string
}

func interopSigners() []interopSigner {
	xmlsec := func(method string) func(*testing.T, testcert.Cert, string, []string) []string {
		return func(t *testing.T, c testcert.Cert, root string, docs []string) []string {
			bin := xmlsecBinary(t)
			id := map[string]string{"Assertion": "_a1", "Response": "_r1"}[root]
			out := make([]string, len(docs))
			for i, d := range docs {
				j := strings.Index(d, "</saml:Issuer>") + len("</saml:Issuer>")
				out[i] = xmlsecSign(t, bin, d[:j]+signatureTemplate(method, id)+d[j:], c)
			}
			return out
		}
	}
	return []interopSigner{
		{name: "xmlsec1/rsa-sha256", sign: xmlsec("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")},
		{name: "xmlsec1/ecdsa-sha256", ec: true, sign: xmlsec("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")},
		{name: "python3-saml/rsa-sha256", sign: func(t *testing.T, c testcert.Cert, _ string, docs []string) []string {
			oneloginSigner(t)
			dir := t.TempDir()
			key, cert := writeKeyPair(t, dir, c)
			script, err := filepath.Abs(filepath.Join("testdata", "onelogin", "sign.py"))
			if err != nil {
				t.Fatal(err)
			}
			return runBatchSigner(t, dir, docs, oneloginPython, script, key, cert)
		}},
		{name: "xml-crypto/rsa-sha256", sign: func(t *testing.T, c testcert.Cert, root string, docs []string) []string {
			node, sdir := xmlCryptoSigner(t)
			dir := t.TempDir()
			key, cert := writeKeyPair(t, dir, c)
			return runBatchSigner(t, dir, docs, node, filepath.Join(sdir, "sign.js"), key, cert, root)
		}},
	}
}

// interopCase is one row: a response that breaks exactly one check (or none).
type interopCase struct {
	name     string
	change   func(*doc)          // applied to the valid document before signing; nil for none
	response bool                // sign the Response instead of the Assertion
	stranger bool                // sign with a key the integration does not hold
	after    func(string) string // applied to the signed response; nil for none
	want     Code                // "" for accepted
}

func interopCases() []interopCase {
	second := validDoc()
	second.NameID = "mallory@example.com"
	secondAssertion := strings.Replace(second.assertionXML(), `ID="_a1"`, `ID="_a2"`, 1)
	return []interopCase{
		{name: "valid, Assertion signed"},
		{name: "valid, Response signed", response: true},
		{name: "1 malformed: a DTD", after: func(x string) string { return `<!DOCTYPE samlp:Response>` + x }, want: ErrMalformed},
		{name: "1 malformed: a second, unsigned Assertion", after: func(x string) string {
			return strings.Replace(x, `</samlp:Response>`, secondAssertion+`</samlp:Response>`, 1)
		}, want: ErrMalformed},
		{name: "3 status: Requester", change: func(d *doc) { d.Status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, want: ErrStatus},
		{name: "4 signature: NameID changed after signing", after: func(x string) string {
			return strings.Replace(x, "alice@example.com", "mallory@example.com", 1)
		}, want: ErrSignature},
		{name: "4 signature: a key the integration does not hold", stranger: true, want: ErrSignature},
		{name: "5 issuer: the Assertion's", change: func(d *doc) { d.AssertionIssuer = "https://evil.example.com" }, want: ErrIssuer},
		{name: "5 issuer: the Response's", change: func(d *doc) { d.ResponseIssuer = "https://evil.example.com" }, want: ErrIssuer},
		{name: "6 destination", change: func(d *doc) { d.Destination = "https://other.example.com/acs" }, want: ErrDestination},
		{name: "7 recipient", change: func(d *doc) { d.Recipient = "https://other.example.com/acs" }, want: ErrRecipient},
		{name: "7 recipient: no bearer confirmation", change: func(d *doc) { d.Method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key" }, want: ErrRecipient},
		{name: "8 not yet valid", change: func(d *doc) { d.NotBefore = ts(testNow.Add(4 * time.Minute)) }, want: ErrNotYetValid},
		{name: "9 expired: Conditions", change: func(d *doc) { d.NotOnOrAfter = ts(testNow.Add(-4 * time.Minute)) }, want: ErrExpired},
		{name: "9 expired: the confirmation", change: func(d *doc) { d.ConfNotOnOrAfter = ts(testNow.Add(-4 * time.Minute)) }, want: ErrExpired},
		{name: "10 audience", change: func(d *doc) { d.Audience = "https://other.example.com" }, want: ErrAudience},
		{name: "11 subject: empty NameID", change: func(d *doc) { d.NameID = "" }, want: ErrSubject},
		{name: "12 in response to: the two differ", change: func(d *doc) { d.ConfInResponseTo = "id-other" }, want: ErrInResponseTo},
	}
}

// TestInteropMatrix runs every case of interopCases through every external signer.
func TestInteropMatrix(t *testing.T) {
	const certID = 7
	for _, s := range interopSigners() {
		t.Run(s.name, func(t *testing.T) {
			newCert := newRSA
			if s.ec {
				newCert = func(t testing.TB) testcert.Cert {
					return testcert.New(t, testcert.Options{NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)})
				}
			}
			own, stranger := newCert(t), newCert(t)
			cases := interopCases()
			docs := make([]doc, len(cases))
			// One signer run per key and signed element keeps the matrix to a few processes.
			type batch struct {
				stranger, response bool
			}
			toSign := map[batch][]int{}
			for i, tc := range cases {
				docs[i] = validDoc()
				if tc.change != nil {
					tc.change(&docs[i])
				}
				b := batch{tc.stranger, tc.response}
				toSign[b] = append(toSign[b], i)
			}
			responses := make([]string, len(cases))
			for b, idx := range toSign {
				key, root := own, "Assertion"
				if b.stranger {
					key = stranger
				}
				in := make([]string, len(idx))
				for j, i := range idx {
					if b.response {
						in[j] = docs[i].responseXML(docs[i].assertionXML())
					} else {
						in[j] = docs[i].assertionXML()
					}
				}
				if b.response {
					root = "Response"
				}
				out := s.sign(t, key, root, in)
				for j, i := range idx {
					if b.response {
						responses[i] = stripXMLDecl(out[j])
					} else {
						responses[i] = docs[i].responseXML(stripXMLDecl(out[j]))
					}
					// The row must test the placement it names: one signature, over that element.
					uri := map[bool]string{false: `URI="#_a1"`, true: `URI="#_r1"`}[b.response]
					if strings.Count(responses[i], "SignatureValue>") != 2 || !strings.Contains(responses[i], uri) {
						t.Fatalf("%s: the signer did not sign exactly the %s (want one Reference %s):\n%s", cases[i].name, root, uri, responses[i])
					}
				}
			}
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					xml := responses[i]
					if tc.after != nil {
						xml = tc.after(xml)
					}
					a, err := verifyXML(xml, options(certOf(t, certID, own)))
					got := codeOf(err)
					t.Logf("matrix: %s | %s | %s", s.name, tc.name, resultName(got))
					if got != tc.want {
						t.Fatalf("got %q (%v), want %q", got, err, tc.want)
					}
					if err == nil {
						checkInteropAssertion(t, a, certID)
						return
					}
					checkRefusalAssertion(t, err, tc.want, certID)
				})
			}
		})
	}
}

func resultName(c Code) string {
	if c == "" {
		return "ok"
	}
	return string(c)
}

// checkInteropAssertion compares a with what validDoc says, signed by certificate certID.
func checkInteropAssertion(t *testing.T, a *Assertion, certID int64) {
	t.Helper()
	want := &Assertion{
		ID: "_a1", Issuer: testIdP, NameID: "alice@example.com",
		NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		SessionIndex: "_s1", AuthnInstant: testNow, InResponseTo: "id-req1",
		NotOnOrAfter:  testNow.Add(5 * time.Minute),
		Attributes:    map[string][]string{"groups": {"admins", "dev"}},
		CertificateID: certID,
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
}

// checkRefusalAssertion: a refusal after the signature (checks 5 to 12) names the verified
// assertion and its certificate for the login trace; one at checks 1 to 4 names nothing.
func checkRefusalAssertion(t *testing.T, err error, code Code, certID int64) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *Error", err)
	}
	switch code {
	case ErrMalformed, ErrStatus, ErrSignature:
		if e.Assertion != nil {
			t.Errorf("a refusal at check %s carries %+v", code, e.Assertion)
		}
	default:
		if e.Assertion == nil || e.Assertion.ID != "_a1" || e.Assertion.CertificateID != certID {
			t.Fatalf("a refusal at %s carries %+v", code, e.Assertion)
		}
		if code != ErrSubject && e.Assertion.NameID != "alice@example.com" {
			t.Errorf("a refusal at %s carries NameID %q", code, e.Assertion.NameID)
		}
	}
}
