package httpapi

import (
	"strings"
	"testing"

	"github.com/ssod/ssod"
)

func TestParseObject(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		wantKeys  []string
		wantField string // "" with wantErr: a body-level problem
		wantErr   bool
	}{
		{name: "object", body: `{"a":1,"b":"x"}`, wantKeys: []string{"a", "b"}},
		{name: "empty object", body: `{}`},
		{name: "whitespace around", body: " \n{\"a\":null}\t\n", wantKeys: []string{"a"}},
		{name: "nested values kept raw", body: `{"a":{"b":[1,2]}}`, wantKeys: []string{"a"}},
		{name: "empty", body: ``, wantErr: true},
		{name: "truncated", body: `{"a":`, wantErr: true},
		{name: "unclosed", body: `{"a":1`, wantErr: true},
		{name: "array", body: `[{"a":1}]`, wantErr: true},
		{name: "string", body: `"a"`, wantErr: true},
		{name: "trailing object", body: `{} {}`, wantErr: true},
		{name: "trailing garbage", body: `{}x`, wantErr: true},
		{name: "invalid utf-8", body: "{\"a\":\"\xc3\x28\"}", wantErr: true},
		{name: "duplicate member", body: `{"a":1,"a":2}`, wantErr: true, wantField: "a"},
		{name: "non-string key", body: `{1:2}`, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj, err := parseObject([]byte(c.body))
			if c.wantErr {
				var e *ssod.Error
				if err == nil {
					t.Fatalf("accepted: %v", obj)
				}
				if e = ssod.ProblemsOf(err)[0]; e.Code != ssod.EInvalid || e.Field != c.wantField {
					t.Fatalf("error %+v, want invalid on field %q", e, c.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(obj) != len(c.wantKeys) {
				t.Fatalf("members %v, want %v", obj, c.wantKeys)
			}
			for _, k := range c.wantKeys {
				if _, ok := obj[k]; !ok {
					t.Fatalf("member %q missing from %v", k, obj)
				}
			}
		})
	}
}

func TestObjectFields(t *testing.T) {
	obj, err := parseObject([]byte(`{"s":"text","b":true,"n":null,"num":1,"arr":[],"sb":"true"}`))
	if err != nil {
		t.Fatal(err)
	}
	var errs ssod.Errors
	var s, n, num *string
	var b, sb, missing *bool
	obj.str("s", &s, &errs)
	obj.str("n", &n, &errs)
	obj.str("num", &num, &errs)
	obj.boolean("b", &b, &errs)
	obj.boolean("sb", &sb, &errs)
	obj.boolean("missing", &missing, &errs)
	if s == nil || *s != "text" || b == nil || !*b {
		t.Fatalf("good members not read: s=%v b=%v", s, b)
	}
	if n != nil || missing != nil {
		t.Fatal("null or absent member read as present")
	}
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field+":"+string(e.Code))
	}
	if got := strings.Join(fields, ","); got != "num:invalid,sb:invalid" {
		t.Fatalf("problems %s, want num and sb invalid", got)
	}
}

func TestWithValidationSkipsReportedFields(t *testing.T) {
	decodeErrs := ssod.Errors{ssod.FieldErrorf(ssod.EInvalid, "enabled", "bad type")}
	validation := ssod.Errors{
		ssod.FieldErrorf(ssod.ERequired, "enabled", "required"),
		ssod.FieldErrorf(ssod.ERequired, "name", "required"),
	}
	got := withValidation(decodeErrs, validation)
	if len(got) != 2 || got[0].Field != "enabled" || got[0].Code != ssod.EInvalid || got[1].Field != "name" {
		t.Fatalf("got %v", got)
	}
	if got := withValidation(nil, nil); got != nil {
		t.Fatalf("no problems became %v", got)
	}
}

func TestParseObjectRefusesNamesDifferingInCase(t *testing.T) {
	for body, field := range map[string]string{
		`{"enabled":true,"Enabled":false}`:                 "Enabled",
		`{"ENABLED":true,"enabled":false}`:                 "enabled",
		`{"name":"a","x":1,"NaMe":"b"}`:                    "NaMe",
		"{\"signin_url\":\"a\",\"\u017fignin_url\":\"b\"}": "\u017fignin_url", // encoding/json folds ſ to s
		`{"x":1,"X":2}`:                                    "X",
	} {
		_, err := parseObject([]byte(body))
		if p := ssod.ProblemsOf(err); err == nil || p[0].Code != ssod.EInvalid || p[0].Field != field {
			t.Errorf("%s: %v, want invalid naming %q", body, err, field)
		}
	}
}

func TestExactNames(t *testing.T) {
	obj, err := parseObject([]byte(`{"Enabled":false,"name":"a","NAME_":"b","Intergration_ID":"c"}`))
	if err != nil {
		t.Fatal(err)
	}
	var errs ssod.Errors
	obj.exactNames(&errs, "name", "enabled", "intergration_id")
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if got := strings.Join(fields, ","); got != "Enabled,Intergration_ID" {
		t.Fatalf("problems on %s, want Enabled and Intergration_ID", got)
	}
}
