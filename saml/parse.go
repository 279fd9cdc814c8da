package saml

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Namespaces and values of SAML 2.0 and XML-DSig that the verifier matches on.
const (
	nsProtocol    = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion   = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig        = "http://www.w3.org/2000/09/xmldsig#"
	nsXML         = "http://www.w3.org/XML/1998/namespace"
	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	methodBearer  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	formatEntity  = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
)

// Limits of Parse. An HTTP-POST SAMLResponse of at most 256 KiB of base64 decodes to at most
// 192 KiB, so MaxSize never refuses what the contract lets through; real responses are 3 to
// 30 KiB and about 10 elements deep.
const (
	MaxSize  = 256 << 10 // bytes of XML
	MaxDepth = 48        // element nesting
)

// Response is a parsed SAML 2.0 protocol Response that passed check 1. Nothing in it is
// trusted yet: Verify reads the assertion only from bytes a signature covers.
type Response struct {
	root        *etree.Element
	assertion   *etree.Element // the only Assertion, a child of root; nil when there is none
	responseSig *etree.Element // ds:Signature child of root, or nil
	assertSig   *etree.Element // ds:Signature child of assertion, or nil
	straySigs   int            // ds:Signature elements anywhere else
	statusCodes []string
}

// Parse does the contract's check 1 on the XML of a SAMLResponse (already base64-decoded):
// well-formed and namespace-well-formed UTF-8 of at most MaxSize bytes and MaxDepth levels,
// no DTD or other directive (so no entity can be declared, let alone expanded), no processing
// instruction but the XML declaration, no two elements with the same ID, a root that is a
// SAML 2.0 protocol Response, no EncryptedAssertion, at most one Assertion element anywhere
// and exactly one when the status is Success, and that one a child of the Response. Every
// error is an *Error with Code ErrMalformed.
func Parse(xml []byte) (*Response, error) {
	root, w, err := readXML(xml, MaxSize)
	if err != nil {
		return nil, err
	}

	if !is(root, nsProtocol, "Response") {
		return nil, errorf(ErrMalformed, "the root element is %s, not a SAML 2.0 protocol Response", quote(root.FullTag()))
	}
	if v := root.SelectAttrValue("Version", ""); v != "2.0" {
		return nil, errorf(ErrMalformed, "the Response has Version %s, not \"2.0\"", quote(v))
	}
	if root.SelectAttrValue("ID", "") == "" {
		return nil, errorf(ErrMalformed, "the Response has no ID")
	}
	r := &Response{root: root}
	if err := atMostOne(root, nsAssertion, "Issuer"); err != nil {
		return nil, err
	}
	if err := atMostOne(root, nsProtocol, "Status"); err != nil {
		return nil, err
	}
	if status := firstChild(root, nsProtocol, "Status"); status != nil {
		for code := firstChild(status, nsProtocol, "StatusCode"); code != nil; code = firstChild(code, nsProtocol, "StatusCode") {
			r.statusCodes = append(r.statusCodes, code.SelectAttrValue("Value", ""))
		}
	}

	switch {
	case w.encrypted > 0:
		return nil, errorf(ErrMalformed, "the Response carries an EncryptedAssertion, which ssod cannot decrypt")
	case len(w.assertions) > 1:
		return nil, errorf(ErrMalformed, "the document holds %d Assertion elements; at most one is allowed", len(w.assertions))
	case len(w.assertions) == 0 && r.StatusOK():
		return nil, errorf(ErrMalformed, "the status is Success but the Response holds no Assertion")
	case len(w.assertions) == 1:
		r.assertion = w.assertions[0]
		if r.assertion.Parent() != root {
			return nil, errorf(ErrMalformed, "the Assertion is not a child of the Response")
		}
		if err := checkAssertionShape(r.assertion); err != nil {
			return nil, err
		}
	}

	for _, sig := range w.signatures {
		switch p := sig.Parent(); {
		case p == root && r.responseSig == nil:
			r.responseSig = sig
		case p == root:
			return nil, errorf(ErrMalformed, "the Response has two Signature elements")
		case p == r.assertion && r.assertSig == nil:
			r.assertSig = sig
		case p == r.assertion:
			return nil, errorf(ErrMalformed, "the Assertion has two Signature elements")
		default:
			r.straySigs++
		}
	}
	return r, nil
}

