package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ssod/ssod"
)

// loginTraceJSON is one element of GET /v3/sso/integrations/{id}/logins; unknown values
// are null.
type loginTraceJSON struct {
	ID            int64   `json:"id"`
	Time          int64   `json:"time"`
	Result        string  `json:"result"`
	Message       string  `json:"message"`
	NameID        *string `json:"name_id"`
	AssertionID   *string `json:"assertion_id"`
	CertificateID *int64  `json:"certificate_id"`
	InResponseTo  *string `json:"in_response_to"`
	RequestID     *string `json:"request_id"`
}

func loginTraceBody(t *ssod.LoginTrace) loginTraceJSON {
	out := loginTraceJSON{
		ID:           t.ID,
		Time:         t.Time,
		Result:       t.Result,
		Message:      t.Message,
		NameID:       nonEmpty(t.NameID),
		AssertionID:  nonEmpty(t.AssertionID),
		InResponseTo: nonEmpty(t.InResponseTo),
		RequestID:    nonEmpty(t.RequestID),
	}
	if t.CertificateID != 0 {
		out.CertificateID = &t.CertificateID
	}
	return out
}

// loginLimit reads the limit query parameter of a trace list.
func loginLimit(r *http.Request) (int, error) {
	values := r.URL.Query()["limit"]
	if len(values) == 0 {
		return ssod.DefaultLoginTraces, nil
	}
	n, err := strconv.Atoi(values[0])
	if len(values) > 1 || err != nil || n < 1 || n > ssod.MaxLoginTracesPerList {
		return 0, ssod.FieldErrorf(ssod.EInvalid, "limit", "limit must be one whole number from 1 to %d", ssod.MaxLoginTracesPerList)
	}
	return n, nil
}

func (s *Server) listLoginTraces(w http.ResponseWriter, r *http.Request, c caller) error {
	limit, err := loginLimit(r)
	if err != nil {
		return err
	}
	id, err := integrationID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.store.ListLoginTraces(r.Context(), c.AccountID, id, limit)
	if err != nil {
		return storeFailed(err)
	}
	writeJSONArray(w, len(list), func(b []byte, i int) []byte {
		one, err := json.Marshal(loginTraceBody(&list[i]))
		if err != nil {
			panic("httpapi: encode response: " + err.Error()) // our own type: a bug
		}
		return append(b, one...)
	})
	return nil
}
