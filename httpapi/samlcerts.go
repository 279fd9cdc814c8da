package httpapi

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpcert"
	"github.com/ssod/ssod/saml"
)

// maxParsedCertificates bounds the parsed-certificate cache: an entry is a few KiB, and
// far more certificates than sign in at once in one deployment.
const maxParsedCertificates = 4096

// parsedCertificates keeps certificates parsed by ID, so that a sign-in does not parse its
// integration's certificates again each time (an RSA certificate costs about as much to
// parse as its signature does to check). An entry is used only while the store still
// holds the same PEM under that ID, so a PATCH that replaces a certificate's body is never
// verified with the old one. Enabled and the window come from the store on every sign-in.
type parsedCertificates struct {
	mu    sync.Mutex
	certs map[int64]parsedCertificate
}

type parsedCertificate struct {
	pem  string
	cert *x509.Certificate
}

func newParsedCertificates() *parsedCertificates {
	return &parsedCertificates{certs: map[int64]parsedCertificate{}}
}

// get returns c parsed.
func (p *parsedCertificates) get(c *ssod.Certificate) (*x509.Certificate, error) {
	p.mu.Lock()
	e, ok := p.certs[c.ID]
	p.mu.Unlock()
	if ok && e.pem == c.PEM {
		return e.cert, nil
	}
	cert, err := idpcert.Certificate(c.X509)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.certs) >= maxParsedCertificates {
		clear(p.certs) // simpler than LRU, and a refill costs one parse per certificate
	}
	p.certs[c.ID] = parsedCertificate{pem: c.PEM, cert: cert}
	return cert, nil
}

// verifyingCertificates returns every certificate of the integration, parsed, with its
// Enabled flag: the verifier decides which may verify (enabled, in their window now).
func (s *Server) verifyingCertificates(ctx context.Context, in *ssod.Integration) ([]saml.Certificate, error) {
	list, err := s.store.ListCertificates(ctx, in.AccountID, in.ID)
	if err != nil {
		return nil, storeFailed(fmt.Errorf("list certificates: %w", err))
	}
	out := make([]saml.Certificate, 0, len(list))
	for i := range list {
		c := &list[i]
		cert, err := s.parsedCerts.get(c)
		if err != nil {
			// Stored certificates were parsed on upload; one that no longer parses can
			// verify nothing, and the others may still.
			s.log.LogAttrs(ctx, slog.LevelWarn, "stored certificate does not parse", slog.Int64("certificate_id", c.ID), slog.String("err", err.Error()))
			continue
		}
		out = append(out, saml.Certificate{ID: c.ID, Enabled: c.Enabled, Cert: cert})
	}
	return out, nil
}
