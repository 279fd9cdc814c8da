package apikey

import (
	"strings"
	"testing"
)

func TestNewHasSendGridShapeAndVerifies(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		key, id, hash, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != Length || !strings.HasPrefix(key, "SG.") {
			t.Fatalf("key %q: want %d characters starting SG.", key, Length)
		}
		gotID, secret, ok := Split(key)
		if !ok || gotID != id {
			t.Fatalf("Split(%q) = %q, ok=%v; want id %q", key, gotID, ok, id)
		}
		if !Verify(secret, hash) {
			t.Fatal("the key's own secret does not verify")
		}
		if strings.Contains(string(hash), secret) {
			t.Fatal("hash holds the secret")
		}
		if id[0] == '-' || id[0] == '_' {
			t.Fatalf("id %q would read as a command-line flag", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestVerifyRejectsOtherSecrets(t *testing.T) {
	key, _, hash, _ := New()
	_, secret, _ := Split(key)
	flipped := []byte(secret)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	if Verify(string(flipped), hash) {
		t.Fatal("a changed secret verified")
	}
	if Verify(secret, nil) {
		t.Fatal("verified against an empty hash")
	}
}

func TestSplitRejectsMalformed(t *testing.T) {
	good, _, _, _ := New()
	cases := map[string]string{
		"empty":         "",
		"short":         good[:Length-1],
		"long":          good + "A",
		"wrong prefix":  "XG" + good[2:],
		"no separator":  good[:3+IDLength] + "x" + good[3+IDLength+1:],
		"bad character": good[:10] + "+" + good[11:],
		"space":         good[:Length-1] + " ",
	}
	for name, key := range cases {
		if _, _, ok := Split(key); ok {
			t.Errorf("%s: Split(%q) accepted", name, key)
		}
	}
	if _, _, ok := Split(good); !ok {
		t.Fatal("good key rejected")
	}
}
