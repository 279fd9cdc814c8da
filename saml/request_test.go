package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"io"
	"net/url"
	"regexp"
	"testing"

	"github.com/beevik/etree"
)

func TestNewRequestID(t *testing.T) {
	shape := regexp.MustCompile(`^_[0-9a-f]{40}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !shape.MatchString(id) {
			t.Fatalf("ID %q: want _ and 40 hex digits (an xs:ID starts with a letter or _)", id)
		}
		if seen[id] {
			t.Fatalf("ID %q twice", id)
		}
		seen[id] = true
	}
}

// inflateRedirect undoes the HTTP-Redirect binding for one URL: its query values and the
// AuthnRequest element.
func inflateRedirect(t *testing.T, location string) (url.Values, *etree.Element) {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	raw, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		t.Fatalf("SAMLRequest is not base64: %v", err)
	}
	xml, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("SAMLRequest is not raw DEFLATE: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatalf("SAMLRequest is not XML: %v\n%s", err, xml)
	}
	return q, doc.Root()
}

func TestAuthnRequestRedirect(t *testing.T) {
	// Values with every character XML and URLs treat specially must come back unchanged.
	req := AuthnRequest{
		ID:           NewRequestID(),
		IssueInstant: testNow,
		Issuer:       `https://sp.example/a?x=1&y="2"<3>'`,
		Destination:  "https://idp.example/sso?app=7&tenant=a%20b#frag",
		ACSURL:       "https://sp.example/acs&<>",
	}
	loc, err := req.RedirectURL("state &=? 1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if u.Scheme != "https" || u.Host != "idp.example" || u.Path != "/sso" || u.Fragment != "" {
		t.Fatalf("redirect %q: want the Destination without its fragment", loc)
	}
	q, el := inflateRedirect(t, loc)
	if q.Get("app") != "7" || q.Get("tenant") != "a b" {
		t.Errorf("the Destination's own query is lost: %v", q)
	}
	if q.Get("RelayState") != "state &=? 1" {
		t.Errorf("RelayState %q", q.Get("RelayState"))
	}
	if el.Space != "samlp" || el.Tag != "AuthnRequest" || el.NamespaceURI() != nsProtocol {
		t.Fatalf("root %s:%s in %q", el.Space, el.Tag, el.NamespaceURI())
	}
	for name, want := range map[string]string{
		"ID":                          req.ID,
		"Version":                     "2.0",
		"IssueInstant":                "2026-12-03T08:00:00Z",
		"Destination":                 req.Destination,
		"AssertionConsumerServiceURL": req.ACSURL,
		"ProtocolBinding":             BindingHTTPPost,
	} {
		if got := el.SelectAttrValue(name, "(absent)"); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	iss := el.SelectElement("Issuer")
	if iss == nil || iss.NamespaceURI() != nsAssertion || iss.Text() != req.Issuer {
		t.Fatalf("Issuer %v", iss)
	}

	// No RelayState: no parameter; a Destination without a query gets "?".
	req.Destination = "https://idp.example/sso"
	loc, err = req.RedirectURL("")
	if err != nil {
		t.Fatal(err)
	}
	q, _ = inflateRedirect(t, loc)
	if _, ok := q["RelayState"]; ok || !regexp.MustCompile(`^https://idp\.example/sso\?SAMLRequest=[^&]+$`).MatchString(loc) {
		t.Fatalf("redirect %q", loc)
	}
}

func TestSPMetadata(t *testing.T) {
	m := SPMetadata{EntityID: `https://sp.example/id?a=1&b="<x>"`, ACSURL: "https://sp.example/acs?&<"}
	out, err := m.XML()
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	root := doc.Root()
	if root.Tag != "EntityDescriptor" || root.NamespaceURI() != nsMetadata || root.SelectAttrValue("entityID", "") != m.EntityID {
		t.Fatalf("root %s %q entityID %q", root.Tag, root.NamespaceURI(), root.SelectAttrValue("entityID", ""))
	}
	sps := root.SelectElements("SPSSODescriptor")
	if len(sps) != 1 || len(root.ChildElements()) != 1 {
		t.Fatalf("want exactly one SPSSODescriptor:\n%s", out)
	}
	sp := sps[0]
	if sp.SelectAttrValue("WantAssertionsSigned", "") != "true" || sp.SelectAttrValue("protocolSupportEnumeration", "") != nsProtocol {
		t.Fatalf("SPSSODescriptor attributes:\n%s", out)
	}
	var formats []string
	for _, f := range sp.SelectElements("NameIDFormat") {
		formats = append(formats, f.Text())
	}
	if len(formats) != len(NameIDFormats) || formats[0] != NameIDFormats[0] {
		t.Errorf("NameIDFormats %v", formats)
	}
	acs := sp.SelectElements("AssertionConsumerService")
	if len(acs) != 1 || acs[0].SelectAttrValue("Binding", "") != BindingHTTPPost || acs[0].SelectAttrValue("Location", "") != m.ACSURL {
		t.Fatalf("AssertionConsumerService:\n%s", out)
	}
	// The schema orders NameIDFormat before AssertionConsumerService.
	if last := sp.ChildElements()[len(sp.ChildElements())-1]; last.Tag != "AssertionConsumerService" {
		t.Errorf("last child %s", last.Tag)
	}
	if bytes.Contains(out, []byte("<!")) {
		t.Errorf("metadata holds a directive:\n%s", out)
	}
}
