package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestDuplicateHeadersAreRefused: a header that decides who acts, or how
// the body is read, sent twice is refused rather than one copy picked, since
// a proxy in front may have judged the request by the other copy.
func TestDuplicateHeadersAreRefused(t *testing.T) {
	a := newTestAPI(t, 0)
	ctx := context.Background()
	main, err := a.store.FindAccountByName(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CreateAccount(ctx, "sub", main.ID, 1); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		method  string
		body    string
		headers [][2]string // added on top of the key (and a Content-Type with a body)
		status  int
		errorID string
	}{
		{"one of each", "POST", `{}`, [][2]string{{"On-Behalf-Of", "sub"}}, http.StatusBadRequest, "required"},
		{"an empty On-Behalf-Of reads as none", "GET", "", [][2]string{{"On-Behalf-Of", ""}}, http.StatusOK, ""},
		{"the key twice", "GET", "", [][2]string{{"Authorization", "Bearer " + a.key}}, http.StatusUnauthorized, "unauthorized"},
		{"On-Behalf-Of twice", "GET", "", [][2]string{{"On-Behalf-Of", "sub"}, {"On-Behalf-Of", "sub"}}, http.StatusForbidden, "forbidden"},
		{"On-Behalf-Of twice, one empty", "GET", "", [][2]string{{"On-Behalf-Of", "sub"}, {"On-Behalf-Of", ""}}, http.StatusForbidden, "forbidden"},
		{"Content-Type twice", "POST", `{}`, [][2]string{{"Content-Type", "application/json"}}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body *strings.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req := a.request(ctx, c.method, "/v3/sso/integrations", nil)
			if body != nil {
				req = a.request(ctx, c.method, "/v3/sso/integrations", body)
			}
			for _, h := range c.headers {
				req.Header.Add(h[0], h[1])
			}
			w, panicked := a.serve(req)
			if panicked != nil || w.status != c.status || !strings.Contains(w.body.String(), `"error_id":"`+c.errorID+`"`) && c.errorID != "" {
				t.Fatalf("answered %d %s (panic %v), want %d %s", w.status, w.body.String(), panicked, c.status, c.errorID)
			}
		})
	}
}
