package saml

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
)

// xmlsec1 is the C reference implementation of XML-DSig (libxmlsec1, Debian package
// xmlsec1). Responses it signs share no code with goxmldsig, so these tests show that ssod
// verifies what IdPs built on it produce: raw r||s ECDSA values, and an Assertion signed
// inside a Response that alone declares its namespace prefixes (as SimpleSAMLphp does).

// signatureTemplate is the ds:Signature xmlsec1 fills in: exclusive C14N, one Reference to
// #id with the enveloped and exclusive C14N transforms, and the certificate in KeyInfo.
func signatureTemplate(method, id string) string {
	return `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="` + method + `"/>` +
		`<ds:Reference URI="#` + id + `"><ds:Transforms>` +
		`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
		`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>` +
		`</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
}

// xmlsecSign signs the first ds:Signature template in xml with xmlsec1.
func xmlsecSign(t *testing.T, bin, xml string, c testcert.Cert) string {
	t.Helper()
	dir := t.TempDir()
	key, cert, in, out := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "in.xml"), filepath.Join(dir, "out.xml")
	for path, data := range map[string]string{key: c.KeyPEM(t), cert: c.PEM, in: xml} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--sign", "--privkey-pem", key+","+cert,
		"--id-attr:ID", nsAssertion+":Assertion", "--id-attr:ID", nsProtocol+":Response", "--output", out, in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, msg)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestVerifyXMLSecSigned(t *testing.T) {
	bin := xmlsecBinary(t)
	rsaCert := newRSA(t)
	ecCert := testcert.New(t, testcert.Options{NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)})
	d := validDoc()
	// SimpleSAMLphp's shape: the Assertion uses saml: and xs: declared only on the Response.
	bare := strings.Replace(d.assertionXML(), ` xmlns:saml="`+nsAssertion+`" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`, "", 1)
	withNS := func(xml string) string {
		return strings.Replace(xml, `<samlp:Response `, `<samlp:Response xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" `, 1)
	}
	afterIssuer := func(xml, issuerOf, sig string) string {
		i := strings.Index(xml, issuerOf)
		j := i + strings.Index(xml[i:], "</saml:Issuer>") + len("</saml:Issuer>")
		return xml[:j] + sig + xml[j:]
	}
	for _, tc := range []struct {
		name   string
		cert   testcert.Cert
		method string
	}{
		{"rsa-sha256", rsaCert, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"},
		{"ecdsa-sha256", ecCert, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"},
	} {
		x, err := x509.ParseCertificate(tc.cert.DER)
		if err != nil {
			t.Fatal(err)
		}
		opts := options(Certificate{ID: 5, Enabled: true, Cert: x})
		assertionSigned := xmlsecSign(t, bin, withNS(d.responseXML(afterIssuer(bare, "<saml:Assertion", signatureTemplate(tc.method, "_a1")))), tc.cert)
		responseSigned := xmlsecSign(t, bin, withNS(afterIssuer(d.responseXML(bare), "<samlp:Response", signatureTemplate(tc.method, "_r1"))), tc.cert)
		for name, xml := range map[string]string{"assertion": assertionSigned, "response": responseSigned} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, name), func(t *testing.T) {
				a, err := verifyXML(xml, opts)
				if err != nil {
					t.Fatal(err)
				}
				if a.NameID != "alice@example.com" || a.CertificateID != 5 {
					t.Errorf("got %+v", a)
				}
				tampered := strings.Replace(xml, "alice@example.com", "mallory@example.com", 1)
				if _, err := verifyXML(tampered, opts); codeOf(err) != ErrSignature {
					t.Errorf("tampered: got %v, want %s", err, ErrSignature)
				}
			})
		}
	}
}
