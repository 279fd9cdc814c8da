package saml

import (
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpcert"
)

// MaxMetadataSize bounds an IdP metadata document: outbound's body limit. One IdP's
// metadata is 2 to 20 KiB; federation aggregates of thousands of entities are not what an
// integration imports.
const MaxMetadataSize = 1 << 20

// Bindings ParseIdPMetadata takes an IdP's endpoints from, the first preferred.
const (
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// MetadataOptions are the inputs of ParseIdPMetadata besides the document.
type MetadataOptions struct {
	// Now is the time validUntil is compared with.
	Now time.Time
	// EntityID chooses among several IdPs in one EntitiesDescriptor; "" accepts a document
	// that describes exactly one.
	EntityID string
}

// MetadataError says why a metadata document cannot configure an integration. Messages name
// what is missing or wrong (quoted values, cut short), never key material.
type MetadataError struct{ Message string }

func (e *MetadataError) Error() string { return e.Message }

func metadataErrorf(format string, args ...any) *MetadataError {
	return &MetadataError{Message: fmt.Sprintf(format, args...)}
}

// ParseIdPMetadata reads SAML 2.0 metadata (an EntityDescriptor, or an EntitiesDescriptor,
// nested or not) and returns what an integration takes from its one SAML 2.0 IdP: the
// entityID, the SingleSignOnService location (HTTP-Redirect binding preferred, else
// HTTP-POST), the SingleLogoutService location by the same rule (else the sign-in one), and
// one certificate per signing KeyDescriptor (use="signing" or no use; the first
// X509Certificate of each), each certificate once, in document order, parsed as the
// certificate API parses one. The XML is read under Parse's rules (no DTD, bounded size and
// depth). A validUntil in the past, on the chosen entity or any descriptor around it, refuses
// the document, as stale. The document's own signature is not checked: ssod trusts the
// metadata as much as the tenant who gives it.
//
// Every error is a *MetadataError.
func ParseIdPMetadata(xml []byte, opts MetadataOptions) (ssod.IdPMetadata, error) {
	var md ssod.IdPMetadata
	root, _, err := readXML(xml, MaxMetadataSize)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return md, &MetadataError{Message: e.Message}
		}
		return md, err
	}
	if !is(root, nsMetadata, "EntityDescriptor") && !is(root, nsMetadata, "EntitiesDescriptor") {
		return md, metadataErrorf("the root element is %s, not a SAML 2.0 metadata EntityDescriptor or EntitiesDescriptor", quote(root.FullTag()))
	}
	var idps []idpEntity
	collectIdPs(root, nil, &idps)
	entity, err := chooseIdP(idps, opts.EntityID)
	if err != nil {
		return md, err
	}
	for _, el := range entity.validity {
		if err := checkValidUntil(el, opts.Now); err != nil {
			return md, err
		}
	}
	md.EntityID = entity.id
	sso := endpoint(entity.idp, "SingleSignOnService")
	if sso == "" {
		return md, metadataErrorf("the IDPSSODescriptor of %s has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding", quote(md.EntityID))
	}
	md.SigninURL = sso
	md.SignoutURL = endpoint(entity.idp, "SingleLogoutService")
	if md.SignoutURL == "" {
		md.SignoutURL = md.SigninURL
	}
	if md.Certificates, err = signingCertificates(entity.idp); err != nil {
		return md, err
	}
	if len(md.Certificates) == 0 {
		return md, metadataErrorf("the IDPSSODescriptor of %s has no signing certificate (a KeyDescriptor with use=\"signing\" or no use, holding an X509Certificate)", quote(md.EntityID))
	}
	return md, nil
}

// idpEntity is an EntityDescriptor with a SAML 2.0 IDPSSODescriptor.
type idpEntity struct {
	id       string
	idp      *etree.Element   // its first IDPSSODescriptor that supports SAML 2.0
	validity []*etree.Element // the entity, its descriptor and the EntitiesDescriptors around it
}

// collectIdPs appends the SAML 2.0 IdPs under el, outer holding the EntitiesDescriptors
// around it.
func collectIdPs(el *etree.Element, outer []*etree.Element, out *[]idpEntity) {
	if is(el, nsMetadata, "EntitiesDescriptor") {
		outer = append(slices.Clip(outer), el)
		for _, t := range el.Child {
			if c, ok := t.(*etree.Element); ok {
				collectIdPs(c, outer, out)
			}
		}
		return
	}
	if !is(el, nsMetadata, "EntityDescriptor") {
		return
	}
	for _, d := range childElements(el, nsMetadata, "IDPSSODescriptor") {
		if slices.Contains(strings.Fields(d.SelectAttrValue("protocolSupportEnumeration", "")), nsProtocol) {
			validity := append(slices.Clip(outer), el, d)
			*out = append(*out, idpEntity{id: el.SelectAttrValue("entityID", ""), idp: d, validity: validity})
			return
		}
	}
}

