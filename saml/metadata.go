package saml

import (
	"encoding/xml"
	"fmt"
)

// MetadataContentType is the media type of SAML metadata (SAML metadata, section 4.1).
const MetadataContentType = "application/samlmetadata+xml"

// NameIDFormats are the NameID formats ssod's metadata lists, the one it prefers first.
// Verify accepts a NameID of any format (check 11 asks only for a non-empty one); these are
// the ones that identify a person, which is what a sign-in is for.
var NameIDFormats = []string{
	"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
	"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
	"urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
	"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
}

const nsMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"

// SPMetadata describes ssod as the service provider of one integration, for the IdP's
// administrator to import.
type SPMetadata struct {
	EntityID string // the integration's audience_url
	ACSURL   string // the integration's single_signon_url
}

type entityDescriptorXML struct {
	XMLName  xml.Name `xml:"md:EntityDescriptor"`
	NS       string   `xml:"xmlns:md,attr"`
	EntityID string   `xml:"entityID,attr"`
	SP       struct {
		AuthnRequestsSigned        bool     `xml:"AuthnRequestsSigned,attr"`
		WantAssertionsSigned       bool     `xml:"WantAssertionsSigned,attr"`
		ProtocolSupportEnumeration string   `xml:"protocolSupportEnumeration,attr"`
		NameIDFormats              []string `xml:"md:NameIDFormat"`
		ACS                        struct {
			Binding   string `xml:"Binding,attr"`
			Location  string `xml:"Location,attr"`
			Index     int    `xml:"index,attr"`
			IsDefault bool   `xml:"isDefault,attr"`
		} `xml:"md:AssertionConsumerService"`
	} `xml:"md:SPSSODescriptor"`
}

// XML renders the metadata document: an EntityDescriptor whose SPSSODescriptor asks for
// signed assertions (a signed Response is accepted too), lists NameIDFormats, and has one
// AssertionConsumerService, HTTP-POST at ACSURL. It carries no KeyDescriptor: ssod signs
// nothing and decrypts nothing. encoding/xml escapes every value.
func (m SPMetadata) XML() ([]byte, error) {
	var d entityDescriptorXML
	d.NS = nsMetadata
	d.EntityID = m.EntityID
	d.SP.AuthnRequestsSigned = false
	d.SP.WantAssertionsSigned = true
	d.SP.ProtocolSupportEnumeration = nsProtocol
	d.SP.NameIDFormats = NameIDFormats
	d.SP.ACS.Binding = BindingHTTPPost
	d.SP.ACS.Location = m.ACSURL
	d.SP.ACS.IsDefault = true
	out, err := xml.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("saml: encode metadata: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
