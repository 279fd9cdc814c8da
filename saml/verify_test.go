package saml

import (
	"crypto"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
)

func TestVerifyAcceptsSignedAssertion(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	d := validDoc()
	xml := d.responseXML(s.sign(t, d.assertionXML()))
	a, err := verifyXML(xml, options(certOf(t, 7, c)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Assertion{
		ID: "_a1", Issuer: testIdP, NameID: "alice@example.com",
		NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		SessionIndex: "_s1", AuthnInstant: testNow, InResponseTo: "id-req1",
		NotOnOrAfter:  testNow.Add(5 * time.Minute),
		Attributes:    map[string][]string{"groups": {"admins", "dev"}},
		CertificateID: 7,
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
}

func TestVerifySignaturePlacements(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	d := validDoc()
	for name, xml := range map[string]string{
		"assertion": d.responseXML(s.sign(t, d.assertionXML())),
		"response":  s.sign(t, d.responseXML(d.assertionXML())),
		"both":      s.sign(t, d.responseXML(s.sign(t, d.assertionXML()))),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := verifyXML(xml, options(certOf(t, 1, c)))
			if err != nil {
				t.Fatal(err)
			}
			if a.NameID != "alice@example.com" || a.CertificateID != 1 {
				t.Errorf("got %+v", a)
			}
		})
	}
}

// TestVerifyEachCheck breaks one contract check at a time; the response is otherwise valid
// and signed, so the failure can only come from that check.
func TestVerifyEachCheck(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	cases := []struct {
		name   string
		change func(*doc)
		want   Code
	}{
		{"status", func(d *doc) { d.Status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, ErrStatus},
		{"issuer of assertion", func(d *doc) { d.AssertionIssuer = "https://evil.example.com" }, ErrIssuer},
		{"no assertion issuer", func(d *doc) { d.AssertionIssuer = "" }, ErrIssuer},
		{"issuer of response", func(d *doc) { d.ResponseIssuer = "https://evil.example.com" }, ErrIssuer},
		{"destination", func(d *doc) { d.Destination = "https://other.example.com/acs" }, ErrDestination},
		{"recipient", func(d *doc) { d.Recipient = "https://other.example.com/acs" }, ErrRecipient},
		{"recipient needs bearer", func(d *doc) { d.Method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key" }, ErrRecipient},
		{"not yet valid", func(d *doc) { d.NotBefore = ts(testNow.Add(4 * time.Minute)) }, ErrNotYetValid},
		{"expired conditions", func(d *doc) { d.NotOnOrAfter = ts(testNow.Add(-4 * time.Minute)) }, ErrExpired},
		{"expired confirmation", func(d *doc) { d.ConfNotOnOrAfter = ts(testNow.Add(-4 * time.Minute)) }, ErrExpired},
		{"confirmation without NotOnOrAfter", func(d *doc) { d.ConfNotOnOrAfter = "" }, ErrExpired},
		{"audience", func(d *doc) { d.Audience = "https://other.example.com" }, ErrAudience},
		{"second audience restriction", func(d *doc) {
			d.Extra = ""
			d.Audience = testAudience + `</saml:Audience></saml:AudienceRestriction><saml:AudienceRestriction><saml:Audience>https://other.example.com`
		}, ErrAudience},
		{"subject empty", func(d *doc) { d.NameID = "" }, ErrSubject},
		{"subject blank with comment", func(d *doc) { d.NameID = " <!-- x --> " }, ErrSubject},
		{"in response to differ", func(d *doc) { d.ConfInResponseTo = "id-other" }, ErrInResponseTo},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := validDoc()
			tc.change(&d)
			_, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, c)))
			if got := codeOf(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			e := err.(*Error)
			if strings.Contains(e.Message, "<") {
				t.Errorf("message carries markup: %s", e.Message)
			}
			// After the signature (check 4), the refusal carries the verified assertion's
			// identity for the login trace; before it, nothing from the document.
			switch {
			case tc.want == ErrStatus && e.Assertion != nil:
				t.Errorf("status refusal carries an assertion: %+v", e.Assertion)
			case tc.want != ErrStatus && (e.Assertion == nil || e.Assertion.ID != "_a1" || e.Assertion.CertificateID != 1):
				t.Errorf("refusal after check 4 carries %+v", e.Assertion)
			case tc.want != ErrStatus && tc.want != ErrSubject && e.Assertion.NameID != "alice@example.com":
				t.Errorf("refusal after check 4 carries NameID %q", e.Assertion.NameID)
			}
		})
	}
}

