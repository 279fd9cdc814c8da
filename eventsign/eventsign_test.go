package eventsign_test

import (
	"encoding/base64"
	"testing"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/ssod/ssod/eventsign"
)

// SendGrid's own helper must accept what Sign makes, and refuse it once the
// body or the timestamp is changed.
func TestSignVerifiesWithSendGridHelper(t *testing.T) {
	private, public, err := eventsign.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(base64.StdEncoding.EncodeToString(public))
	if err != nil {
		t.Fatalf("ConvertPublicKeyBase64ToECDSA: %v", err)
	}
	payload := []byte(`[{"event":"sso.signing.expiring","days_left":30}]`)
	sig, err := eventsign.Sign(private, "1700000000", payload)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		payload   []byte
		timestamp string
		want      bool
	}{
		{"as signed", payload, "1700000000", true},
		{"tampered body", []byte(`[{"event":"sso.signing.expiring","days_left":90}]`), "1700000000", false},
		{"other timestamp", payload, "1700000001", false},
	} {
		ok, err := eventwebhook.VerifySignature(pub, tc.payload, sig, tc.timestamp)
		if err != nil || ok != tc.want {
			t.Errorf("%s: VerifySignature = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
		if got := eventsign.Verify(public, tc.timestamp, tc.payload, sig); got != tc.want {
			t.Errorf("%s: Verify = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestSignRefusesOtherKeys(t *testing.T) {
	if _, err := eventsign.Sign([]byte("not a key"), "1", nil); err == nil {
		t.Error("Sign accepted a malformed key")
	}
}
