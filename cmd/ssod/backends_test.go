package main

import (
	"path/filepath"
	"testing"

	"github.com/ssod/ssod/postgres/pgtest"
)

// backends are the databases ssod runs on. Every end-to-end test runs on
// each; PostgreSQL's skip visibly when SSOD_TEST_POSTGRES is unset.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string // a fresh, empty database
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "ssod.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

// TestEndToEnd runs the end-to-end suite against `ssod serve` on every
// backend, each test on a database of its own.
func TestEndToEnd(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, dsn string)
	}{
		{"Lifecycle", testLifecycle},
		{"Integrations", testIntegrations},
		{"CertificateInput", testCertificateInput},
		{"RequestErrors", testRequestErrors},
		{"AccountIsolation", testAccountIsolation},
		{"Subusers", testSubusers},
		{"RateLimit", testRateLimit},
		{"OpenAPIDocument", testOpenAPIDocument},
		{"FirstStartKeyOnlyOnce", testFirstStartKeyOnlyOnce},
		{"SendGridGoClient", testSendGridGoClient},
		{"SendGridRetryWaitsForReset", testSendGridRetryWaitsForReset},
		{"HealthAndMetrics", testHealthAndMetrics},
		{"RevocationBitesWithinKeyCacheTTL", testRevocationBitesWithinKeyCacheTTL},
		{"HammerOneCertificate", testHammerOneCertificate},
		{"Limits", testLimits},
		{"SignIn", testSignIn},
		{"SeedFile", testSeedFile},
		{"ResetToTheSeedUnderLoad", testResetUnderLoad},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, b.dsn(t)) })
			}
		})
	}
}
