package console

import (
	"io"
	"net/http"
	"strings"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/idpmeta"
)

// maxMetadataFile bounds an uploaded metadata file, as the API's body limit
// bounds pasted XML.
const maxMetadataFile = 64 << 10

// metadataForm is the import form's values.
type metadataForm struct {
	Name, URL, XML string
	Enabled        bool
}

// importMetadata creates an integration from IdP metadata given as a URL,
// a file or pasted XML, read by the importer the API uses (outbound policy,
// parsing, the integration's field checks) and stored by the same
// ImportMetadata call.
func (c *Console) importMetadata(w http.ResponseWriter, r *http.Request, s *session) error {
	f := metadataForm{Name: r.PostFormValue("name"), URL: strings.TrimSpace(r.PostFormValue(idpmeta.FieldURL)),
		XML: r.PostFormValue(idpmeta.FieldXML), Enabled: r.PostFormValue("enabled") == "on"}
	if file, _, err := r.FormFile("metadata_file"); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(file, maxMetadataFile+1))
		_ = file.Close()
		if rerr != nil {
			return rerr
		}
		if len(b) > maxMetadataFile {
			return c.showMetadataForm(w, r, s, f, map[string]string{idpmeta.FieldXML: "The metadata file is larger than 64 KiB."})
		}
		if len(b) > 0 {
			f.XML = string(b)
		}
	}
	u := ssod.IntegrationUpdate{Name: &f.Name, Enabled: &f.Enabled}
	var src idpmeta.Source
	err := u.Validate()
	switch {
	case err != nil:
	case f.URL != "" && strings.TrimSpace(f.XML) != "":
		err = ssod.FieldErrorf(ssod.EInvalid, idpmeta.FieldURL, "give a metadata URL or the XML, not both")
	case f.URL != "":
		src.URL = &f.URL
	case strings.TrimSpace(f.XML) != "":
		src.XML = &f.XML
	default:
		err = ssod.FieldErrorf(ssod.ERequired, idpmeta.FieldXML, "give the IdP's metadata URL, or its XML as a file or pasted")
	}
	var in *ssod.Integration
	if err == nil {
		var md ssod.IdPMetadata
		if md, err = c.metadata.Read(r.Context(), src); err == nil {
			in, err = c.store.ImportMetadata(r.Context(), s.AccountID, "",
				ssod.MetadataImport{Name: u.Name, Enabled: u.Enabled, URL: src.StoredURL(), Metadata: md}, c.now().Unix())
		}
	}
	if errs, ok := fieldErrors(err); ok {
		return c.showMetadataForm(w, r, s, f, errs)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"integrations/"+in.ID, http.StatusSeeOther)
	return nil
}

func (c *Console) showMetadataForm(w http.ResponseWriter, r *http.Request, s *session, f metadataForm, errs map[string]string) error {
	return c.showIntegrationsWith(w, r, s, http.StatusBadRequest, map[string]any{"Metadata": f, "MetadataErrors": errs})
}
