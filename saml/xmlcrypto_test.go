package saml

import (
	"path/filepath"
	"strings"
	"testing"
)

// xml-crypto is a JavaScript XML-DSig implementation (its own C14N on xmldom), sharing no
// code with goxmldsig or libxmlsec1; testdata/xmlcrypto/sign.js drives it. .ci/run installs
// it with `npm ci` in that folder; without node or the installed package the test skips
// (and fails under CI=true). interop_test.go runs it through every check; this test signs
// the Response too, and an Assertion whose prefixes the Response alone declares.
func TestVerifyXMLCryptoSigned(t *testing.T) {
	node, dir := xmlCryptoSigner(t)
	c := newRSA(t)
	tmp := t.TempDir()
	key, cert := writeKeyPair(t, tmp, c)
	sign := func(t *testing.T, element, xml string) string {
		t.Helper()
		return runBatchSigner(t, t.TempDir(), []string{xml}, node, filepath.Join(dir, "sign.js"), key, cert, element)[0]
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
