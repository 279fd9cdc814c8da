package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/ssod/ssod/openapi"
)

// contract checks responses against an OpenAPI document with kin-openapi.
type contract struct {
	name string
	// complete: every path ssod serves is in it (ssod's own document).
	// SendGrid's file lacks ssod's own paths; their successes are checked
	// against ssod's document only.
	complete bool
	router   routers.Router
	errors   *openapi3.SchemaRef // SsoErrorResponse
}

var loadContracts = sync.OnceValues(func() ([]*contract, error) {
	ours, err := openapi.Document()
	if err != nil {
		return nil, err
	}
	var out []*contract
	for _, d := range []struct {
		name   string
		data   []byte
		strict bool
	}{
		// SendGrid's file mixes 3.0 and 3.1 ("summary" in info and beside
		// schemas), so only its responses are checked, not the file itself.
		// ssod's own document must be a clean OpenAPI 3.0 document.
		{"SendGrid's tsg_sso_v3", openapi.SendGridSpec(), false},
		{"ssod's /openapi.json", ours, true},
	} {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(d.data)
		if err != nil {
			return nil, err
		}
		if d.strict {
			if err := doc.Validate(context.Background()); err != nil {
				return nil, err
			}
		}
		doc.Servers = nil // match any host: the test server's
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, &contract{name: d.name, complete: d.strict, router: router, errors: doc.Components.Schemas["SsoErrorResponse"]})
	}
	return out, nil
})

// checkContract validates one exchange against SendGrid's file and ssod's
// own document. A status the operation does not declare (404, 405, 413,
// 415) or a path the file lacks must carry the SsoErrorResponse array, as
// the README's "API" section says errors always are.
func checkContract(t *testing.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/v3/") && status < 300 {
		return // /openapi.json, /healthz, /metrics...: not API responses
	}
	if isPublicNonJSON(req, header) {
		return // checked by hand: kin-openapi reads no HTML or SAML metadata
	}
	contracts, err := loadContracts()
	if err != nil {
		t.Fatalf("load OpenAPI documents: %v", err)
	}
	for _, c := range contracts {
		if err := c.check(req, status, header, body); err != nil {
			t.Errorf("%s %s -> %d breaks %s: %v\nbody: %.500s", req.Method, req.URL.Path, status, c.name, err, body)
		}
	}
}

func (c *contract) check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil && !c.complete && status < 400 {
		return nil
	}
	if err != nil || route.Operation == nil || route.Operation.Responses.Status(status) == nil {
		return c.checkErrorArray(body)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

func (c *contract) checkErrorArray(body []byte) error {
	v, err := decodeJSON(body)
	if err != nil {
		return err
	}
	return c.errors.Value.VisitJSON(v)
}

func decodeJSON(body []byte) (any, error) {
	var v any
	err := json.Unmarshal(body, &v)
	return v, err
}
