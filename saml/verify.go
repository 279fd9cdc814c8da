package saml

import (
	"crypto/x509"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// VerifyOptions are everything Verify trusts: the integration's configuration and the time.
type VerifyOptions struct {
	Now  time.Time     // the current time; Verify reads no clock
	Skew time.Duration // tolerance for Conditions and confirmation times (never for certificates)

	// Certificates are all of the integration's certificates. Only those that are Enabled and
	// whose X.509 validity window contains Now verify a signature.
	Certificates []Certificate

	Issuer    string // the integration's entity_id: the Assertion's (and Response's) Issuer
	ACSURL    string // single_signon_url: the Response's Destination and the bearer Recipient
	Audience  string // audience_url: listed by every AudienceRestriction
	AllowSHA1 bool   // accept RSA-SHA1 / ECDSA-SHA1 and SHA-1 digests (ssod serve --saml-allow-sha1)
}

// Certificate is one of the integration's IdP signing certificates.
type Certificate struct {
	ID      int64
	Enabled bool
	Cert    *x509.Certificate
}

// Assertion is what a verified response says, read only from the bytes a signature covers.
type Assertion struct {
	ID           string // the Assertion's ID: the replay key (check 13)
	Issuer       string
	NameID       string // the whole text of NameID, however comments split it
	NameIDFormat string
	SessionIndex string    // of the first AuthnStatement, or ""
	AuthnInstant time.Time // of the first AuthnStatement, or zero
	// InResponseTo is the request this answers (on the Response or the bearer confirmation;
	// Verify has checked they agree), or "" for an IdP-initiated sign-in. The caller checks it
	// against its outstanding requests (check 12).
	InResponseTo string
	// NotOnOrAfter is the earliest of Conditions/@NotOnOrAfter and the bearer confirmation's
	// NotOnOrAfter: how long the caller must remember ID against replay (plus the skew).
	NotOnOrAfter  time.Time
	Attributes    map[string][]string // Attribute Name → AttributeValue texts, in document order
	CertificateID int64               // the certificate that verified the signature over the assertion
}

// Verify runs the contract's checks 3 to 11 in order (status, signature, issuer,
// destination, recipient, not yet valid, expired, audience, subject) and the first half of
// check 12 (the Response's and the bearer confirmation's InResponseTo agree). It returns the
// assertion as the verified signature covers it, or an *Error whose Code names the first
// check that failed. It is safe to call concurrently and reads no clock: opts.Now is the time.
func (r *Response) Verify(opts VerifyOptions) (*Assertion, error) {
	var seen *Assertion
	a, err := r.verify(opts, &seen)
	if err != nil {
		if e, ok := err.(*Error); ok && seen != nil {
			e.Assertion = seen
		}
		return nil, err
	}
	return a, nil
}

// verify is Verify; once the signature has verified it sets *seen to what the signed
// assertion says about itself, for the login trace of a later refusal.
func (r *Response) verify(opts VerifyOptions, seen **Assertion) (*Assertion, error) {
	opts.Skew = max(opts.Skew, 0) // a negative skew would shorten validity, not widen it: treat as none
	// 3. Status.
	if !r.StatusOK() {
		if len(r.statusCodes) == 0 {
			return nil, errorf(ErrStatus, "the Response has no StatusCode")
		}
		return nil, errorf(ErrStatus, "the IdP answered with status %s", quoteList(r.statusCodes))
	}

	// 4. Signature: every signature present verifies, and the assertion read is the one a
	// verified signature covers, taken from the bytes that signature's digest covers.
	response, assertion, certID, err := r.verifySignatures(opts)
	if err != nil {
		return nil, err
	}
	*seen = &Assertion{ID: assertion.SelectAttrValue("ID", ""), CertificateID: certID}
	if subject := firstChild(assertion, nsAssertion, "Subject"); subject != nil {
		if v, f, err := subjectNameID(subject); err == nil {
			(*seen).NameID, (*seen).NameIDFormat = v, f
		}
	}

	// 5. Issuer. Empty expectations never match anything (an empty Recipient or Audience in
	// the document would otherwise equal them).
	switch {
	case opts.Issuer == "":
		return nil, errorf(ErrIssuer, "the integration has no entity_id to compare the Issuer with")
	case opts.ACSURL == "":
		return nil, errorf(ErrDestination, "the integration has no single_signon_url to compare the Destination with")
	case opts.Audience == "":
		return nil, errorf(ErrAudience, "the integration has no audience_url to compare the Audience with")
	}
	issuerEl := firstChild(assertion, nsAssertion, "Issuer")
	if issuerEl == nil {
		return nil, errorf(ErrIssuer, "the Assertion has no Issuer")
	}
	issuer, err := issuerValue(issuerEl, "Assertion")
	if err != nil {
		return nil, err
	}
	if issuer != opts.Issuer {
		return nil, errorf(ErrIssuer, "the Assertion's Issuer is %s, not the integration's entity_id %s", quote(issuer), quote(opts.Issuer))
	}
	if el := firstChild(response, nsAssertion, "Issuer"); el != nil {
		v, err := issuerValue(el, "Response")
		if err != nil {
			return nil, err
		}
		if v != opts.Issuer {
			return nil, errorf(ErrIssuer, "the Response's Issuer is %s, not the integration's entity_id %s", quote(v), quote(opts.Issuer))
		}
	}

	// 6. Destination, when present (even empty).
	if d := response.SelectAttr("Destination"); d != nil && d.Value != opts.ACSURL {
		return nil, errorf(ErrDestination, "the Response's Destination is %s, not %s", quote(d.Value), quote(opts.ACSURL))
	}

	// 7. Recipient: the first bearer confirmation addressed to this ACS is the confirmation.
	subject := firstChild(assertion, nsAssertion, "Subject")
	confirmation, err := bearerConfirmation(subject, opts.ACSURL)
	if err != nil {
		return nil, err
	}

	// 8. Not yet valid.
	conditions := firstChild(assertion, nsAssertion, "Conditions")
	for _, el := range []*etree.Element{conditions, confirmation} {
		t, ok, err := timeAttr(el, "NotBefore")
		if err != nil {
			return nil, err
		}
		if ok && t.After(opts.Now.Add(opts.Skew)) {
			return nil, errorf(ErrNotYetValid, "%s/@NotBefore is %s, later than now (%s) plus the skew of %s",
				el.Tag, t.UTC().Format(time.RFC3339), opts.Now.UTC().Format(time.RFC3339), opts.Skew)
		}
	}

	// 9. Expired. The bearer confirmation must carry NotOnOrAfter (Web SSO profile): it bounds
	// how long the caller keeps the ID against replay.
	notOnOrAfter, ok, err := timeAttr(confirmation, "NotOnOrAfter")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(ErrExpired, "the bearer SubjectConfirmationData has no NotOnOrAfter")
	}
	if t, ok, err := timeAttr(conditions, "NotOnOrAfter"); err != nil {
		return nil, err
	} else if ok && t.Before(notOnOrAfter) {
		notOnOrAfter = t
	}
	if !opts.Now.Add(-opts.Skew).Before(notOnOrAfter) {
		return nil, errorf(ErrExpired, "the assertion expired at %s; now is %s (skew %s)",
			notOnOrAfter.UTC().Format(time.RFC3339), opts.Now.UTC().Format(time.RFC3339), opts.Skew)
	}

	// 10. Audience: at least one AudienceRestriction, and every one lists the audience (SAML
	// core: the restrictions are all conditions of validity).
	if err := checkAudience(conditions, opts.Audience); err != nil {
		return nil, err
	}

	// 11. Subject.
	nameID, format, err := subjectNameID(subject)
	if err != nil {
		return nil, err
	}

	// 12, first half: the two InResponseTo agree where both are present.
	inResponseTo := response.SelectAttrValue("InResponseTo", "")
	if c := confirmation.SelectAttrValue("InResponseTo", ""); c != "" {
		if inResponseTo != "" && inResponseTo != c {
			return nil, errorf(ErrInResponseTo, "the Response answers %s but its confirmation answers %s", quote(inResponseTo), quote(c))
		}
		inResponseTo = c
	}

	out := &Assertion{
		ID:            assertion.SelectAttrValue("ID", ""),
		Issuer:        issuer,
		NameID:        nameID,
		NameIDFormat:  format,
		InResponseTo:  inResponseTo,
		NotOnOrAfter:  notOnOrAfter,
		Attributes:    attributes(assertion),
		CertificateID: certID,
	}
	if authn := firstChild(assertion, nsAssertion, "AuthnStatement"); authn != nil {
		out.SessionIndex = authn.SelectAttrValue("SessionIndex", "")
		if out.AuthnInstant, _, err = timeAttr(authn, "AuthnInstant"); err != nil {
			return nil, err
		}
	}
	if out.ID == "" {
		return nil, errorf(ErrMalformed, "the signed Assertion has no ID")
	}
	return out, nil
}

