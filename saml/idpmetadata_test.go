package saml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/internal/testenv"
)

var metadataNow = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

// TestIdPMetadataFiles reads every document of the real IdP metadata folder and holds each
// to what was read from it by hand (its SOURCES.md lists where each comes from).
func TestIdPMetadataFiles(t *testing.T) {
	dir := testenv.Lookup(t, testenv.IdPMetadata, "the real IdP metadata tests")
	type want struct {
		entityID, signin, signout string
		certs                     []string // SHA-256 fingerprint prefixes, in order
		err                       string   // a substring of the error, when it is refused
	}
	const onelogin = "https://app.onelogin.com/trust/saml2/http-post/sso/383123"
	okta := "https://dev-513394.oktapreview.com/app/rstudioincdev513394_dev_1/exkppsa1qwuFV4D7z0h7/sso/saml"
	cases := map[string]want{
		// Okta: signing KeyDescriptor; POST listed before Redirect, Redirect chosen (same URL).
		"crewjam_TestSPCanHandleOktaResponseEncryptedAssertionBothSigned_IDPMetadata": {
			"http://www.okta.com/exkppsa1qwuFV4D7z0h7", okta, okta, []string{"d40df01ccede49d2"}, ""},
		// OneLogin: two POST and a SOAP endpoint, no Redirect, no SLO.
		"crewjam_TestSPCanHandleOneloginResponse_IDPMetadata": {
			"https://app.onelogin.com/saml/metadata/503983", "https://app.onelogin.com/trust/saml2/http-post/sso/503983",
			"https://app.onelogin.com/trust/saml2/http-post/sso/503983", []string{"e4713d805c35991d"}, ""},
		"crewjam_TestSPRealWorldAssertionSignedNotResponse_idp_metadata": {
			"https://idp.secureworks.com/SAML2", "https://idp.secureworks.com/SAML2/SSO/POST",
			"https://idp.secureworks.com/SAML2/SSO/POST", []string{"fe448e4acbc0ec6f"}, ""},
		"python3-saml_idp_metadata.xml": {
			"https://app.onelogin.com/saml/metadata/383123", onelogin, onelogin, []string{"46e368f4ed61432b"}, ""},
		// The encryption key (e552…) is left out.
		"python3-saml_idp_metadata_different_sign_and_encrypt_cert.xml": {
			"https://app.onelogin.com/saml/metadata/383123", onelogin, onelogin, []string{"46e368f4ed61432b"}, ""},
		// Three signing KeyDescriptors, the first and third the same certificate: two.
		"python3-saml_idp_metadata_multi_signing_certs.xml": {
			"https://idp.examle.com/saml/metadata", "https://idp.examle.com/saml/sso", "https://idp.examle.com/saml/slo",
			[]string{"e552d92c3cdc3d09", "47051032706842dc"}, ""},
		"python3-saml_idp_multiple_descriptors.xml": {
			err: `the metadata describes 2 IdPs ("https://foo.example.com/access/saml/idp.xml", "https://bar.example.com/access/saml/idp.xml"); send entity_id to choose one`},
		// An IdP and an SP entity; KeyDescriptors without use; Shibboleth and SOAP bindings.
		"python3-saml_testshib-providers.xml": {
			"https://idp.testshib.org/idp/shibboleth", "https://idp.testshib.org/idp/profile/SAML2/Redirect/SSO",
			"https://idp.testshib.org/idp/profile/SAML2/Redirect/SSO", []string{"ed03ff38dfc7ea48"}, ""},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		if st, err := os.Stat(path); err != nil || st.IsDir() || name == "SOURCES.md" {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			w, ok := cases[name]
			if !ok {
				t.Fatalf("no expected values for %s: add them", name)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			md, err := ParseIdPMetadata(b, MetadataOptions{Now: metadataNow})
			if w.err != "" {
				if err == nil || !strings.Contains(err.Error(), w.err) {
					t.Fatalf("err = %v, want %q", err, w.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if md.EntityID != w.entityID || md.SigninURL != w.signin || md.SignoutURL != w.signout {
				t.Errorf("got %q %q %q, want %q %q %q", md.EntityID, md.SigninURL, md.SignoutURL, w.entityID, w.signin, w.signout)
			}
			if len(md.Certificates) != len(w.certs) {
				t.Fatalf("%d certificates, want %d", len(md.Certificates), len(w.certs))
			}
			for i, c := range md.Certificates {
				if fp := ssod.Fingerprint(c.PEM); !strings.HasPrefix(fp, w.certs[i]) {
					t.Errorf("certificate %d is %s, want %s…", i, fp, w.certs[i])
				}
			}
		})
	}
	if seen != len(cases) {
		t.Errorf("read %d documents, expected values for %d", seen, len(cases))
	}

	// Choosing an entity of the multi-IdP document: it expired in 2014.
	b, err := os.ReadFile(filepath.Join(dir, "python3-saml_idp_multiple_descriptors.xml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseIdPMetadata(b, MetadataOptions{Now: metadataNow, EntityID: "https://bar.example.com/access/saml/idp.xml"})
	if err == nil || err.Error() != "the metadata expired: EntitiesDescriptor/@validUntil is 2014-04-17T18:02:33Z" {
		t.Errorf("chosen entity of an expired document: %v", err)
	}
	_, err = ParseIdPMetadata(b, MetadataOptions{Now: metadataNow, EntityID: "https://nope.example.com/"})
	if err == nil || !strings.Contains(err.Error(), `no IdP with entityID "https://nope.example.com/"`) {
		t.Errorf("unknown entity: %v", err)
	}
}

// metadataDoc builds an IdP metadata document around the given IDPSSODescriptor content.
func metadataDoc(inner string) string {
	return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + inner + `</md:IDPSSODescriptor></md:EntityDescriptor>`
}

func keyDescriptor(use, pemText string) string {
	body := strings.TrimSpace(pemText)
	body = strings.TrimPrefix(body, "-----BEGIN CERTIFICATE-----")
	body = strings.TrimSuffix(body, "-----END CERTIFICATE-----")
	attr := ""
	if use != "" {
		attr = ` use="` + use + `"`
	}
	return `<md:KeyDescriptor` + attr + `><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + body + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
}

const (
	ssoRedirect = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/redirect"/>`
	ssoPOST     = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/post"/>`
	sloPOST     = `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/slo"/>`
)

func TestParseIdPMetadata(t *testing.T) {
	a := testcert.New(t, testcert.Options{})
	b := testcert.New(t, testcert.Options{})
	enc := testcert.New(t, testcert.Options{})
	md, err := ParseIdPMetadata([]byte(metadataDoc(keyDescriptor("signing", a.PEM)+keyDescriptor("", b.PEM)+keyDescriptor("encryption", enc.PEM)+
		keyDescriptor("signing", a.PEM)+ssoPOST+ssoRedirect+sloPOST)), MetadataOptions{Now: metadataNow})
	if err != nil {
		t.Fatal(err)
	}
	if md.EntityID != "https://idp.example.com/" || md.SigninURL != "https://idp.example.com/sso/redirect" || md.SignoutURL != "https://idp.example.com/slo" {
		t.Errorf("got %+v", md)
	}
	if len(md.Certificates) != 2 || md.Certificates[0].PEM != a.PEM || md.Certificates[1].PEM != b.PEM {
		t.Errorf("certificates: got %d, want a and b once each, in order, without the encryption key", len(md.Certificates))
	}
	md, err = ParseIdPMetadata([]byte(metadataDoc(keyDescriptor("signing", a.PEM)+ssoPOST)), MetadataOptions{Now: metadataNow})
	if err != nil || md.SigninURL != "https://idp.example.com/sso/post" || md.SignoutURL != md.SigninURL {
		t.Errorf("POST only: %+v, %v", md, err)
	}

	for _, tc := range []struct{ name, doc, want string }{
		{"no signing key", metadataDoc(keyDescriptor("encryption", enc.PEM) + ssoRedirect), "has no signing certificate"},
		{"no SSO", metadataDoc(keyDescriptor("signing", a.PEM) + sloPOST), "has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding"},
		{"SOAP SSO only", metadataDoc(keyDescriptor("signing", a.PEM) + `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example.com/soap"/>`), "has no SingleSignOnService"},
		{"bad certificate", metadataDoc(keyDescriptor("signing", "bm90IGEgY2VydGlmaWNhdGU=") + ssoRedirect), "KeyDescriptor 1 of the IDPSSODescriptor:"},
		{"private key", metadataDoc(`<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + a.KeyPEM(t) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` + ssoRedirect), "KeyDescriptor 1 of the IDPSSODescriptor:"},
		{"SP only", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`, "no IDPSSODescriptor"},
		{"SAML 1 IdP", strings.Replace(metadataDoc(keyDescriptor("signing", a.PEM)+ssoRedirect), "SAML:2.0:protocol", "SAML:1.1:protocol", 1), "no IDPSSODescriptor supporting SAML 2.0"},
		{"no entityID", strings.Replace(metadataDoc(keyDescriptor("signing", a.PEM)+ssoRedirect), ` entityID="https://idp.example.com/"`, "", 1), "has no entityID"},
		{"expired", strings.Replace(metadataDoc(keyDescriptor("signing", a.PEM)+ssoRedirect), `entityID=`, `validUntil="2020-01-01T00:00:00Z" entityID=`, 1), "the metadata expired: EntityDescriptor/@validUntil is 2020-01-01T00:00:00Z"},
		{"bad validUntil", strings.Replace(metadataDoc(keyDescriptor("signing", a.PEM)+ssoRedirect), `entityID=`, `validUntil="soon" entityID=`, 1), "is not a date and time"},
		{"response", `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`, "not a SAML 2.0 metadata EntityDescriptor or EntitiesDescriptor"},
		{"DTD", `<!DOCTYPE r [<!ENTITY a "b">]>` + metadataDoc(keyDescriptor("signing", a.PEM)+ssoRedirect), "DTD"},
		{"text", "hello", "text outside its root element"},
		{"not well-formed", "<md:EntityDescriptor", "not well-formed"},
		{"too large", metadataDoc(strings.Repeat(" ", MaxMetadataSize)), "more than the 1048576 allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIdPMetadata([]byte(tc.doc), MetadataOptions{Now: metadataNow})
			var me *MetadataError
			if !errors.As(err, &me) || !strings.Contains(me.Message, tc.want) {
				t.Fatalf("err = %v, want a *MetadataError saying %q", err, tc.want)
			}
			if strings.Contains(me.Message, "PRIVATE KEY") || strings.Contains(me.Message, "MII") {
				t.Errorf("the message repeats key material: %s", me.Message)
			}
		})
	}
}

// FuzzParseIdPMetadata checks that no document makes ParseIdPMetadata panic, that every
// refusal is a *MetadataError, and that what it accepts is complete.
func FuzzParseIdPMetadata(f *testing.F) {
	a := testcert.New(f, testcert.Options{})
	for _, seed := range []string{
		metadataDoc(keyDescriptor("signing", a.PEM) + ssoRedirect + sloPOST),
		metadataDoc(keyDescriptor("", a.PEM) + ssoPOST),
		`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + strings.TrimPrefix(metadataDoc(keyDescriptor("signing", a.PEM)+ssoRedirect), `<?xml version="1.0"?>`) + `</md:EntitiesDescriptor>`,
		`<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>`,
		"",
	} {
		f.Add([]byte(seed))
	}
	if dir := os.Getenv(testenv.IdPMetadata); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		md, err := ParseIdPMetadata(doc, MetadataOptions{Now: metadataNow})
		if err != nil {
			var me *MetadataError
			if !errors.As(err, &me) {
				t.Fatalf("error %T %v is not a *MetadataError", err, err)
			}
			return
		}
		if md.EntityID == "" || md.SigninURL == "" || md.SignoutURL == "" || len(md.Certificates) == 0 {
			t.Fatalf("accepted incomplete metadata: %+v", md)
		}
	})
}
