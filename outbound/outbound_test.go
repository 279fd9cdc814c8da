package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Every class of address a tenant's URL must not reach, as a literal.
var forbiddenURLs = map[string]string{
	"loopback v4":          "https://127.0.0.1/",
	"loopback v4 other":    "https://127.1.2.3:8443/x",
	"loopback v6":          "https://[::1]/",
	"v4-mapped loopback":   "https://[::ffff:127.0.0.1]/",
	"private 10/8":         "https://10.0.0.1/",
	"private 172.16/12":    "https://172.16.5.4/",
	"private 192.168/16":   "https://192.168.1.1/",
	"private fc00::/7":     "https://[fd00::1]/",
	"link-local metadata":  "https://169.254.169.254/latest/meta-data/",
	"link-local v6":        "https://[fe80::1]/",
	"unspecified v4":       "https://0.0.0.0/",
	"unspecified v6":       "https://[::]/",
	"this network":         "https://0.1.2.3/",
	"carrier-grade NAT":    "https://100.64.0.1/",
	"multicast":            "https://224.0.0.1/",
	"broadcast":            "https://255.255.255.255/",
	"reserved":             "https://240.0.0.1/",
	"NAT64":                "https://[64:ff9b::a00:1]/",
	"6to4":                 "https://[2002:a00:1::]/",
	"localhost name":       "https://localhost/",
	"localhost subdomain":  "https://api.localhost./",
	"plain http":           "http://example.com/",
	"other scheme":         "ftp://example.com/",
	"no scheme":            "example.com/metadata",
	"no host":              "https:///path",
	"user info":            "https://user:pass@example.com/",
	"fragment":             "https://example.com/#x",
	"not a URL":            "https://exa mple.com/%zz",
	"too long":             "https://example.com/" + strings.Repeat("a", maxURLLength),
	"decimal-encoded host": "https://2130706433/", // 127.0.0.1 as one number: the resolver's, so refused at connect (below); here a name
}

func TestCheckURLRefusesEachForbiddenClass(t *testing.T) {
	c := New(Policy{})
	for name, u := range forbiddenURLs {
		if name == "decimal-encoded host" {
			continue // a name to CheckURL; TestConnectTimeCheck covers where it leads
		}
		if err := c.CheckURL(u); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: CheckURL(%q) = %v, want ErrForbidden", name, u, err)
		}
	}
}

func TestCheckURLAcceptsPublic(t *testing.T) {
	c := New(Policy{})
	for _, u := range []string{
		"https://example.com/",
		"https://idp.example.com:8443/metadata?tenant=1",
		"https://8.8.8.8/hook",
		"https://[2001:4860:4860::8888]/hook",
	} {
		if err := c.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", u, err)
		}
	}
}

func TestAllowPrivateAllowsLoopbackAndHTTP(t *testing.T) {
	c := New(Policy{AllowPrivate: true})
	for _, u := range []string{"http://127.0.0.1:8080/", "https://[::1]/", "http://localhost/", "https://10.0.0.1/"} {
		if err := c.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil with AllowPrivate", u, err)
		}
	}
	if err := c.CheckURL("ftp://127.0.0.1/"); !errors.Is(err, ErrForbidden) {
		t.Errorf("ftp with AllowPrivate: %v, want ErrForbidden", err)
	}
}

func TestClassifyPublic(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "100.128.0.1", "172.32.0.1"} {
		if c := Classify(netip.MustParseAddr(s)); c != "" {
			t.Errorf("Classify(%s) = %q, want public", s, c)
		}
	}
}

// onlyServer allows exactly the test server's address, so the connect-time
// rule can be tested against real connections on loopback.
func onlyServer(t *testing.T, srv *httptest.Server) func(netip.Addr) error {
	t.Helper()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	return func(ip netip.Addr) error {
		if ip == ap.Addr() {
			return nil
		}
		return Policy{}.checkAddr(ip)
	}
}

func TestConnectTimeCheck(t *testing.T) {
	hits := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// A public-looking name whose address (here by mapping, in life by DNS)
	// is loopback: CheckURL cannot know, the connection must be refused.
	c := newClient(Policy{}, nil, map[string]string{"idp.example.com": "127.0.0.1", "2130706433": "127.0.0.1"}, srv.Client().Transport.(*http.Transport).TLSClientConfig)
	for _, u := range []string{"https://idp.example.com:" + port + "/", "https://2130706433:" + port + "/"} {
		if err := c.CheckURL(u); err != nil {
			t.Fatalf("CheckURL(%q) = %v; the name alone is fine", u, err)
		}
		_, err := c.Get(context.Background(), u)
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("Get(%q) = %v, want ErrForbidden at connect time", u, err)
		}
		if _, err := c.Post(context.Background(), u, nil, []byte("[]")); !errors.Is(err, ErrForbidden) {
			t.Errorf("Post(%q) = %v, want ErrForbidden at connect time", u, err)
		}
	}
	if hits != 0 {
		t.Fatalf("the server was reached %d times", hits)
	}
}

