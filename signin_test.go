package ssod

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLoginTraceStored(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"short", "jane@example.com", "jane@example.com"},
		{"exactly the bound", strings.Repeat("a", MaxLoginTraceText), strings.Repeat("a", MaxLoginTraceText)},
		{"cut at a character boundary", "a" + strings.Repeat("é", MaxLoginTraceText), "a" + strings.Repeat("é", MaxLoginTraceText/2-1)},
		{"invalid UTF-8 and NUL replaced", "a\xffb\x00c", "a\uFFFDb\uFFFDc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := LoginTrace{Message: tc.in, NameID: tc.in, RequestID: tc.in}.Stored()
			for _, f := range []string{got.Message, got.NameID, got.RequestID} {
				if f != tc.want {
					t.Errorf("Stored() field = %q, want %q", f, tc.want)
				}
				if !utf8.ValidString(f) || len(f) > MaxLoginTraceText {
					t.Errorf("Stored() field of %d bytes is not storable", len(f))
				}
			}
		})
	}
}

func TestValidSignInID(t *testing.T) {
	for id, want := range map[string]bool{
		"_8e8dc5f69a98cc4c1ff3427e5ce34606fd672f91e6": true,
		strings.Repeat("x", MaxSignInIDLength):        true,
		strings.Repeat("x", MaxSignInIDLength+1):      false,
		"":                                            false,
		"a\x00b":                                      false,
		"a\xffb":                                      false,
	} {
		if got := ValidSignInID(id); got != want {
			t.Errorf("ValidSignInID(%.20q) = %v, want %v", id, got, want)
		}
	}
}
