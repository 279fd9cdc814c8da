package ssod

import "testing"

func TestSigningHorizon(t *testing.T) {
	const now = 1_000_000
	cert := func(enabled bool, nb, na int64) Certificate {
		return Certificate{Enabled: enabled, X509: X509{NotBefore: nb, NotAfter: na}}
	}
	tests := []struct {
		name  string
		certs []Certificate
		want  int64
		ok    bool
	}{
		{"no certificates", nil, 0, false},
		{"one valid", []Certificate{cert(true, now-10, now+100)}, now + 100, true},
		{"latest of several", []Certificate{cert(true, now-10, now+100), cert(true, now-5, now+300), cert(true, now-1, now+200)}, now + 300, true},
		{"disabled ignored", []Certificate{cert(true, now-10, now+100), cert(false, now-10, now+900)}, now + 100, true},
		{"only disabled", []Certificate{cert(false, now-10, now+900)}, 0, false},
		{"not yet started ignored", []Certificate{cert(true, now-10, now+100), cert(true, now+1, now+900)}, now + 100, true},
		{"only not yet started", []Certificate{cert(true, now+1, now+900)}, 0, false},
		{"started exactly now", []Certificate{cert(true, now, now+50)}, now + 50, true},
		{"all expired", []Certificate{cert(true, now-100, now-1), cert(true, now-100, now-50)}, 0, false},
		{"expired beside valid", []Certificate{cert(true, now-100, now-1), cert(true, now-100, now+5)}, now + 5, true},
		{"ends exactly now", []Certificate{cert(true, now-100, now)}, now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := SigningHorizon(tt.certs, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("SigningHorizon = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
