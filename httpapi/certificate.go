package httpapi

import (
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpcert"
)

// certificateJSON is the spec's SsoCertificateBody (with its spelling
// intergration_id) plus the documented extensions integration_id and enabled.
type certificateJSON struct {
	PublicCertificate string `json:"public_certificate"`
	ID                int64  `json:"id"`
	NotBefore         int64  `json:"not_before"`
	NotAfter          int64  `json:"not_after"`
	IntergrationID    string `json:"intergration_id"`
	IntegrationID     string `json:"integration_id"`
	Enabled           bool   `json:"enabled"`
}

func toCertificateJSON(c *ssod.Certificate) certificateJSON {
	return certificateJSON{
		PublicCertificate: c.PEM,
		ID:                c.ID,
		NotBefore:         c.NotBefore,
		NotAfter:          c.NotAfter,
		IntergrationID:    c.IntegrationID,
		IntegrationID:     c.IntegrationID,
		Enabled:           c.Enabled,
	}
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
		return err
	}
	writeJSON(w, http.StatusOK, toCertificateJSON(cert))
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
		return err
	}
	writeJSON(w, http.StatusOK, toCertificateJSON(cert))
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
		return err
	}
	writeJSON(w, http.StatusOK, toCertificateJSON(cert))
	return nil
}

func (s *Server) deleteCertificate(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := certID(r)
	if err != nil {
		return err
	}
	cert, err := s.store.DeleteCertificate(r.Context(), c.AccountID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCertificateJSON(cert))
	return nil
}

func (s *Server) listCertificates(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := integrationID(r, "integration_id")
	if err != nil {
		return err
	}
	list, err := s.store.ListCertificates(r.Context(), c.AccountID, id)
	if err != nil {
		return err
	}
	out := make([]certificateJSON, len(list))
	for i := range list {
		out[i] = toCertificateJSON(&list[i])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
