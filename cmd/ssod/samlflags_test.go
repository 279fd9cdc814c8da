package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseSAMLFlags(t *testing.T) {
	cfg, limits, err := parseSAMLFlags(defaultSAMLSkew.String(), "false", defaultSAMLRateLimit, "")
	if err != nil || cfg.Skew != 3*time.Minute || cfg.AllowSHA1 || limits.String() != "300/1m0s" || len(cfg.TrustedProxies) != 0 {
		t.Fatalf("defaults: %+v %v %v", cfg, limits, err)
	}
	cfg, limits, err = parseSAMLFlags("0", "true", "off", " 10.0.0.0/8, 192.0.2.7 ,2001:db8::1/64,::ffff:198.51.100.1")
	if err != nil || cfg.Skew != 0 || !cfg.AllowSHA1 || limits.Enabled() {
		t.Fatalf("%+v %v %v", cfg, limits, err)
	}
	if got := fmt.Sprint(cfg.TrustedProxies); got != "[10.0.0.0/8 192.0.2.7/32 2001:db8::/64 198.51.100.1/32]" {
		t.Errorf("trusted proxies %s", got)
	}
	for _, bad := range [][4]string{
		{"-1s", "false", "300/60s", ""},
		{"61m", "false", "300/60s", ""},
		{"soon", "false", "300/60s", ""},
		{"3m", "maybe", "300/60s", ""},
		{"3m", "false", "300", ""},
		{"3m", "false", "300/60s", "10.0.0.0/33"},
		{"3m", "false", "300/60s", "proxy.internal"},
	} {
		if _, _, err := parseSAMLFlags(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("parseSAMLFlags(%q) accepted", bad)
		}
	}
}

// TestServeRefusesBadSAMLFlags: the flags are wired to serve, which refuses a bad one
// before it listens or opens a database.
func TestServeRefusesBadSAMLFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--saml-clock-skew", "2h"},
		{"--saml-allow-sha1", "yes please"},
		{"--saml-rate-limit", "many"},
		{"--trusted-proxies", "proxy.internal"},
	} {
		all := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", t.TempDir() + "/ssod.db"}, args...)
		err := run(t.Context(), all, env(nil), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("serve %v: %v, want an error naming %s", args, err, args[0])
		}
	}
}
