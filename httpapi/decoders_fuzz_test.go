package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testcert"
)

// fuzzRequest is a POST carrying body as JSON, as the decoders receive it.
func fuzzRequest(body []byte) (*httptest.ResponseRecorder, *http.Request) {
	r := httptest.NewRequest(http.MethodPost, "/v3/sso/certificates", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httptest.NewRecorder(), r
}

// checkProblems asserts that a decoder's refusal is the contract's: domain
// problems only, each with a code a body can earn.
func checkProblems(t *testing.T, errs ssod.Errors, err error, allowed ...ssod.Code) {
	t.Helper()
	problems := append(ssod.Errors{}, errs...)
	if err != nil {
		problems = append(problems, ssod.ProblemsOf(err)...)
	}
	for _, p := range problems {
		if !slices.Contains(allowed, p.Code) {
			t.Fatalf("problem %+v has a code a request body cannot earn", p)
		}
	}
}

// FuzzDecodeIntegration drives the integration body decoder and its
// validation: no panic, refusals in the contract's codes, and what passes
// validation is what a store may be given.
func FuzzDecodeIntegration(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Okta","enabled":true,"signin_url":"https://idp.example.com/sso","signout_url":"https://idp.example.com/slo","entity_id":"urn:x","completed_integration":false}`,
		`{"name":"","enabled":"yes","signin_url":"ftp://x","signout_url":null,"entity_id":"a\u0000b"}`,
		`{"name":"a","name":"b"}`,
		`{"completed_integration":1,"si":true}`,
		`{}`, `[]`, ``, `{"name":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, r := fuzzRequest(body)
		u, errs, err := decodeIntegration(w, r)
		checkProblems(t, errs, err, ssod.EInvalid, ssod.ETooLarge)
		if err != nil || len(errs) > 0 {
			return
		}
		if verr := u.ValidateCreate(); verr == nil {
			// Everything a create needs is there and well formed.
			if u.Name == nil || *u.Name == "" || u.Enabled == nil || u.SigninURL == nil || u.SignoutURL == nil || u.EntityID == nil {
				t.Fatalf("ValidateCreate passed an incomplete integration: %+v", u)
			}
		} else {
			checkProblems(t, nil, verr, ssod.ERequired, ssod.EInvalid)
		}
	})
}

// FuzzDecodeCertificate drives the certificate body decoder, which also
// parses the certificate: no panic, refusals in the contract's codes, and a
// decoded certificate always carries a parsed window.
func FuzzDecodeCertificate(f *testing.F) {
	pem := testcert.New(f, testcert.Options{}).PEM
	for _, seed := range []string{
		`{"public_certificate":` + quote(pem) + `,"integration_id":"00000000-0000-4000-8000-000000000000","enabled":false}`,
		`{"public_certificate":` + quote(pem) + `,"intergration_id":"00000000-0000-4000-8000-000000000000"}`,
		`{"public_certificate":"x","integration_id":"a","intergration_id":"b"}`,
		`{"public_certificate":"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"}`,
		`{"public_certificate":42,"enabled":"no","integration_id":[]}`,
		`{}`, `[]`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, r := fuzzRequest(body)
		u, errs, err := decodeCertificate(w, r)
		checkProblems(t, errs, err, ssod.EInvalid, ssod.ETooLarge, ssod.EInvalidCertificate, ssod.EPrivateKeyRejected)
		if err != nil || len(errs) > 0 {
			return
		}
		if u.X509 != nil && (u.X509.PEM == "" || !bytes.HasPrefix([]byte(u.X509.PEM), []byte("-----BEGIN CERTIFICATE-----\n"))) {
			t.Fatalf("decoded certificate is not canonical PEM: %q", u.X509.PEM)
		}
	})
}

func quote(s string) string {
	b := appendJSONString(nil, s)
	return string(b)
}