// verifySignatures is check 4. It returns the Response to read the Response's attributes
// from (the signed copy when the Response is signed), the Assertion to read (always from
// signed bytes), and the certificate that verified the signature covering that assertion.
func (r *Response) verifySignatures(opts VerifyOptions) (response, assertion *etree.Element, certID int64, err error) {
	var usable []Certificate
	for _, c := range opts.Certificates {
		if c.Enabled && c.Cert != nil && !opts.Now.Before(c.Cert.NotBefore) && !opts.Now.After(c.Cert.NotAfter) {
			usable = append(usable, c)
		}
	}
	switch {
	case r.straySigs > 0:
		return nil, nil, 0, errorf(ErrSignature, "the document has %d Signature elements outside the Response and Assertion; ssod cannot verify them", r.straySigs)
	case r.responseSig == nil && r.assertSig == nil:
		return nil, nil, 0, errorf(ErrSignature, "neither the Response nor the Assertion is signed")
	case len(usable) == 0:
		return nil, nil, 0, errorf(ErrSignature, "the integration has no enabled certificate that is valid now (%s)", opts.Now.UTC().Format(time.RFC3339))
	}

	response = r.root
	if r.responseSig != nil {
		signed, err := verifySignature("Response", r.root, r.responseSig, usable, opts.Now, opts.AllowSHA1)
		if err != nil {
			return nil, nil, 0, err
		}
		response, certID = signed.el, signed.certID
		if !is(response, nsProtocol, "Response") {
			return nil, nil, 0, errorf(ErrSignature, "the signed Response is not a Response")
		}
		signedAssertions := childElements(response, nsAssertion, "Assertion")
		if len(signedAssertions) != 1 {
			return nil, nil, 0, errorf(ErrSignature, "the signed Response holds %d Assertion elements, not one", len(signedAssertions))
		}
		assertion = signedAssertions[0]
	}
	if r.assertSig != nil {
		// Parse made sure this Assertion is the only one in the document, so it is the same
		// element the Response's signature (if any) covers.
		signed, err := verifySignature("Assertion", r.assertion, r.assertSig, usable, opts.Now, opts.AllowSHA1)
		if err != nil {
			return nil, nil, 0, err
		}
		assertion, certID = signed.el, signed.certID
	}
	if assertion == nil || !is(assertion, nsAssertion, "Assertion") {
		return nil, nil, 0, errorf(ErrSignature, "no signed Assertion")
	}
	return response, assertion, certID, nil
}