// readXML reads a document of at most max bytes under the rules Parse states (UTF-8, no DTD,
// namespace-well-formed, bounded depth, unique IDs) and returns its root and what the walk
// collected. Every error is an *Error with Code ErrMalformed.
func readXML(xml []byte, max int) (*etree.Element, *walker, error) {
	if len(xml) > max {
		return nil, nil, errorf(ErrMalformed, "the XML is %d bytes, more than the %d allowed", len(xml), max)
	}
	xml = bytes.TrimPrefix(xml, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(xml) {
		return nil, nil, errorf(ErrMalformed, "the XML is not valid UTF-8")
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{PreserveDuplicateAttrs: true, MaxDepth: MaxDepth}
	if err := doc.ReadFromBytes(xml); err != nil {
		return nil, nil, errorf(ErrMalformed, "the XML is not well-formed: %s", quote(err.Error()))
	}
	root, err := documentElement(doc)
	if err != nil {
		return nil, nil, err
	}
	w := &walker{ids: map[string]bool{}}
	if err := w.walk(root, defaultScope, 1); err != nil {
		return nil, nil, err
	}
	return root, w, nil
}

// StatusOK reports whether the Response's top-level StatusCode is Success (check 3).
func (r *Response) StatusOK() bool {
	return len(r.statusCodes) > 0 && r.statusCodes[0] == statusSuccess
}

// StatusCodes returns the top-level StatusCode value followed by the nested (second-level)
// ones, as the IdP sent them; empty when the Response has no Status.
func (r *Response) StatusCodes() []string { return append([]string(nil), r.statusCodes...) }

// documentElement returns the one element at the top of doc, refusing directives (DOCTYPE),
// processing instructions other than a UTF-8 XML declaration, text, and several roots.
func documentElement(doc *etree.Document) (*etree.Element, error) {
	var root *etree.Element
	for i, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Element:
			if root != nil {
				return nil, errorf(ErrMalformed, "the XML has more than one root element")
			}
			root = t
		case *etree.Directive:
			return nil, errorf(ErrMalformed, "the XML has a DTD (DOCTYPE) or another markup declaration, which is not allowed")
		case *etree.ProcInst:
			if t.Target != "xml" || i != 0 {
				return nil, errorf(ErrMalformed, "the XML has a processing instruction %s", quote(t.Target))
			}
			if enc := declaredEncoding(t.Inst); enc != "" && !strings.EqualFold(enc, "UTF-8") {
				return nil, errorf(ErrMalformed, "the XML declares encoding %s; only UTF-8 is accepted", quote(enc))
			}
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, errorf(ErrMalformed, "the XML has text outside its root element")
			}
		}
	}
	if root == nil {
		return nil, errorf(ErrMalformed, "the XML has no root element")
	}
	return root, nil
}

// declaredEncoding returns the encoding pseudo-attribute of an XML declaration, or "".
func declaredEncoding(inst string) string {
	i := strings.Index(inst, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(inst[i+len("encoding"):], " \t\r\n")
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return "?"
	}
	rest = strings.TrimLeft(rest, " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return "?"
	}
	end := strings.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return "?"
	}
	return rest[1 : 1+end]
}

// scope maps namespace prefixes ("" for the default namespace) to URIs.
type scope map[string]string

var defaultScope = scope{"xml": nsXML}

// walker checks namespace well-formedness and unique IDs, and collects the elements check 1
// and Verify count: every Assertion, EncryptedAssertion and ds:Signature in the document.
type walker struct {
	ids        map[string]bool
	assertions []*etree.Element
	signatures []*etree.Element
	encrypted  int
}

func (w *walker) walk(el *etree.Element, sc scope, depth int) error {
	if depth > MaxDepth {
		return errorf(ErrMalformed, "the XML is nested deeper than %d elements", MaxDepth)
	}
	// Namespace declarations first: they apply to the element's own name and attributes.
	declared := false
	for _, a := range el.Attr {
		prefix, isDecl := "", false
		switch {
		case a.Space == "xmlns":
			prefix, isDecl = a.Key, true
			if a.Value == "" {
				return errorf(ErrMalformed, "the namespace prefix %s is declared empty", quote(a.Key))
			}
			if (a.Key == "xml") != (a.Value == nsXML) || a.Key == "xmlns" {
				return errorf(ErrMalformed, "the namespace prefix %s is bound wrongly", quote(a.Key))
			}
		case a.Space == "" && a.Key == "xmlns":
			isDecl = true
		}
		if !isDecl {
			continue
		}
		if !declared {
			next := make(scope, len(sc)+2)
			for k, v := range sc {
				next[k] = v
			}
			sc, declared = next, true
		}
		sc[prefix] = a.Value
	}
	if el.Tag == "" || strings.Contains(el.Tag, ":") {
		return errorf(ErrMalformed, "the element name %s is not a valid qualified name", quote(el.FullTag()))
	}
	uri, ok := sc[el.Space]
	if !ok && el.Space != "" {
		return errorf(ErrMalformed, "the element %s uses an undeclared namespace prefix", quote(el.FullTag()))
	}
	seen := make(map[string]bool, len(el.Attr))
	for _, a := range el.Attr {
		if a.Key == "" || strings.Contains(a.Key, ":") {
			return errorf(ErrMalformed, "the attribute name %s on %s is not a valid qualified name", quote(a.FullKey()), quote(el.FullTag()))
		}
		name := "\x00" + a.Space + "\x00" + a.Key
		if a.Space != "" && a.Space != "xmlns" {
			attrURI, ok := sc[a.Space]
			if !ok {
				return errorf(ErrMalformed, "the attribute %s on %s uses an undeclared namespace prefix", quote(a.FullKey()), quote(el.FullTag()))
			}
			name = attrURI + "\x00" + a.Key
		}
		if seen[name] {
			return errorf(ErrMalformed, "the element %s has the attribute %s twice", quote(el.FullTag()), quote(a.FullKey()))
		}
		seen[name] = true
		if a.Space == "" && a.Key == "ID" {
			if w.ids[a.Value] {
				return errorf(ErrMalformed, "two elements have the ID %s", quote(a.Value))
			}
			w.ids[a.Value] = true
		}
	}
	switch {
	case uri == nsAssertion && el.Tag == "Assertion":
		w.assertions = append(w.assertions, el)
	case uri == nsAssertion && el.Tag == "EncryptedAssertion":
		w.encrypted++
	case uri == nsDSig && el.Tag == "Signature":
		w.signatures = append(w.signatures, el)
	}
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if err := w.walk(t, sc, depth+1); err != nil {
				return err
			}
		case *etree.Directive:
			return errorf(ErrMalformed, "the XML has a markup declaration inside %s", quote(el.FullTag()))
		case *etree.ProcInst:
			return errorf(ErrMalformed, "the XML has a processing instruction inside %s", quote(el.FullTag()))
		}
	}
	return nil
}

