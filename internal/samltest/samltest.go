// Package samltest builds and signs SAML 2.0 responses for tests, the way IdPs do
// (goxmldsig, enveloped, exclusive C14N), and reads ssod's AuthnRequests back, so that the
// verifier's tests and the HTTP tests share one IdP rather than copies of it.
package samltest

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/ssod/ssod/internal/testcert"
)

// SAML 2.0 values responses are made of.
const (
	NSProtocol    = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion   = "urn:oasis:names:tc:SAML:2.0:assertion"
	StatusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	MethodBearer  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	FormatEmail   = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
)

// Signer signs elements as IdPs do: an enveloped signature with exclusive C14N, placed
// after the element's Issuer.
type Signer struct {
	Key  crypto.Signer
	DER  []byte      // the certificate KeyInfo carries
	Hash crypto.Hash // 0 means SHA-256
	// ASN1ECDSA leaves an ECDSA SignatureValue in ASN.1 (what crypto.Signer gives) instead
	// of XML-DSig's raw r||s.
	ASN1ECDSA bool
	NoKeyInfo bool
}

// NewSigner signs with c's key and names c in KeyInfo.
func NewSigner(c testcert.Cert) Signer { return Signer{Key: c.Key, DER: c.DER} }

// Sign returns xml, one element that declares every namespace it uses, with an enveloped
// signature inserted after its Issuer (or first, when it has none).
func (s Signer) Sign(t testing.TB, xml string) string {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(xml); err != nil {
		t.Fatalf("samltest: sign: parse: %v", err)
	}
	el := d.Root()
	ctx, err := dsig.NewSigningContext(s.Key, [][]byte{s.DER})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Hash = s.Hash
	if ctx.Hash == 0 {
		ctx.Hash = crypto.SHA256
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		t.Fatalf("samltest: sign: %v", err)
	}
	if key, ok := s.Key.(*ecdsa.PrivateKey); ok && !s.ASN1ECDSA {
		sv := sig.SelectElement("SignatureValue")
		der, _ := base64.StdEncoding.DecodeString(sv.Text())
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &rs); err != nil {
			t.Fatal(err)
		}
		size := (key.Curve.Params().BitSize + 7) / 8
		raw := make([]byte, 2*size)
		rs.R.FillBytes(raw[:size])
		rs.S.FillBytes(raw[size:])
		sv.SetText(base64.StdEncoding.EncodeToString(raw))
	}
	if s.NoKeyInfo {
		sig.RemoveChild(sig.SelectElement("KeyInfo"))
	}
	idx := 0
	if iss := el.SelectElement("Issuer"); iss != nil {
		idx = iss.Index() + 1
	}
	el.InsertChildAt(idx, sig)
	out, err := d.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Time renders t as SAML's xs:dateTime.
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Attribute is one Attribute of the AttributeStatement.
type Attribute struct {
	Name   string
	Values []string
}

// Response describes one SAML Response with one Assertion. Empty strings omit the
// optional parts where the comment says so; values are written into the XML as they are
// (so a test can put markup in NameID), except attribute values, which are escaped.
type Response struct {
	ID               string
	AssertionID      string
	IssueInstant     string
	ResponseIssuer   string // "" omits the Response's Issuer
	AssertionIssuer  string // "" omits the Assertion's Issuer
	Destination      string // "" omits
	InResponseTo     string // on the Response; "" omits
	Status           string
	NameID           string // raw XML content of NameID
	NameIDFormat     string
	Method           string
	Recipient        string // "" omits
	ConfInResponseTo string // "" omits
	ConfNotOnOrAfter string // "" omits
	NotBefore        string // Conditions; "" omits
	NotOnOrAfter     string // Conditions; "" omits
	Audience         string
	AuthnInstant     string
	SessionIndex     string
	Attributes       []Attribute
}

// Valid returns a Response that passes every check of an integration whose entity_id is
// issuer and whose single_signon_url and audience_url are acsURL, at now: IdP-initiated
// (no InResponseTo), valid for five minutes.
func Valid(issuer, acsURL string, now time.Time) Response {
	return Response{
		ID:               randomID(),
		AssertionID:      randomID(),
		IssueInstant:     Time(now),
		ResponseIssuer:   issuer,
		AssertionIssuer:  issuer,
		Destination:      acsURL,
		Status:           StatusSuccess,
		NameID:           "alice@example.com",
		NameIDFormat:     FormatEmail,
		Method:           MethodBearer,
		Recipient:        acsURL,
		ConfNotOnOrAfter: Time(now.Add(5 * time.Minute)),
		NotBefore:        Time(now.Add(-time.Minute)),
		NotOnOrAfter:     Time(now.Add(5 * time.Minute)),
		Audience:         acsURL,
		AuthnInstant:     Time(now.Add(-10 * time.Second)),
		SessionIndex:     "_s1",
		Attributes:       []Attribute{{Name: "groups", Values: []string{"admins", "dev"}}},
	}
}

// randomID is a fresh xs:ID, so that no two responses a test makes share an assertion ID.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "_" + hex.EncodeToString(b[:])
}

func attr(name, value string) string {
	if value == "" {
		return ""
	}
	var b strings.Builder
	_ = xmlEscape(&b, value)
	return fmt.Sprintf(` %s="%s"`, name, b.String())
}

func xmlEscape(w io.Writer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	_, err := r.WriteString(w, s)
	return err
}