// issuerValue returns an Issuer's text, refusing a Format other than entity (the Web SSO
// profile's requirement) and a value that is not plain text.
func issuerValue(el *etree.Element, of string) (string, error) {
	if f := el.SelectAttrValue("Format", formatEntity); f != formatEntity {
		return "", errorf(ErrIssuer, "the %s's Issuer has Format %s, not entity", of, quote(f))
	}
	v, ok := textOf(el)
	if !ok {
		return "", errorf(ErrIssuer, "the %s's Issuer is not plain text", of)
	}
	return strings.TrimSpace(v), nil
}

// bearerConfirmation returns the SubjectConfirmationData of the first bearer
// SubjectConfirmation whose Recipient is acsURL (check 7).
func bearerConfirmation(subject *etree.Element, acsURL string) (*etree.Element, error) {
	if subject == nil {
		return nil, errorf(ErrRecipient, "the Assertion has no Subject, so no bearer confirmation")
	}
	var recipients []string
	for _, sc := range childElements(subject, nsAssertion, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != methodBearer {
			continue
		}
		data := firstChild(sc, nsAssertion, "SubjectConfirmationData")
		if data == nil {
			recipients = append(recipients, "")
			continue
		}
		rcpt := data.SelectAttrValue("Recipient", "")
		if rcpt == acsURL {
			return data, nil
		}
		recipients = append(recipients, rcpt)
	}
	if len(recipients) == 0 {
		return nil, errorf(ErrRecipient, "the Subject has no bearer SubjectConfirmation")
	}
	return nil, errorf(ErrRecipient, "no bearer SubjectConfirmation has Recipient %s (they have %s)", quote(acsURL), quoteList(recipients))
}

