package saml

import (
	"strings"
	"testing"
)

// TestRefusesAttacks: each case starts from a valid signed response and changes it the way
// an attack does.
func TestRefusesAttacks(t *testing.T) {
	c := newRSA(t)
	s := newSigner(c)
	d := validDoc()
	assertion := s.sign(t, d.assertionXML())
	valid := d.responseXML(assertion)
	responseSigned := s.sign(t, d.responseXML(d.assertionXML()))
	unsignedAssertion := d.assertionXML()
	evil := strings.Replace(strings.Replace(unsignedAssertion, `ID="_a1"`, `ID="_evil"`, 1), "alice@example.com", "mallory@example.com", 1)

	cases := []struct {
		name string
		xml  string
		want Code
	}{
		{"tampered NameID", strings.Replace(valid, "alice@example.com", "mallory@example.com", 1), ErrSignature},
		{"unsigned", d.responseXML(unsignedAssertion), ErrSignature},
		{"XSW: second assertion beside the signed one", d.responseXML(evil + assertion), ErrMalformed},
		{"XSW: signed assertion hidden in Extensions", strings.Replace(d.responseXML(evil), "<samlp:Status>", "<samlp:Extensions>"+assertion+"</samlp:Extensions><samlp:Status>", 1), ErrMalformed},
		{"XSW: signed response wraps evil assertion, original moved into Object",
			strings.Replace(responseSigned, "</ds:SignatureValue>", "</ds:SignatureValue><ds:Object>"+unsignedAssertion+"</ds:Object>", 1), ErrMalformed},
		{"XSW: assertion inside the assertion's signature",
			strings.Replace(valid, "</ds:SignatureValue>", "</ds:SignatureValue><ds:Object>"+evil+"</ds:Object>", 1), ErrMalformed},
		{"Object in signature", strings.Replace(valid, "</ds:SignatureValue>", "</ds:SignatureValue><ds:Object>x</ds:Object>", 1), ErrSignature},
		{"reference to another ID", strings.Replace(valid, `URI="#_a1"`, `URI="#_r1"`, 1), ErrSignature},
		{"empty reference", strings.Replace(valid, `URI="#_a1"`, `URI=""`, 1), ErrSignature},
		{"signature moved into Extensions", strings.Replace(d.responseXML(unsignedAssertion), "<samlp:Status>", "<samlp:Extensions>"+signatureOf(t, assertion)+"</samlp:Extensions><samlp:Status>", 1), ErrSignature},
		{"response signature over tampered response", strings.Replace(responseSigned, testACS+`"`, `https://evil.example.com/acs"`, 1), ErrSignature},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>` + valid, ErrMalformed},
		{"entity", strings.Replace(valid, "alice@example.com", "&a;", 1), ErrMalformed},
		{"encrypted assertion", d.responseXML(`<saml:EncryptedAssertion><x/></saml:EncryptedAssertion>`), ErrMalformed},
		{"two roots", valid + valid, ErrMalformed},
		{"not a response", assertion, ErrMalformed},
		{"duplicate attribute", strings.Replace(valid, `Version="2.0" IssueInstant`, `Version="2.0" Version="2.0" IssueInstant`, 1), ErrMalformed},
		{"undeclared prefix", strings.Replace(valid, "<samlp:Status>", "<x:y/><samlp:Status>", 1), ErrMalformed},
		{"processing instruction", strings.Replace(valid, "<samlp:Status>", "<?pi x?><samlp:Status>", 1), ErrMalformed},
		{"deep", strings.Replace(valid, "<samlp:Status>", strings.Repeat("<samlp:Extensions>", 60)+strings.Repeat("</samlp:Extensions>", 60)+"<samlp:Status>", 1), ErrMalformed},
		{"latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + valid, ErrMalformed},
		{"duplicate ID", strings.Replace(valid, `ID="_r1"`, `ID="_a1"`, 1), ErrMalformed},
		{"no assertion with Success", d.responseXML(""), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyXML(tc.xml, options(certOf(t, 1, c)))
			if got := codeOf(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if e := err.(*Error); e.Assertion != nil {
				t.Errorf("a refusal at check %s carries an assertion: %+v", tc.want, e.Assertion)
			}
		})
	}
}

// signatureOf returns the ds:Signature element of signed XML, as text.
func signatureOf(t *testing.T, xml string) string {
	t.Helper()
	i, j := strings.Index(xml, "<ds:Signature"), strings.Index(xml, "</ds:Signature>")
	if i < 0 || j < 0 {
		t.Fatal("no signature")
	}
	return xml[i : j+len("</ds:Signature>")]
}

func TestParseLimits(t *testing.T) {
	if _, err := Parse(make([]byte, MaxSize+1)); codeOf(err) != ErrMalformed {
		t.Fatalf("oversize: %v", err)
	}
	for _, bad := range []string{"", "not xml", "<a>", "\xff<a/>"} {
		if _, err := Parse([]byte(bad)); codeOf(err) != ErrMalformed {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestEverySignatureMustVerify: with both the Response and the Assertion signed, one
// signature by a key the integration does not hold refuses the response, whichever it is.
func TestEverySignatureMustVerify(t *testing.T) {
	trusted, stranger := newRSA(t), newRSA(t)
	d := validDoc()
	for name, xml := range map[string]string{
		"assertion by a stranger": newSigner(trusted).sign(t, d.responseXML(newSigner(stranger).sign(t, d.assertionXML()))),
		"response by a stranger":  newSigner(stranger).sign(t, d.responseXML(newSigner(trusted).sign(t, d.assertionXML()))),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := verifyXML(xml, options(certOf(t, 1, trusted))); codeOf(err) != ErrSignature {
				t.Fatalf("got %v, want %s", err, ErrSignature)
			}
		})
	}
	// Each certificate verifies the signature it made: the assertion's decides CertificateID.
	other := newRSA(t)
	xml := newSigner(other).sign(t, d.responseXML(newSigner(trusted).sign(t, d.assertionXML())))
	a, err := verifyXML(xml, options(certOf(t, 1, trusted), certOf(t, 2, other)))
	if err != nil || a.CertificateID != 1 {
		t.Fatalf("got %+v, %v", a, err)
	}
}