func TestVerifySkewEdges(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	for _, tc := range []struct {
		name   string
		change func(*doc)
		want   Code
	}{
		{"NotBefore just inside the skew", func(d *doc) { d.NotBefore = ts(testNow.Add(3 * time.Minute)) }, ""},
		{"NotOnOrAfter just inside the skew", func(d *doc) { d.NotOnOrAfter = ts(testNow.Add(-3*time.Minute + time.Millisecond)) }, ""},
		{"NotOnOrAfter exactly at now minus skew", func(d *doc) { d.NotOnOrAfter = ts(testNow.Add(-3 * time.Minute)) }, ErrExpired},
		{"no Response InResponseTo", func(d *doc) { d.InResponseTo = "" }, ""},
		{"IdP-initiated", func(d *doc) { d.InResponseTo, d.ConfInResponseTo = "", "" }, ""},
		{"no Destination", func(d *doc) { d.Destination = "" }, ""},
		{"no Response Issuer", func(d *doc) { d.ResponseIssuer = "" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := validDoc()
			tc.change(&d)
			_, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, c)))
			if got := codeOf(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestVerifyInResponseToReported(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	d := validDoc()
	d.InResponseTo = ""
	d.ConfInResponseTo = "id-conf"
	a, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, c)))
	if err != nil || a.InResponseTo != "id-conf" {
		t.Fatalf("got %+v, %v", a, err)
	}
	d = validDoc()
	d.ConfInResponseTo = ""
	a, err = verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, c)))
	if err != nil || a.InResponseTo != "id-req1" {
		t.Fatalf("got %+v, %v", a, err)
	}
}

// TestVerifyRotation: two enabled certificates, either verifies, with or without KeyInfo,
// and the assertion says which one did.
func TestVerifyRotation(t *testing.T) {
	old, next := newRSA(t), newRSA(t)
	certs := []Certificate{certOf(t, 10, old), certOf(t, 11, next)}
	d := validDoc()
	for _, tc := range []struct {
		name   string
		c      testcert.Cert
		keyOff bool
		want   int64
	}{
		{"old", old, false, 10}, {"next", next, false, 11},
		{"old without KeyInfo", old, true, 10}, {"next without KeyInfo", next, true, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSigner(tc.c)
			s.noKeyInfo = tc.keyOff
			a, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certs...))
			if err != nil {
				t.Fatal(err)
			}
			if a.CertificateID != tc.want {
				t.Errorf("CertificateID %d, want %d", a.CertificateID, tc.want)
			}
		})
	}
	t.Run("KeyInfo names a stranger", func(t *testing.T) {
		// KeyInfo is a hint, not trust: a certificate it names that the integration does
		// not hold is ignored, and the integration's certificates are tried.
		stranger := newRSA(t)
		s := newSigner(next)
		s.der = stranger.DER
		a, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certs...))
		if err != nil || a.CertificateID != 11 {
			t.Fatalf("got %+v, %v", a, err)
		}
	})
}

// TestVerifyUnusableCertificates: disabled, expired and not-yet-valid certificates never
// verify, even when they are the signer's.
func TestVerifyUnusableCertificates(t *testing.T) {
	d := validDoc()
	valid := newRSA(t)
	for _, tc := range []struct {
		name string
		cert func(t *testing.T) Certificate
		c    testcert.Cert
	}{
		{"disabled", nil, valid},
		{"expired", nil, testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: testNow.Add(-48 * time.Hour), NotAfter: testNow.Add(-time.Second)})},
		{"not yet valid", nil, testcert.New(t, testcert.Options{RSABits: 2048, NotBefore: testNow.Add(time.Second), NotAfter: testNow.Add(48 * time.Hour)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xml := d.responseXML(newSigner(tc.c).sign(t, d.assertionXML()))
			cert := certOf(t, 3, tc.c)
			cert.Enabled = tc.name != "disabled"
			other := certOf(t, 4, newRSA(t)) // an enabled, valid certificate that did not sign
			_, err := verifyXML(xml, options(cert, other))
			if codeOf(err) != ErrSignature {
				t.Fatalf("got %v, want %s", err, ErrSignature)
			}
			if _, err := verifyXML(xml, options(cert)); codeOf(err) != ErrSignature {
				t.Fatalf("alone: got %v, want %s", err, ErrSignature)
			}
		})
	}
}

