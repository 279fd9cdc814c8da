package saml

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// xml-crypto is a JavaScript XML-DSig implementation (its own C14N on xmldom), sharing no
// code with goxmldsig or libxmlsec1; testdata/xmlcrypto/sign.js drives it. .ci/run installs
// it with `npm ci` in that folder; without node or the installed package the test skips.
func TestVerifyXMLCryptoSigned(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: responses signed by xml-crypto are not tested")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "xmlcrypto"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "xml-crypto")); err != nil {
		t.Skip("xml-crypto is not installed (run `npm ci` in saml/testdata/xmlcrypto): responses signed by it are not tested")
	}
	c := newRSA(t)
	tmp := t.TempDir()
	key, cert := filepath.Join(tmp, "key.pem"), filepath.Join(tmp, "cert.pem")
	for path, data := range map[string]string{key: c.KeyPEM(t), cert: c.PEM} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sign := func(t *testing.T, element, xml string) string {
		t.Helper()
		in := filepath.Join(t.TempDir(), "in.xml")
		if err := os.WriteFile(in, []byte(xml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, filepath.Join(dir, "sign.js"), key, cert, element, in)
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("xml-crypto: %v\n%s", err, msg)
		}
		return string(out)
	}
	d := validDoc()
	// The Assertion uses prefixes declared only on the Response, as SimpleSAMLphp's do.
	bare := strings.Replace(d.assertionXML(), ` xmlns:saml="`+nsAssertion+`" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`, "", 1)
	response := strings.Replace(d.responseXML(bare), `<samlp:Response `, `<samlp:Response xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" `, 1)
	opts := options(certOf(t, 9, c))
	for _, element := range []string{"Assertion", "Response"} {
		t.Run(element, func(t *testing.T) {
			xml := sign(t, element, response)
			a, err := verifyXML(xml, opts)
			if err != nil {
				t.Fatal(err)
			}
			if a.NameID != "alice@example.com" || a.CertificateID != 9 {
				t.Errorf("got %+v", a)
			}
			if _, err := verifyXML(strings.Replace(xml, "alice@example.com", "mallory@example.com", 1), opts); codeOf(err) != ErrSignature {
				t.Errorf("tampered: got %v, want %s", err, ErrSignature)
			}
		})
	}
}
