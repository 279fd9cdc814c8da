package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpcert"
)

// appendCertificate appends a certificate response: the spec's
// SsoCertificateBody (with its spelling intergration_id) plus the documented
// extensions integration_id and enabled. It is written by hand, without
// reflection, because it is the hottest response and most of its size is
// PEM text, whose alphabet needs no escaping but its newlines; a test holds
// it byte for byte to what encoding/json makes of the same struct.
func appendCertificate(b []byte, c *ssod.Certificate) []byte {
	b = append(b, `{"public_certificate":`...)
	b = appendJSONString(b, c.PEM)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `,"not_before":`...)
	b = strconv.AppendInt(b, c.NotBefore, 10)
	b = append(b, `,"not_after":`...)
	b = strconv.AppendInt(b, c.NotAfter, 10)
	b = append(b, `,"intergration_id":`...)
	b = appendJSONString(b, c.IntegrationID)
	b = append(b, `,"integration_id":`...)
	b = appendJSONString(b, c.IntegrationID)
	b = append(b, `,"enabled":`...)
	b = strconv.AppendBool(b, c.Enabled)
	return append(b, '}')
}

// jsonPlain marks the bytes encoding/json copies as they are: printable
// ASCII but the quote, the backslash and the HTML characters it escapes.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

// appendJSONString appends s as encoding/json would, in one pass for text
// of plain bytes and newlines (PEM, ids); anything else takes
// encoding/json's own path.
func appendJSONString(b []byte, s string) []byte {
	mark := len(b)
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if jsonPlain[s[i]] {
			continue
		}
		if s[i] != '\n' {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b[:mark], enc...)
		}
		b = append(append(b, s[start:i]...), '\\', 'n')
		start = i + 1
	}
	return append(append(b, s[start:]...), '"')
}

// decodeCertificate reads a create or PATCH body: the certificate is parsed
// here, and both spellings of the integration id are accepted.
func decodeCertificate(w http.ResponseWriter, r *http.Request) (ssod.CertificateUpdate, ssod.Errors, error) {
	var u ssod.CertificateUpdate
	obj, err := readObject(w, r)
	if err != nil {
		return u, nil, err
	}
	var errs ssod.Errors
	var pemText, correct, misspelt *string
	obj.str("public_certificate", &pemText, &errs)
	obj.boolean("enabled", &u.Enabled, &errs)
	obj.str("integration_id", &correct, &errs)
	obj.str("intergration_id", &misspelt, &errs)
	obj.exactNames(&errs, "public_certificate", "enabled", "integration_id", "intergration_id")
	if pemText != nil {
		x, err := idpcert.Parse(*pemText)
		if err != nil {
			errs = append(errs, ssod.ProblemsOf(err)...)
		} else {
			u.X509 = &x
		}
	}
	switch {
	case correct != nil && misspelt != nil && *correct != *misspelt:
		errs = append(errs, ssod.FieldErrorf(ssod.EInvalid, "integration_id", "integration_id and intergration_id differ; send one of them"))
	case correct != nil:
		u.IntegrationID = correct
	case misspelt != nil:
		u.IntegrationID = misspelt
	}
	return u, errs, nil
}

// checkIntegrationShape refuses an integration id that cannot be one before
// asking the store, with the same answer the store gives for a foreign one.
func checkIntegrationShape(u ssod.CertificateUpdate, errs *ssod.Errors) {
	if u.IntegrationID != nil && !ssod.ValidIntegrationID(*u.IntegrationID) {
		*errs = append(*errs, ssod.ErrIntegrationNotYours())
	}
}

func (s *Server) createCertificate(w http.ResponseWriter, r *http.Request, c caller) error {
	u, errs, err := decodeCertificate(w, r)
	if err != nil {
		return err
	}
	errs = withValidation(errs, u.ValidateCreate())
	checkIntegrationShape(u, &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	cert, err := s.store.CreateCertificate(r.Context(), c.AccountID, u)
	if err != nil {
		return storeFailed(err)
	}
	writeRawJSON(w, http.StatusOK, appendCertificate(make([]byte, 0, len(cert.PEM)+256), cert))
	return nil
}

var errCertificateNotFound = ssod.Errorf(ssod.ENotFound, "SSO certificate not found")

// certID returns the path's certificate id, or ENotFound for anything that
// is not a positive integer in canonical decimal form.
func certID(r *http.Request) (int64, error) {
	s := r.PathValue("cert_id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, errCertificateNotFound
	}
	return id, nil
}

func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := certID(r)
	if err != nil {
		return err
	}
	cert, err := s.store.GetCertificate(r.Context(), c.AccountID, id)
	if err != nil {
		return storeFailed(err)
	}
	writeRawJSON(w, http.StatusOK, appendCertificate(make([]byte, 0, len(cert.PEM)+256), cert))
	return nil
}

func (s *Server) updateCertificate(w http.ResponseWriter, r *http.Request, c caller) error {
	// The body is judged before the object, as the contract orders checks.
	u, errs, err := decodeCertificate(w, r)
	if err != nil {
		return err
	}
	checkIntegrationShape(u, &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	id, err := certID(r)
	if err != nil {
		return err
	}
	cert, err := s.store.UpdateCertificate(r.Context(), c.AccountID, id, u)
	if err != nil {
		return storeFailed(err)
	}
	writeRawJSON(w, http.StatusOK, appendCertificate(make([]byte, 0, len(cert.PEM)+256), cert))
	return nil
}

func (s *Server) deleteCertificate(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := certID(r)
	if err != nil {
		return err
	}
	cert, err := s.store.DeleteCertificate(r.Context(), c.AccountID, id)
	if err != nil {
		return storeFailed(err)
	}
	writeRawJSON(w, http.StatusOK, appendCertificate(make([]byte, 0, len(cert.PEM)+256), cert))
	return nil
}

func (s *Server) listCertificates(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := integrationID(r, "integration_id")
	if err != nil {
		return err
	}
	list, err := s.store.ListCertificates(r.Context(), c.AccountID, id)
	if err != nil {
		return storeFailed(err)
	}
	writeJSONArray(w, len(list), func(b []byte, i int) []byte { return appendCertificate(b, &list[i]) })
	return nil
}