// maxNamed bounds how many entity IDs an error lists.
const maxNamed = 5

func chooseIdP(idps []idpEntity, want string) (idpEntity, error) {
	if len(idps) == 0 {
		return idpEntity{}, metadataErrorf("the metadata has no IDPSSODescriptor supporting SAML 2.0: it describes no SAML 2.0 identity provider")
	}
	if want != "" {
		for _, e := range idps {
			if e.id == want {
				return e, nil
			}
		}
		return idpEntity{}, metadataErrorf("the metadata describes no IdP with entityID %s; it has %s", quote(want), entityList(idps))
	}
	if len(idps) > 1 {
		return idpEntity{}, metadataErrorf("the metadata describes %d IdPs (%s); send entity_id to choose one", len(idps), entityList(idps))
	}
	if idps[0].id == "" {
		return idpEntity{}, metadataErrorf("the IdP's EntityDescriptor has no entityID")
	}
	return idps[0], nil
}

func entityList(idps []idpEntity) string {
	ids := make([]string, 0, maxNamed)
	for _, e := range idps[:min(len(idps), maxNamed)] {
		ids = append(ids, e.id)
	}
	list := quoteList(ids)
	if len(idps) > maxNamed {
		list += fmt.Sprintf(" and %d more", len(idps)-maxNamed)
	}
	return list
}

func checkValidUntil(el *etree.Element, now time.Time) error {
	a := el.SelectAttr("validUntil")
	if a == nil {
		return nil
	}
	t, err := parseTime(a.Value)
	if err != nil {
		return metadataErrorf("%s/@validUntil %s is not a date and time", el.Tag, quote(a.Value))
	}
	if !now.Before(t) {
		return metadataErrorf("the metadata expired: %s/@validUntil is %s", el.Tag, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// endpoint returns the Location of d's first name element with the HTTP-Redirect binding,
// else of the first with HTTP-POST, else "".
func endpoint(d *etree.Element, name string) string {
	services := childElements(d, nsMetadata, name)
	for _, binding := range []string{bindingRedirect, bindingPOST} {
		for _, s := range services {
			if s.SelectAttrValue("Binding", "") == binding {
				return strings.TrimSpace(s.SelectAttrValue("Location", ""))
			}
		}
	}
	return ""
}

// signingCertificates parses the first X509Certificate of each signing KeyDescriptor of d,
// keeping each certificate once.
func signingCertificates(d *etree.Element) ([]ssod.X509, error) {
	var certs []ssod.X509
	seen := map[[32]byte]bool{}
	for i, kd := range childElements(d, nsMetadata, "KeyDescriptor") {
		if use := kd.SelectAttrValue("use", ""); use != "" && use != "signing" {
			continue
		}
		text, ok := keyCertificate(kd)
		if !ok {
			continue // a bare key or key name: nothing ssod can verify with
		}
		x, err := idpcert.Parse(text)
		if err != nil {
			msg := err.Error()
			var e *ssod.Error
			if errors.As(err, &e) {
				msg = e.Message
			}
			return nil, metadataErrorf("KeyDescriptor %d of the IDPSSODescriptor: %s", i+1, strings.ReplaceAll(msg, "public_certificate", "its X509Certificate"))
		}
		block, _ := pem.Decode([]byte(x.PEM))
		sum := sha256.Sum256(block.Bytes)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		if len(certs) == ssod.MaxCertificatesPerIntegration {
			return nil, metadataErrorf("the IDPSSODescriptor has more than %d signing certificates, more than an integration holds", ssod.MaxCertificatesPerIntegration)
		}
		certs = append(certs, x)
	}
	return certs, nil
}

// keyCertificate returns the text of kd's first ds:KeyInfo/ds:X509Data/ds:X509Certificate.
func keyCertificate(kd *etree.Element) (string, bool) {
	info := firstChild(kd, nsDSig, "KeyInfo")
	if info == nil {
		return "", false
	}
	for _, data := range childElements(info, nsDSig, "X509Data") {
		if c := firstChild(data, nsDSig, "X509Certificate"); c != nil {
			text, _ := textOf(c) // child elements leave it empty, which idpcert refuses
			return text, true
		}
	}
	return "", false
}
