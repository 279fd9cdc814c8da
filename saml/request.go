package saml

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/url"
	"time"
)

// AuthnRequest is what ssod sends an IdP to start an SP-initiated sign-in (SAML core
// 3.4.1). It is unsigned: ssod holds no signing key, and the HTTP-Redirect binding lets a
// request go without a signature; what protects the sign-in is the signed response, whose
// InResponseTo must then name an ID ssod remembers.
type AuthnRequest struct {
	ID           string // NewRequestID
	IssueInstant time.Time
	Issuer       string // the integration's audience_url: who ssod is to the IdP
	Destination  string // the integration's signin_url
	ACSURL       string // the integration's single_signon_url: where the IdP posts the response
}

// BindingHTTPPost is the binding of ssod's Assertion Consumer Service.
const BindingHTTPPost = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

// NewRequestID returns a fresh AuthnRequest ID: "_" and 160 random bits in hex. An ID is
// an xs:ID, which must start with a letter or an underscore.
func NewRequestID() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "_" + hex.EncodeToString(b[:])
}

type authnRequestXML struct {
	XMLName         xml.Name `xml:"samlp:AuthnRequest"`
	NSProtocol      string   `xml:"xmlns:samlp,attr"`
	NSAssertion     string   `xml:"xmlns:saml,attr"`
	ID              string   `xml:"ID,attr"`
	Version         string   `xml:"Version,attr"`
	IssueInstant    string   `xml:"IssueInstant,attr"`
	Destination     string   `xml:"Destination,attr"`
	ACSURL          string   `xml:"AssertionConsumerServiceURL,attr"`
	ProtocolBinding string   `xml:"ProtocolBinding,attr"`
	Issuer          string   `xml:"saml:Issuer"`
}

// XML renders the request. encoding/xml escapes every value. No NameIDPolicy is sent, so
// the IdP uses the NameID format it is configured with (any format is accepted).
func (a AuthnRequest) XML() ([]byte, error) {
	out, err := xml.Marshal(authnRequestXML{
		NSProtocol:      nsProtocol,
		NSAssertion:     nsAssertion,
		ID:              a.ID,
		Version:         "2.0",
		IssueInstant:    a.IssueInstant.UTC().Format("2006-01-02T15:04:05Z"),
		Destination:     a.Destination,
		ACSURL:          a.ACSURL,
		ProtocolBinding: BindingHTTPPost,
		Issuer:          a.Issuer,
	})
	if err != nil {
		return nil, fmt.Errorf("saml: encode AuthnRequest: %w", err)
	}
	return out, nil
}

// RedirectURL returns the request in the HTTP-Redirect binding (SAML bindings 3.4.4):
// Destination with SAMLRequest (the XML, raw DEFLATE, base64, URL-encoded) and, when not
// empty, RelayState added to its query. A Destination that already has a query keeps it;
// a fragment is dropped, since a browser would never send it.
func (a AuthnRequest) RedirectURL(relayState string) (string, error) {
	raw, err := a.XML()
	if err != nil {
		return "", err
	}
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression) // only an invalid level errs
	if _, err := fw.Write(raw); err != nil {
		return "", fmt.Errorf("saml: deflate AuthnRequest: %w", err)
	}
	if err := fw.Close(); err != nil {
		return "", fmt.Errorf("saml: deflate AuthnRequest: %w", err)
	}
	u, err := url.Parse(a.Destination)
	if err != nil {
		return "", fmt.Errorf("saml: the sign-in URL %s: %w", quote(a.Destination), err)
	}
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(deflated.Bytes())}}
	if relayState != "" {
		q.Set("RelayState", relayState)
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += q.Encode()
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}
