// Package testenv finds what some tests need outside the repository (a
// PostgreSQL or Redis server, public test data) through environment
// variables. Without them a test skips and says which variable would run it;
// under CI=true it fails instead, so a CI run cannot pass by skipping the
// very tests it exists to run.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The variables the tests read.
const (
	// Postgres is a connection string, e.g.
	// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	Postgres = "SSOD_TEST_POSTGRES"
	// Redis is a URL, e.g. redis://127.0.0.1:6379/0.
	Redis = "SSOD_TEST_REDIS"
	// IdPCerts is a folder of real IdP signing certificates (see the
	// README's Tests section for where they come from).
	IdPCerts = "SSOD_TEST_IDP_CERTS"
	// SAMLCorpora is the folder of public SAML responses with its
	// MANIFEST.json (see the README's Tests section).
	SAMLCorpora = "SSOD_TEST_SAML_CORPORA"
	// IdPMetadata is the folder of real IdP metadata documents (see the
	// README's Tests section).
	IdPMetadata = "SSOD_TEST_IDP_METADATA"
)

// CI reports whether the tests run under CI (CI=true, as CI services set
// it), where a missing service is a failure rather than a reason to skip.
func CI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Lookup returns the value of the environment variable name. When it is
// unset, t skips with a message that names it and what it would have given
// (what), or fails under CI=true.
func Lookup(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if CI() {
		t.Fatalf("%s not set under CI=true: %s would be skipped, and CI must run them", name, what)
	}
	t.Skipf("%s not set: %s skipped", name, what)
	return ""
}

// Optional is Lookup for what a test can do without: when the variable is
// unset, t logs that what is left out and goes on (it still fails under
// CI=true), and Optional returns "".
func Optional(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if CI() {
		t.Fatalf("%s not set under CI=true: %s would be left out, and CI must use them", name, what)
	}
	t.Logf("%s not set: %s left out", name, what)
	return ""
}

// RedisURL returns the Redis server named by Redis (skipping or failing as
// Lookup does when it is unset) after checking that it answers a PING: a
// test asked to use Redis must not pass without it.
func RedisURL(t testing.TB, what string) string {
	t.Helper()
	url := Lookup(t, Redis, what)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", Redis, err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("%s=%s does not answer: %v", Redis, url, err)
	}
	return url
}

// Dir returns the folder named by the environment variable name (skipping
// or failing as Lookup does when it is unset), failing t if it is not a
// folder.
func Dir(t testing.TB, name, what string) string {
	t.Helper()
	dir := Lookup(t, name, what)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !fi.IsDir() {
		t.Fatalf("%s=%s is not a folder", name, dir)
	}
	return dir
}

// Program returns the path of the program named by its candidate paths or
// names (the first found). When none is installed, t skips with a message
// naming it and what it would have given, or fails under CI=true.
func Program(t testing.TB, what string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if CI() {
		t.Fatalf("%s not installed under CI=true: %s would be skipped, and CI must run them", candidates[0], what)
	}
	t.Skipf("%s not installed: %s skipped", candidates[0], what)
	return ""
}
