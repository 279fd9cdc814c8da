package saml

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// The XML-DSig algorithms Verify accepts; anything else is refused before any key is used.
const (
	algExcC14N    = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algDigestSHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
)

// signatureMethods maps each accepted SignatureMethod to the key type it needs and whether it
// is SHA-1 (accepted only with VerifyOptions.AllowSHA1).
var signatureMethods = map[string]struct {
	key  x509.PublicKeyAlgorithm
	sha1 bool
}{
	dsig.RSASHA1SignatureMethod:     {x509.RSA, true},
	dsig.RSASHA256SignatureMethod:   {x509.RSA, false},
	dsig.RSASHA384SignatureMethod:   {x509.RSA, false},
	dsig.RSASHA512SignatureMethod:   {x509.RSA, false},
	dsig.ECDSASHA1SignatureMethod:   {x509.ECDSA, true},
	dsig.ECDSASHA256SignatureMethod: {x509.ECDSA, false},
	dsig.ECDSASHA384SignatureMethod: {x509.ECDSA, false},
	dsig.ECDSASHA512SignatureMethod: {x509.ECDSA, false},
}

// digestMethods maps each accepted DigestMethod to whether it is SHA-1.
var digestMethods = map[string]bool{
	algDigestSHA1: true,
	"http://www.w3.org/2001/04/xmlenc#sha256":       false,
	"http://www.w3.org/2001/04/xmldsig-more#sha384": false,
	"http://www.w3.org/2001/04/xmlenc#sha512":       false,
}

// signedElement is what one verified signature covers: the element re-parsed from the
// canonical bytes whose digest the signature signs, and the certificate that verified it.
type signedElement struct {
	el     *etree.Element
	certID int64
}

// verifySignature verifies sig, a ds:Signature child of el, with certs (all usable now) and
// returns the element as the signature covers it. what names el in messages.
func verifySignature(what string, el, sig *etree.Element, certs []Certificate, now time.Time, allowSHA1 bool) (signedElement, error) {
	keyAlg, err := checkSignatureShape(el, sig, allowSHA1)
	if err != nil {
		return signedElement{}, errorf(ErrSignature, "the %s signature is not one ssod verifies: %s", what, err)
	}
	base := withInheritedNamespaces(el)
	baseSig, ok := base.Child[sig.Index()].(*etree.Element)
	if !ok {
		return signedElement{}, errorf(ErrSignature, "the %s signature could not be located", what)
	}
	hint := keyInfoCertificate(sig)
	// goxmldsig insists that KeyInfo name a trusted certificate exactly; ssod trusts the
	// integration's certificates whatever KeyInfo says, so it tries each one without it.
	for _, ki := range childElements(baseSig, nsDSig, "KeyInfo") {
		baseSig.RemoveChild(ki)
	}

	// The certificate KeyInfo names (a hint only: KeyInfo is not signed) goes first, so a
	// rotation costs one public-key operation in the usual case.
	order := make([]Certificate, 0, len(certs))
	for _, c := range certs {
		if hint != nil && bytes.Equal(c.Cert.Raw, hint) {
			order = append([]Certificate{c}, order...)
		} else {
			order = append(order, c)
		}
	}
	var tried []string
	var lastErr error
	for _, c := range order {
		if c.Cert.PublicKeyAlgorithm != keyAlg {
			continue
		}
		tried = append(tried, fmt.Sprint(c.ID))
		work := base // Validate works on a copy of what it is given
		if pub, ok := c.Cert.PublicKey.(*ecdsa.PublicKey); ok {
			work = base.Copy()
			if !rawECDSAToASN1(work.Child[baseSig.Index()].(*etree.Element), pub) {
				lastErr = fmt.Errorf("the ECDSA SignatureValue is not r||s for this key's curve")
				continue
			}
		}
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c.Cert}})
		ctx.IdAttribute = "ID"
		ctx.Clock = dsig.NewFakeClockAt(now)
		verified, err := ctx.Validate(work)
		if err == nil {
			return signedElement{el: verified, certID: c.ID}, nil
		}
		lastErr = err
	}
	if len(tried) == 0 {
		return signedElement{}, errorf(ErrSignature, "the %s signature uses a %s key, and no enabled certificate valid now has one", what, keyAlg)
	}
	return signedElement{}, errorf(ErrSignature, "the %s signature does not verify with certificate %s: %s",
		what, strings.Join(tried, ", "), quote(lastErr.Error()))
}