// checkAssertionShape refuses an Assertion whose parts Verify reads are ambiguous or
// unreadable: several Issuers, Subjects, Conditions or identifiers, a missing ID or Version, or a time that is not an xs:dateTime. The signed copy Verify reads is the
// canonical form of this same element, so what holds here holds there.
func checkAssertionShape(a *etree.Element) error {
	if v := a.SelectAttrValue("Version", ""); v != "2.0" {
		return errorf(ErrMalformed, "the Assertion has Version %s, not \"2.0\"", quote(v))
	}
	if a.SelectAttrValue("ID", "") == "" {
		return errorf(ErrMalformed, "the Assertion has no ID")
	}
	for _, name := range []string{"Issuer", "Subject", "Conditions"} {
		if err := atMostOne(a, nsAssertion, name); err != nil {
			return err
		}
	}
	if subject := firstChild(a, nsAssertion, "Subject"); subject != nil {
		ids := 0
		for _, name := range []string{"NameID", "EncryptedID", "BaseID"} {
			ids += len(childElements(subject, nsAssertion, name))
		}
		if ids > 1 {
			return errorf(ErrMalformed, "the Subject has %d identifiers; at most one is allowed", ids)
		}
		for _, sc := range childElements(subject, nsAssertion, "SubjectConfirmation") {
			if err := atMostOne(sc, nsAssertion, "SubjectConfirmationData"); err != nil {
				return err
			}
			if d := firstChild(sc, nsAssertion, "SubjectConfirmationData"); d != nil {
				if err := checkTimes(d, "NotBefore", "NotOnOrAfter"); err != nil {
					return err
				}
			}
		}
	}
	if c := firstChild(a, nsAssertion, "Conditions"); c != nil {
		if err := checkTimes(c, "NotBefore", "NotOnOrAfter"); err != nil {
			return err
		}
	}
	for _, s := range childElements(a, nsAssertion, "AuthnStatement") {
		if err := checkTimes(s, "AuthnInstant"); err != nil {
			return err
		}
	}
	return nil
}

// checkTimes refuses an element whose named attributes are present but not xs:dateTime.
func checkTimes(el *etree.Element, names ...string) error {
	for _, name := range names {
		if a := el.SelectAttr(name); a != nil {
			if _, err := parseTime(a.Value); err != nil {
				return errorf(ErrMalformed, "%s/@%s %s is not a date and time", el.Tag, name, quote(a.Value))
			}
		}
	}
	return nil
}

// parseTime reads an xs:dateTime as SAML uses it (UTC, optional fraction of a second).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("not an xs:dateTime")
	}
	return t, nil
}

// is reports whether el is the element local in namespace ns.
func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}

// firstChild returns el's first child element local in namespace ns, or nil.
func firstChild(el *etree.Element, ns, local string) *etree.Element {
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && is(c, ns, local) {
			return c
		}
	}
	return nil
}

// childElements returns el's child elements local in namespace ns.
func childElements(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// atMostOne refuses el when it has more than one child local in namespace ns.
func atMostOne(el *etree.Element, ns, local string) error {
	if n := len(childElements(el, ns, local)); n > 1 {
		return errorf(ErrMalformed, "the %s has %d %s elements; at most one is allowed", el.Tag, n, local)
	}
	return nil
}

// textOf returns all of el's character data, however comments split it, and false when el
// has child elements (a value that is not plain text).
func textOf(el *etree.Element) (string, bool) {
	var b strings.Builder
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		case *etree.Element:
			return "", false
		}
	}
	return b.String(), true
}
