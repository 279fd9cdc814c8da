package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ssod/ssod"
)

// MaxBodySize is the largest request body accepted (64 KiB).
const MaxBodySize = 64 << 10

// object is a request body's top-level members, decoded lazily per field so
// each wrong type can be reported against its field name.
type object map[string]json.RawMessage

// readObject checks the media type and size of r's body and decodes it as
// one JSON object, in the contract's order: 415, 413, then 400.
func readObject(w http.ResponseWriter, r *http.Request) (object, error) {
	// A second Content-Type is refused: a proxy may judge the body by the
	// other one.
	types := r.Header.Values("Content-Type")
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" || len(types) != 1 {
		return nil, ssod.Errorf(ssod.EUnsupportedMediaType, "request body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		return nil, bodyReadError(err)
	}
	return parseObject(body)
}

// bodyReadError says what a failed read of a request body means. It is
// never the server's fault: the body is over the limit (413), the client
// went away (nothing to answer), or its framing does not hold together
// (400: a malformed chunk, fewer bytes than Content-Length promised, or a
// body that did not arrive in time).
func bodyReadError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return ssod.Errorf(ssod.ETooLarge, "request body must be at most %d bytes", MaxBodySize)
	}
	ne, isNet := errors.AsType[net.Error](err)
	switch {
	case isNet && ne.Timeout():
		return ssod.Errorf(ssod.EInvalid, "request body did not arrive in time")
	case isNet: // reset or closed by the peer
		return fmt.Errorf("%w: read request body: %w", errClientGone, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ssod.Errorf(ssod.EInvalid, "request body ended before the length its framing declared")
	}
	return ssod.Errorf(ssod.EInvalid, "request body framing is malformed")
}

// parseObject decodes body as one JSON object. Duplicate members are refused
// rather than silently resolved, since two readers could resolve them apart;
// so are names that differ only in case ({"enabled":true,"Enabled":false}),
// which encoding/json matches to one field and most other parsers do not.
func parseObject(body []byte) (object, error) {
	malformed := func(why string) error {
		return ssod.Errorf(ssod.EInvalid, "request body is not valid JSON: %s", why)
	}
	if !utf8.Valid(body) {
		return nil, malformed("it is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("it is empty or truncated")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformed("it must be a JSON object")
	}
	obj := object{}
	folded := map[string]string{} // case-folded name -> the name as sent
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("syntax error")
		}
		name, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed("syntax error")
		}
		if _, dup := obj[name]; dup {
			return nil, ssod.FieldErrorf(ssod.EInvalid, name, "%s appears more than once", name)
		}
		f := foldCase(name)
		if other, dup := folded[f]; dup {
			return nil, ssod.FieldErrorf(ssod.EInvalid, name, "%s and %s differ only in case; send one of them", other, name)
		}
		folded[f] = name
		obj[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("it is truncated")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("unexpected data after the object")
	}
	return obj, nil
}

// foldCase maps names that encoding/json would match to one field (it
// ignores case, Unicode's simple folding included: "ſ" is "s") to one key.
func foldCase(name string) string {
	return strings.ToLower(strings.ToUpper(name))
}

// exactNames records a problem for each member that would be one of the
// fields only if case were ignored ({"Enabled":false}): ssod would ignore
// it as unknown while encoding/json would read it as the field.
func (o object) exactNames(errs *ssod.Errors, fields ...string) {
	names := slices.Sorted(maps.Keys(o))
	for _, field := range fields {
		for _, name := range names {
			if name != field && foldCase(name) == foldCase(field) {
				*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "member names are case-sensitive: %s is not %s", name, field))
			}
		}
	}
}

// present returns the member name unless it is absent or null, which the
// contract treats alike.
func (o object) present(name string) (json.RawMessage, bool) {
	raw, ok := o[name]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// str reads an optional string member into *dst, or records a problem.
func (o object) str(name string, dst **string, errs *ssod.Errors) {
	raw, ok := o.present(name)
	if !ok {
		return
	}
	var v string
	if raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "%s must be a string", name))
		return
	}
	*dst = &v
}

// boolean reads an optional boolean member into *dst, or records a problem.
func (o object) boolean(name string, dst **bool, errs *ssod.Errors) {
	raw, ok := o.present(name)
	if !ok {
		return
	}
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		*errs = append(*errs, ssod.FieldErrorf(ssod.EInvalid, name, "%s must be true or false", name))
		return
	}
	*dst = &v
}

// withValidation adds the problems of a domain validation to those found
// while decoding, skipping fields already reported: a field of the wrong
// type is not also "required".
func withValidation(errs ssod.Errors, err error) ssod.Errors {
	if err == nil {
		return errs
	}
	reported := map[string]bool{}
	for _, e := range errs {
		reported[e.Field] = true
	}
	for _, e := range ssod.ProblemsOf(err) {
		if e.Field == "" || !reported[e.Field] {
			errs = append(errs, e)
		}
	}
	return errs
}