func TestVerifyECDSA(t *testing.T) {
	c := testcert.New(t, testcert.Options{NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)})
	d := validDoc()
	s := newSigner(c)
	if _, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, c))); err != nil {
		t.Fatalf("raw r||s: %v", err)
	}
	// ASN.1 is not how XML-DSig encodes ECDSA; a value in that form is refused.
	s.asn1ECDSA = true
	if _, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, c))); codeOf(err) != ErrSignature {
		t.Fatalf("ASN.1: got %v, want %s", err, ErrSignature)
	}
	// An RSA certificate never verifies an ECDSA signature method.
	s.asn1ECDSA = false
	if _, err := verifyXML(d.responseXML(s.sign(t, d.assertionXML())), options(certOf(t, 1, newRSA(t)))); codeOf(err) != ErrSignature {
		t.Fatalf("RSA cert: got %v, want %s", err, ErrSignature)
	}
}

// TestVerifyInheritedNamespaces: an Assertion signed on its own whose prefixes are declared
// only on the Response (SimpleSAMLphp does this) verifies.
func TestVerifyInheritedNamespaces(t *testing.T) {
	c := newRSA(t)
	d := validDoc()
	signed := newSigner(c).sign(t, d.assertionXML())
	// Drop the Assertion's own declarations of saml, xs and xsi: the Response declares them.
	inner := strings.Replace(signed, ` xmlns:saml="`+nsAssertion+`" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`, "", 1)
	if inner == signed {
		t.Fatal("declarations not found")
	}
	xml := strings.Replace(d.responseXML(inner), `<samlp:Response `, `<samlp:Response xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" `, 1)
	if _, err := verifyXML(xml, options(certOf(t, 1, c))); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySHA1(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	s.hash = crypto.SHA1
	d := validDoc()
	xml := d.responseXML(s.sign(t, d.assertionXML()))
	if _, err := verifyXML(xml, options(certOf(t, 1, c))); codeOf(err) != ErrSignature {
		t.Fatalf("default: got %v, want %s", err, ErrSignature)
	}
	opts := options(certOf(t, 1, c))
	opts.AllowSHA1 = true
	if _, err := verifyXML(xml, opts); err != nil {
		t.Fatalf("AllowSHA1: %v", err)
	}
}

// TestVerifyCommentInNameID: exclusive C14N drops comments, so a comment inserted into a
// signed NameID keeps the signature valid; the NameID is still its whole text.
func TestVerifyCommentInNameID(t *testing.T) {
	c := newRSA(t)
	d := validDoc()
	d.NameID = "alice@example.com.evil.example"
	signed := newSigner(c).sign(t, d.assertionXML())
	signed = strings.Replace(signed, "alice@example.com.evil.example", "alice@example.com<!---->.evil.example", 1)
	a, err := verifyXML(d.responseXML(signed), options(certOf(t, 1, c)))
	if err != nil {
		t.Fatal(err)
	}
	if a.NameID != "alice@example.com.evil.example" {
		t.Errorf("NameID %q", a.NameID)
	}
}

// TestVerifyEmptyExpectations: an integration missing a value never accepts a document that
// leaves the same value empty.
func TestVerifyEmptyExpectations(t *testing.T) {
	c := newRSA(t)
	d := validDoc()
	xml := d.responseXML(newSigner(c).sign(t, d.assertionXML()))
	for _, tc := range []struct {
		change func(*VerifyOptions)
		want   Code
	}{
		{func(o *VerifyOptions) { o.Issuer = "" }, ErrIssuer},
		{func(o *VerifyOptions) { o.ACSURL = "" }, ErrDestination},
		{func(o *VerifyOptions) { o.Audience = "" }, ErrAudience},
		{func(o *VerifyOptions) { o.Now = time.Time{} }, ErrSignature},
	} {
		opts := options(certOf(t, 1, c))
		tc.change(&opts)
		if _, err := verifyXML(xml, opts); codeOf(err) != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}