func TestRedirectsAreChecked(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "fine")
		case "/to-ok":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-http":
			http.Redirect(w, r, "http://"+r.Host+"/ok", http.StatusFound)
		case "/to-internal-name":
			_, port, _ := net.SplitHostPort(r.Host)
			http.Redirect(w, r, "https://internal.example.com:"+port+"/ok", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	defer srv.Close()
	hosts := map[string]string{"internal.example.com": "127.0.0.2"}
	c := newClient(Policy{}, onlyServer(t, srv), hosts, srv.Client().Transport.(*http.Transport).TLSClientConfig)
	body, err := c.Get(context.Background(), srv.URL+"/to-ok")
	if err != nil || string(body) != "fine" {
		t.Fatalf("allowed redirect: %q, %v", body, err)
	}
	for _, path := range []string{"/to-metadata", "/to-http", "/to-internal-name"} {
		if _, err := c.Get(context.Background(), srv.URL+path); !errors.Is(err, ErrForbidden) {
			t.Errorf("redirect %s: %v, want ErrForbidden", path, err)
		}
	}
	if _, err := c.Get(context.Background(), srv.URL+"/loop"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: %v, want a redirect limit error", err)
	}
}

func TestSizeAndTimeLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exact":
			w.Write(make([]byte, 100))
		case "/big":
			w.Write(make([]byte, 101))
		case "/big-chunked":
			for i := 0; i < 11; i++ {
				w.Write(make([]byte, 10))
				w.(http.Flusher).Flush()
			}
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case "/fail":
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := New(Policy{AllowPrivate: true, MaxBytes: 100, Timeout: 200 * time.Millisecond})
	if b, err := c.Get(context.Background(), srv.URL+"/exact"); err != nil || len(b) != 100 {
		t.Fatalf("body at the limit: %d bytes, %v", len(b), err)
	}
	for _, p := range []string{"/big", "/big-chunked"} {
		if _, err := c.Get(context.Background(), srv.URL+p); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", p, err)
		}
	}
	start := time.Now()
	if _, err := c.Get(context.Background(), srv.URL+"/slow"); err == nil {
		t.Error("slow server: no error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow server held the request %v; the timeout is 200ms", d)
	}
	if _, err := c.Get(context.Background(), srv.URL+"/fail"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v, want an error naming the status", err)
	}
	if code, err := c.Post(context.Background(), srv.URL+"/fail", http.Header{"Content-Type": {"application/json"}}, []byte("[]")); err != nil || code != 503 {
		t.Errorf("Post to a failing receiver: %d, %v; want the status, no error", code, err)
	}
}

func TestPostSendsHeadersAndBody(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %s %s", r.Method, r.Header.Get("X-Sig"), b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := New(Policy{AllowPrivate: true})
	code, err := c.Post(context.Background(), srv.URL, http.Header{"X-Sig": {"abc"}}, []byte(`[{"a":1}]`))
	if err != nil || code != 204 {
		t.Fatalf("Post: %d, %v", code, err)
	}
	if s := <-got; s != `POST abc [{"a":1}]` {
		t.Fatalf("receiver saw %q", s)
	}
	// Without AllowPrivate the same loopback receiver is refused.
	if _, err := New(Policy{}).Post(context.Background(), srv.URL, nil, nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("loopback http without AllowPrivate: %v", err)
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, u := range forbiddenURLs {
		f.Add(u)
	}
	f.Add("https://example.com/")
	c := New(Policy{})
	f.Fuzz(func(t *testing.T, raw string) {
		err := c.CheckURL(raw)
		if err != nil && !errors.Is(err, ErrForbidden) {
			t.Fatalf("CheckURL(%q): error %v is not ErrForbidden", raw, err)
		}
		if err == nil && !strings.HasPrefix(raw, "https://") && !strings.HasPrefix(strings.ToLower(raw), "https:") {
			t.Fatalf("CheckURL(%q) accepted a URL that is not https", raw)
		}
	})
}
