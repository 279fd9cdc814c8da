package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeConsole: ssod serve serves the console by default, with its
// embedded assets and security headers; --console=false leaves only the API.
func TestServeConsole(t *testing.T) {
	ts := startServer(t, "")
	for path, want := range map[string]string{
		"/console/signin":             "<h1>Sign in</h1>",
		"/console/static/console.css": "--danger",
		"/console/static/console.js":  "clipboard",
	} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
		if path == "/console/signin" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("sign-in page CSP %q", resp.Header.Get("Content-Security-Policy"))
		}
	}
	off := startServer(t, "", "--console=false")
	resp, err := http.Get(off.URL + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("--console=false: GET /console/signin is %d", resp.StatusCode)
	}
}