// timeAttr reads an xs:dateTime attribute of el (el may be nil); ok is false when absent.
func timeAttr(el *etree.Element, name string) (t time.Time, ok bool, err error) {
	if el == nil {
		return time.Time{}, false, nil
	}
	a := el.SelectAttr(name)
	if a == nil {
		return time.Time{}, false, nil
	}
	t, err = parseTime(a.Value)
	if err != nil {
		return time.Time{}, false, errorf(ErrMalformed, "%s/@%s %s is not a date and time", el.Tag, name, quote(a.Value))
	}
	return t, true, nil
}

// checkAudience is check 10.
func checkAudience(conditions *etree.Element, audience string) error {
	if conditions == nil {
		return errorf(ErrAudience, "the Assertion has no Conditions, so no AudienceRestriction")
	}
	restrictions := childElements(conditions, nsAssertion, "AudienceRestriction")
	if len(restrictions) == 0 {
		return errorf(ErrAudience, "the Assertion has no AudienceRestriction")
	}
	for _, ar := range restrictions {
		var listed []string
		found := false
		for _, a := range childElements(ar, nsAssertion, "Audience") {
			v, _ := textOf(a)
			v = strings.TrimSpace(v)
			if v == audience {
				found = true
				break
			}
			listed = append(listed, v)
		}
		if !found {
			return errorf(ErrAudience, "an AudienceRestriction lists %s but not %s", quoteList(listed), quote(audience))
		}
	}
	return nil
}

// subjectNameID is check 11: the Subject's NameID, its whole text (comments do not cut it).
func subjectNameID(subject *etree.Element) (value, format string, err error) {
	if subject == nil {
		return "", "", errorf(ErrSubject, "the Assertion has no Subject")
	}
	el := firstChild(subject, nsAssertion, "NameID")
	if el == nil {
		if firstChild(subject, nsAssertion, "EncryptedID") != nil {
			return "", "", errorf(ErrSubject, "the Subject's identifier is encrypted, which ssod cannot read")
		}
		return "", "", errorf(ErrSubject, "the Subject has no NameID")
	}
	v, ok := textOf(el)
	if !ok {
		return "", "", errorf(ErrSubject, "the NameID is not plain text")
	}
	if strings.TrimSpace(v) == "" {
		return "", "", errorf(ErrSubject, "the NameID is empty")
	}
	return v, el.SelectAttrValue("Format", ""), nil
}

// attributes collects every AttributeStatement's attributes: Name → AttributeValue texts.
// A value that is not plain text (nested XML) is read as "".
func attributes(assertion *etree.Element) map[string][]string {
	out := map[string][]string{}
	for _, st := range childElements(assertion, nsAssertion, "AttributeStatement") {
		for _, a := range childElements(st, nsAssertion, "Attribute") {
			name := a.SelectAttrValue("Name", "")
			values := out[name]
			if values == nil {
				values = []string{}
			}
			for _, v := range childElements(a, nsAssertion, "AttributeValue") {
				text, _ := textOf(v)
				values = append(values, text)
			}
			out[name] = values
		}
	}
	return out
}
