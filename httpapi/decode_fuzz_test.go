package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ssod/ssod"
)

// FuzzParseObject checks that the request decoder never panics, that what it
// accepts is one JSON object whose members are unique and each valid JSON,
// and that what it refuses is refused with the contract's "invalid".
func FuzzParseObject(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Okta","enabled":true,"signin_url":"https://idp.example.com/sso","signout_url":"https://idp.example.com/slo","entity_id":"urn:x","completed_integration":false}`,
		`{"public_certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","integration_id":"00000000-0000-4000-8000-000000000000","enabled":null}`,
		`{}`,
		` { "a" : [1, 2.5e10, -0, {"b": null}], "c": "\u0000\ud800\"" } `,
		`{"name":"a","name":"b"}`,
		`{"name":"a","n\u0061me":"b"}`,
		`{"enabled":1e400,"x":18446744073709551616}`,
		`{"name":"a"} {}`,
		`{"name":`,
		`[]`,
		`"str"`,
		"{\"name\":\"\xff\"}",
		"\xef\xbb\xbf{}",
		`{"x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := parseObject(body)
		if err != nil {
			var e *ssod.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *ssod.Error", err, err)
			}
			if e.Code != ssod.EInvalid {
				t.Fatalf("error code %q, want %q: %v", e.Code, ssod.EInvalid, err)
			}
			if obj != nil {
				t.Fatalf("an error and an object %v", obj)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not valid JSON: %q", body)
		}
		// Every member name of the body is unique: counted with duplicates,
		// there are as many as the object holds, and encoding/json reads
		// the same names.
		if n := countMembers(t, body); n != len(obj) {
			t.Fatalf("the body has %d members, the object %d: a name repeats", n, len(obj))
		}
		var std map[string]json.RawMessage
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("accepted a body encoding/json does not read as an object: %v", err)
		}
		for name, raw := range obj {
			if _, ok := std[name]; !ok {
				t.Fatalf("member %q unknown to encoding/json", name)
			}
			if !json.Valid(raw) {
				t.Fatalf("member %q holds invalid JSON %q", name, raw)
			}
			again, err := json.Marshal(raw)
			if err != nil || !json.Valid(again) {
				t.Fatalf("member %q does not re-encode: %v", name, err)
			}
		}
	})
}

// countMembers counts the top-level member names of a JSON object,
// repeated ones included.
func countMembers(t *testing.T, body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("accepted a body that does not start an object: %v %v", tok, err)
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			t.Fatalf("member name: %v", err)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("member value: %v", err)
		}
		n++
	}
	return n
}
