package saml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParseVerify feeds arbitrary bytes to Parse and Verify against an integration whose one
// certificate signed the seeds. It checks that neither panics, that every refusal is an
// *Error with one of the package's codes and a message free of markup, and that whatever is
// accepted was verified by that certificate and carries the values checks 5 to 11 demand.
func FuzzParseVerify(f *testing.F) {
	c := newRSA(f)
	s := newSigner(c)
	d := validDoc()
	assertion := s.sign(f, d.assertionXML())
	valid := d.responseXML(assertion)
	for _, seed := range []string{
		valid,
		s.sign(f, d.responseXML(d.assertionXML())),
		s.sign(f, d.responseXML(assertion)),
		d.responseXML(d.assertionXML()),
		strings.Replace(valid, "alice@example.com", "alice@example.com<!---->.evil", 1),
		d.responseXML(strings.Replace(d.assertionXML(), `ID="_a1"`, `ID="_x"`, 1) + assertion),
		`<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>`,
		"",
	} {
		f.Add([]byte(seed))
	}
	// The public corpus, when present, seeds real IdP output.
	if dir := os.Getenv("SSOD_TEST_SAML_CORPORA"); dir != "" {
		_, cases := loadCorpus(f)
		for _, cc := range cases {
			if _, err := os.Stat(filepath.Join(dir, cc.ResponseFile)); err == nil {
				f.Add(cc.payload(f, dir))
			}
		}
	}
	cert := certOf(f, 1, c)
	codes := map[Code]bool{ErrMalformed: true, ErrStatus: true, ErrSignature: true, ErrIssuer: true, ErrDestination: true,
		ErrRecipient: true, ErrNotYetValid: true, ErrExpired: true, ErrAudience: true, ErrSubject: true, ErrInResponseTo: true}
	f.Fuzz(func(t *testing.T, xml []byte) {
		r, err := Parse(xml)
		if err == nil {
			var a *Assertion
			a, err = r.Verify(options(cert))
			if err == nil {
				if a.CertificateID != 1 || a.Issuer != testIdP || strings.TrimSpace(a.NameID) == "" || a.ID == "" ||
					!a.NotOnOrAfter.After(testNow.Add(-3*time.Minute)) {
					t.Fatalf("accepted an assertion checks 4-11 should refuse: %+v", a)
				}
				return
			}
		}
		var e *Error
		if !errors.As(err, &e) || !codes[e.Code] {
			t.Fatalf("not an *Error with a known code: %#v", err)
		}
		if strings.ContainsAny(e.Message, "<>") && !strings.Contains(e.Message, `"`) {
			t.Fatalf("unquoted markup in message: %s", e.Message)
		}
	})
}