// checkSignatureShape accepts only the one signature form SAML IdPs produce and ssod
// trusts: SignedInfo, SignatureValue and an optional KeyInfo (no Object, which wrapping
// attacks use); exclusive C14N; one Reference to "#" + el's ID with exactly the enveloped
// and exclusive C14N transforms; RSA or ECDSA with SHA-256 or stronger (SHA-1 only when
// allowed). It returns the key type the SignatureMethod needs.
func checkSignatureShape(el, sig *etree.Element, allowSHA1 bool) (x509.PublicKeyAlgorithm, error) {
	parts := sig.ChildElements()
	if len(parts) < 2 || len(parts) > 3 || !is(parts[0], nsDSig, "SignedInfo") || !is(parts[1], nsDSig, "SignatureValue") ||
		(len(parts) == 3 && !is(parts[2], nsDSig, "KeyInfo")) {
		return 0, fmt.Errorf("it must hold SignedInfo, SignatureValue and optionally KeyInfo, nothing else")
	}
	info := parts[0].ChildElements()
	if len(info) != 3 || !is(info[0], nsDSig, "CanonicalizationMethod") || !is(info[1], nsDSig, "SignatureMethod") || !is(info[2], nsDSig, "Reference") {
		return 0, fmt.Errorf("SignedInfo must hold CanonicalizationMethod, SignatureMethod and one Reference")
	}
	if alg := info[0].SelectAttrValue("Algorithm", ""); alg != algExcC14N {
		return 0, fmt.Errorf("canonicalization %s is not exclusive C14N", quote(alg))
	}
	sm := info[1].SelectAttrValue("Algorithm", "")
	method, ok := signatureMethods[sm]
	if !ok {
		return 0, fmt.Errorf("signature method %s is not RSA or ECDSA with SHA-2", quote(sm))
	}
	if method.sha1 && !allowSHA1 {
		return 0, fmt.Errorf("signature method %s uses SHA-1, which is refused", quote(sm))
	}
	ref := info[2]
	id := el.SelectAttrValue("ID", "")
	if uri := ref.SelectAttrValue("URI", ""); id == "" || uri != "#"+id {
		return 0, fmt.Errorf("the Reference URI %s does not name the signed element's ID %s", quote(uri), quote(id))
	}
	rp := ref.ChildElements()
	if len(rp) != 3 || !is(rp[0], nsDSig, "Transforms") || !is(rp[1], nsDSig, "DigestMethod") || !is(rp[2], nsDSig, "DigestValue") {
		return 0, fmt.Errorf("the Reference must hold Transforms, DigestMethod and DigestValue")
	}
	tr := rp[0].ChildElements()
	if len(tr) != 2 || !is(tr[0], nsDSig, "Transform") || !is(tr[1], nsDSig, "Transform") ||
		tr[0].SelectAttrValue("Algorithm", "") != algEnveloped || tr[1].SelectAttrValue("Algorithm", "") != algExcC14N {
		return 0, fmt.Errorf("the transforms must be exactly enveloped-signature then exclusive C14N")
	}
	dm := rp[1].SelectAttrValue("Algorithm", "")
	isSHA1, ok := digestMethods[dm]
	if !ok {
		return 0, fmt.Errorf("digest method %s is not SHA-2", quote(dm))
	}
	if isSHA1 && !allowSHA1 {
		return 0, fmt.Errorf("digest method %s is SHA-1, which is refused", quote(dm))
	}
	return method.key, nil
}

// withInheritedNamespaces returns a detached copy of el that declares every namespace in
// scope at el, so that canonicalizing it alone gives the bytes the IdP signed: an Assertion
// often uses prefixes (and InclusiveNamespaces prefixes) declared only on its Response.
func withInheritedNamespaces(el *etree.Element) *etree.Element {
	c := el.Copy()
	has := map[string]bool{}
	for _, a := range el.Attr {
		if a.Space == "xmlns" {
			has[a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
			has[""] = true
		}
	}
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == "xmlns" && !has[a.Key]:
				has[a.Key] = true
				c.CreateAttr("xmlns:"+a.Key, a.Value)
			case a.Space == "" && a.Key == "xmlns" && !has[""]:
				has[""] = true
				c.CreateAttr("xmlns", a.Value)
			}
		}
	}
	return c
}

// keyInfoCertificate returns the DER of the first X509Certificate in sig's KeyInfo, or nil.
func keyInfoCertificate(sig *etree.Element) []byte {
	ki := firstChild(sig, nsDSig, "KeyInfo")
	if ki == nil {
		return nil
	}
	data := firstChild(ki, nsDSig, "X509Data")
	if data == nil {
		return nil
	}
	cert := firstChild(data, nsDSig, "X509Certificate")
	if cert == nil {
		return nil
	}
	text, _ := textOf(cert)
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	if err != nil {
		return nil
	}
	return der
}

// rawECDSAToASN1 rewrites sig's SignatureValue from XML-DSig's r||s (each the curve's size,
// RFC 4050 and XML-DSig 1.1) to the ASN.1 form crypto/x509 checks. The SignatureValue is
// not itself signed, so this changes nothing a signature covers. It returns false when the
// value is not r||s for pub's curve.
func rawECDSAToASN1(sig *etree.Element, pub *ecdsa.PublicKey) bool {
	sv := firstChild(sig, nsDSig, "SignatureValue")
	if sv == nil {
		return false
	}
	text, ok := textOf(sv)
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	size := (pub.Curve.Params().BitSize + 7) / 8
	if err != nil || len(raw) != 2*size {
		return false
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:size]), new(big.Int).SetBytes(raw[size:])})
	if err != nil {
		return false
	}
	for len(sv.Child) > 0 {
		sv.RemoveChildAt(0)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(der))
	return true
}
