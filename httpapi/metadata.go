package httpapi

import (
	"net/http"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpmeta"
)

// metadataRequest is the body of the metadata paths: name and enabled (for
// a create), and the metadata as XML or as a URL.
type metadataRequest struct {
	update   ssod.IntegrationUpdate // Name and Enabled only
	source   idpmeta.Source
	empty    bool // no member at all: read the stored URL again
	problems ssod.Errors
}

// decodeMetadataRequest reads a metadata body; an empty body (no bytes, or
// {}) asks for the stored URL to be read again.
func decodeMetadataRequest(w http.ResponseWriter, r *http.Request) (metadataRequest, error) {
	var m metadataRequest
	if r.ContentLength == 0 {
		m.empty = true
		return m, nil
	}
	obj, err := readObject(w, r)
	if err != nil {
		return m, err
	}
	var entityID *string
	obj.str("name", &m.update.Name, &m.problems)
	obj.boolean("enabled", &m.update.Enabled, &m.problems)
	obj.str(idpmeta.FieldXML, &m.source.XML, &m.problems)
	obj.str(idpmeta.FieldURL, &m.source.URL, &m.problems)
	obj.str("entity_id", &entityID, &m.problems)
	obj.exactNames(&m.problems, "name", "enabled", idpmeta.FieldXML, idpmeta.FieldURL, "entity_id")
	m.empty = len(obj) == 0
	if entityID != nil {
		m.source.EntityID = *entityID
	}
	switch {
	case m.source.XML != nil && m.source.URL != nil:
		m.problems = append(m.problems, ssod.FieldErrorf(ssod.EInvalid, idpmeta.FieldURL, "send metadata_xml or metadata_url, not both"))
	case m.source.XML == nil && m.source.URL == nil && !m.empty:
		m.problems = append(m.problems, ssod.FieldErrorf(ssod.ERequired, idpmeta.FieldXML, "metadata_xml or metadata_url is required"))
	}
	m.problems = withValidation(m.problems, m.update.Validate())
	return m, nil
}

// storedURL is what an import records as the metadata URL: the one given,
// or "" for pasted XML.
func (s *Server) createIntegrationFromMetadata(w http.ResponseWriter, r *http.Request, c caller) error {
	si, err := wantsCompleted(r)
	if err != nil {
		return err
	}
	m, err := decodeMetadataRequest(w, r)
	if err != nil {
		return err
	}
	if m.update.Name == nil {
		m.problems = append(m.problems, ssod.FieldErrorf(ssod.ERequired, "name", "name is required"))
	}
	if m.update.Enabled == nil {
		m.problems = append(m.problems, ssod.FieldErrorf(ssod.ERequired, "enabled", "enabled is required"))
	}
	if m.empty {
		m.problems = append(m.problems, ssod.FieldErrorf(ssod.ERequired, idpmeta.FieldXML, "metadata_xml or metadata_url is required"))
	}
	if err := m.problems.Err(); err != nil {
		return err
	}
	md, err := s.metadata.Read(r.Context(), m.source)
	if err != nil {
		return err
	}
	in, err := s.store.ImportMetadata(r.Context(), c.AccountID, "",
		ssod.MetadataImport{Name: m.update.Name, Enabled: m.update.Enabled, URL: m.source.StoredURL(), Metadata: md}, s.now().Unix())
	if err != nil {
		return storeFailed(err)
	}
	return s.writeIntegration(w, r, in, si)
}

func (s *Server) updateIntegrationFromMetadata(w http.ResponseWriter, r *http.Request, c caller) error {
	si, err := wantsCompleted(r)
	if err != nil {
		return err
	}
	// The body is judged before the object, as the contract orders checks.
	m, err := decodeMetadataRequest(w, r)
	if err != nil {
		return err
	}
	if err := m.problems.Err(); err != nil {
		return err
	}
	id, err := integrationID(r, "id")
	if err != nil {
		return err
	}
	var in *ssod.Integration
	if m.empty {
		if in, err = s.store.GetIntegration(r.Context(), c.AccountID, id); err != nil {
			return storeFailed(err)
		}
		if in.MetadataURL == "" {
			return ssod.FieldErrorf(ssod.ERequired, idpmeta.FieldURL, "the integration has no metadata_url to read again; send metadata_xml or metadata_url")
		}
		if in, err = s.metadata.Refresh(r.Context(), *in); err != nil {
			return err
		}
		return s.writeIntegration(w, r, in, si)
	}
	// Another account's integration is 404 before anything is fetched.
	if _, err := s.store.GetIntegration(r.Context(), c.AccountID, id); err != nil {
		return storeFailed(err)
	}
	md, err := s.metadata.Read(r.Context(), m.source)
	if err != nil {
		return err
	}
	in, err = s.store.ImportMetadata(r.Context(), c.AccountID, id,
		ssod.MetadataImport{Name: m.update.Name, Enabled: m.update.Enabled, URL: m.source.StoredURL(), Metadata: md}, s.now().Unix())
	if err != nil {
		return storeFailed(err)
	}
	return s.writeIntegration(w, r, in, si)
}

// writeIntegration answers 200 with one integration.
func (s *Server) writeIntegration(w http.ResponseWriter, r *http.Request, in *ssod.Integration, withCompleted bool) error {
	out, err := s.integrationResponse(r.Context(), in, withCompleted)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