// AssertionXML renders the Assertion on its own, declaring the namespaces it uses.
func (r Response) AssertionXML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<saml:Assertion xmlns:saml="%s" ID="%s" Version="2.0" IssueInstant="%s">`, NSAssertion, r.AssertionID, r.IssueInstant)
	if r.AssertionIssuer != "" {
		fmt.Fprintf(&b, `<saml:Issuer>%s</saml:Issuer>`, r.AssertionIssuer)
	}
	fmt.Fprintf(&b, `<saml:Subject><saml:NameID%s>%s</saml:NameID>`, attr("Format", r.NameIDFormat), r.NameID)
	fmt.Fprintf(&b, `<saml:SubjectConfirmation%s><saml:SubjectConfirmationData%s%s%s/></saml:SubjectConfirmation></saml:Subject>`,
		attr("Method", r.Method), attr("NotOnOrAfter", r.ConfNotOnOrAfter), attr("Recipient", r.Recipient), attr("InResponseTo", r.ConfInResponseTo))
	fmt.Fprintf(&b, `<saml:Conditions%s%s><saml:AudienceRestriction><saml:Audience>%s</saml:Audience></saml:AudienceRestriction></saml:Conditions>`,
		attr("NotBefore", r.NotBefore), attr("NotOnOrAfter", r.NotOnOrAfter), r.Audience)
	fmt.Fprintf(&b, `<saml:AuthnStatement%s%s><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
		attr("AuthnInstant", r.AuthnInstant), attr("SessionIndex", r.SessionIndex))
	if len(r.Attributes) > 0 {
		b.WriteString(`<saml:AttributeStatement>`)
		for _, a := range r.Attributes {
			fmt.Fprintf(&b, `<saml:Attribute%s>`, attr("Name", a.Name))
			for _, v := range a.Values {
				b.WriteString(`<saml:AttributeValue>`)
				_ = xmlEscape(&b, v)
				b.WriteString(`</saml:AttributeValue>`)
			}
			b.WriteString(`</saml:Attribute>`)
		}
		b.WriteString(`</saml:AttributeStatement>`)
	}
	b.WriteString(`</saml:Assertion>`)
	return b.String()
}

// ResponseXML renders the Response around assertion (rendered, and maybe signed, already).
func (r Response) ResponseXML(assertion string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<samlp:Response xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" IssueInstant="%s"%s%s>`,
		NSProtocol, NSAssertion, r.ID, r.IssueInstant, attr("Destination", r.Destination), attr("InResponseTo", r.InResponseTo))
	if r.ResponseIssuer != "" {
		fmt.Fprintf(&b, `<saml:Issuer>%s</saml:Issuer>`, r.ResponseIssuer)
	}
	fmt.Fprintf(&b, `<samlp:Status><samlp:StatusCode%s/></samlp:Status>`, attr("Value", r.Status))
	b.WriteString(assertion)
	b.WriteString(`</samlp:Response>`)
	return b.String()
}

// SignedAssertion renders the Response with its Assertion signed by s: what most IdPs send.
func (r Response) SignedAssertion(t testing.TB, s Signer) string {
	t.Helper()
	return r.ResponseXML(s.Sign(t, r.AssertionXML()))
}

// SignedResponse renders the Response signed by s, its Assertion unsigned.
func (r Response) SignedResponse(t testing.TB, s Signer) string {
	t.Helper()
	return s.Sign(t, r.ResponseXML(r.AssertionXML()))
}

// Encode is the SAMLResponse form value of an HTTP-POST binding: base64 of the XML.
func Encode(xml string) string { return base64.StdEncoding.EncodeToString([]byte(xml)) }

// AuthnRequest is what a test reads back from ssod's HTTP-Redirect.
type AuthnRequest struct {
	Location     *url.URL // the redirect, SAMLRequest included
	RelayState   string
	ID           string
	Issuer       string
	Destination  string
	ACSURL       string
	IssueInstant string
}

// ParseRedirect undoes the HTTP-Redirect binding of location (raw DEFLATE, base64, URL
// encoding) and reads the AuthnRequest, failing the test when any layer is wrong.
func ParseRedirect(t testing.TB, location string) AuthnRequest {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatalf("samltest: redirect %q: %v", location, err)
	}
	q := u.Query()
	if len(q["SAMLRequest"]) != 1 {
		t.Fatalf("samltest: redirect %q: want one SAMLRequest", location)
	}
	raw, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		t.Fatalf("samltest: SAMLRequest is not base64: %v", err)
	}
	xml, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("samltest: SAMLRequest is not raw DEFLATE: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatalf("samltest: SAMLRequest is not XML: %v", err)
	}
	root := doc.Root()
	if root.Tag != "AuthnRequest" || root.NamespaceURI() != NSProtocol {
		t.Fatalf("samltest: SAMLRequest is a %s in %q, not an AuthnRequest", root.Tag, root.NamespaceURI())
	}
	req := AuthnRequest{
		Location:     u,
		RelayState:   q.Get("RelayState"),
		ID:           root.SelectAttrValue("ID", ""),
		Destination:  root.SelectAttrValue("Destination", ""),
		ACSURL:       root.SelectAttrValue("AssertionConsumerServiceURL", ""),
		IssueInstant: root.SelectAttrValue("IssueInstant", ""),
	}
	if iss := root.SelectElement("Issuer"); iss != nil && iss.NamespaceURI() == NSAssertion {
		req.Issuer = iss.Text()
	}
	return req
}
