package saml

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/samltest"
	"github.com/ssod/ssod/internal/testcert"
)

// The integration every unit test signs in to.
const (
	testIdP      = "https://idp.example.com/metadata"
	testACS      = "https://sso.example.com/v3/public/sso/saml/response/id/9b0a"
	testAudience = "https://sso.example.com/v3/public/sso/saml/response/id/9b0a"
)

// testNow is the clock of every unit test; testcert windows are built around it.
var testNow = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

// doc describes one Response; build renders it. Empty strings omit optional parts where
// the comment says so.
type doc struct {
	ResponseIssuer   string // "" omits the Response's Issuer
	Destination      string // "" omits Destination
	Status           string
	InResponseTo     string // on the Response; "" omits
	AssertionIssuer  string // "" omits the Assertion's Issuer
	NameID           string // raw XML content of NameID
	Method           string
	Recipient        string
	ConfInResponseTo string // "" omits
	ConfNotOnOrAfter string // "" omits
	NotBefore        string // Conditions; "" omits
	NotOnOrAfter     string // Conditions; "" omits
	Audience         string
	Extra            string // raw XML appended to the Assertion (after AuthnStatement)
}

func validDoc() doc {
	return doc{
		ResponseIssuer:   testIdP,
		Destination:      testACS,
		Status:           statusSuccess,
		InResponseTo:     "id-req1",
		AssertionIssuer:  testIdP,
		NameID:           "alice@example.com",
		Method:           methodBearer,
		Recipient:        testACS,
		ConfInResponseTo: "id-req1",
		ConfNotOnOrAfter: ts(testNow.Add(5 * time.Minute)),
		NotBefore:        ts(testNow.Add(-time.Minute)),
		NotOnOrAfter:     ts(testNow.Add(5 * time.Minute)),
		Audience:         testAudience,
	}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func attr(name, value string) string {
	if value == "" {
		return ""
	}
	return fmt.Sprintf(" %s=%q", name, value)
}

// assertionXML renders the Assertion on its own, declaring the namespaces it uses.
func (d doc) assertionXML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<saml:Assertion xmlns:saml="%s" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_a1" Version="2.0" IssueInstant="%s">`, nsAssertion, ts(testNow))
	if d.AssertionIssuer != "" {
		fmt.Fprintf(&b, `<saml:Issuer>%s</saml:Issuer>`, d.AssertionIssuer)
	}
	fmt.Fprintf(&b, `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">%s</saml:NameID>`, d.NameID)
	fmt.Fprintf(&b, `<saml:SubjectConfirmation Method=%q><saml:SubjectConfirmationData%s%s%s/></saml:SubjectConfirmation></saml:Subject>`,
		d.Method, attr("NotOnOrAfter", d.ConfNotOnOrAfter), attr("Recipient", d.Recipient), attr("InResponseTo", d.ConfInResponseTo))
	fmt.Fprintf(&b, `<saml:Conditions%s%s><saml:AudienceRestriction><saml:Audience>%s</saml:Audience></saml:AudienceRestriction></saml:Conditions>`,
		attr("NotBefore", d.NotBefore), attr("NotOnOrAfter", d.NotOnOrAfter), d.Audience)
	fmt.Fprintf(&b, `<saml:AuthnStatement AuthnInstant="%s" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`, ts(testNow))
	b.WriteString(`<saml:AttributeStatement><saml:Attribute Name="groups"><saml:AttributeValue xsi:type="xs:string">admins</saml:AttributeValue><saml:AttributeValue xsi:type="xs:string">dev</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`)
	b.WriteString(d.Extra)
	b.WriteString(`</saml:Assertion>`)
	return b.String()
}

// responseXML renders the Response around assertion (already rendered, maybe signed).
func (d doc) responseXML(assertion string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<samlp:Response xmlns:samlp="%s" xmlns:saml="%s" ID="_r1" Version="2.0" IssueInstant="%s"%s%s>`,
		nsProtocol, nsAssertion, ts(testNow), attr("Destination", d.Destination), attr("InResponseTo", d.InResponseTo))
	if d.ResponseIssuer != "" {
		fmt.Fprintf(&b, `<saml:Issuer>%s</saml:Issuer>`, d.ResponseIssuer)
	}
	fmt.Fprintf(&b, `<samlp:Status><samlp:StatusCode Value=%q/></samlp:Status>`, d.Status)
	b.WriteString(assertion)
	b.WriteString(`</samlp:Response>`)
	return b.String()
}

// signer signs elements the way IdPs do: enveloped, exclusive C14N, Signature after Issuer.
type signer struct {
	key  crypto.Signer
	der  []byte
	hash crypto.Hash
	// asn1ECDSA leaves an ECDSA SignatureValue in ASN.1 (what crypto.Signer gives) instead
	// of converting it to XML-DSig's r||s.
	asn1ECDSA bool
	noKeyInfo bool
}

func newSigner(c testcert.Cert) signer { return signer{key: c.Key, der: c.DER, hash: crypto.SHA256} }

// sign returns xml (one element, declaring every namespace it uses) with an enveloped
// signature inserted after its Issuer.
func (s signer) sign(t testing.TB, xml string) string {
	t.Helper()
	return samltest.Signer{Key: s.key, DER: s.der, Hash: s.hash, ASN1ECDSA: s.asn1ECDSA, NoKeyInfo: s.noKeyInfo}.Sign(t, xml)
}

// integration is the verifier's view of the test integration.
func options(certs ...Certificate) VerifyOptions {
	return VerifyOptions{Now: testNow, Skew: 3 * time.Minute, Certificates: certs, Issuer: testIdP, ACSURL: testACS, Audience: testAudience}
}

func certOf(t testing.TB, id int64, c testcert.Cert) Certificate {
	t.Helper()
	x, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	return Certificate{ID: id, Enabled: true, Cert: x}
}

// newRSA makes an RSA-2048 IdP certificate valid around testNow.
func newRSA(t testing.TB) testcert.Cert {
	return testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: testNow.Add(-24 * time.Hour), NotAfter: testNow.Add(365 * 24 * time.Hour)})
}

// verifyXML parses and verifies.
func verifyXML(xml string, opts VerifyOptions) (*Assertion, error) {
	r, err := Parse([]byte(xml))
	if err != nil {
		return nil, err
	}
	return r.Verify(opts)
}

// codeOf returns err's Code, or "" when err is nil, or "not an *Error".
func codeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return "not an *Error: " + Code(err.Error())
}
