// Package outbound makes the HTTP requests ssod sends to URLs its tenants
// give it (expiry webhooks, IdP metadata URLs). Such a URL is a server-side
// request forgery risk: without care, a tenant could make ssod call its own
// loopback services, the cloud metadata endpoint at 169.254.169.254 or any
// host on the private network. So a Client only calls https URLs whose
// addresses are public, checks each address when it connects (after DNS, so
// a name that resolves or re-resolves to a private address is caught) and
// each redirect, and bounds time and response size.
package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults for a zero Policy field.
const (
	DefaultMaxBytes = 1 << 20
	DefaultTimeout  = 10 * time.Second
	// maxRedirects bounds a redirect chain; each hop is checked as the first.
	maxRedirects = 5
	// maxURLLength keeps a stored URL a reasonable size.
	maxURLLength = 2048
)

// ErrForbidden is what errors.Is finds when a URL, or an address it
// resolves or redirects to, breaks the policy.
var ErrForbidden = errors.New("outbound: destination not allowed")

// ErrTooLarge is what errors.Is finds when a response body exceeds MaxBytes.
var ErrTooLarge = errors.New("outbound: response too large")

// Policy says what a Client may call.
type Policy struct {
	// AllowPrivate also allows loopback, private and link-local addresses,
	// and plain http: for tests and private networks
	// (ssod serve --allow-private-urls).
	AllowPrivate bool
	// MaxBytes limits a response body; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout limits a whole request, redirects and body included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// Client sends requests under a Policy. It is safe for concurrent use and
// keeps connections alive between requests.
type Client struct {
	policy Policy
	hc     *http.Client
	// addrAllowed decides an address at connect time; tests narrow it to
	// exactly their server's address.
	addrAllowed func(netip.Addr) error
	// hosts maps a host name to the address dialled in its place, so tests
	// can give a name any address without DNS.
	hosts map[string]string
}

// New returns a Client for p.
func New(p Policy) *Client {
	return newClient(p, nil, nil, nil)
}

func newClient(p Policy, allowed func(netip.Addr) error, hosts map[string]string, tlsConfig *tls.Config) *Client {
	if p.MaxBytes <= 0 {
		p.MaxBytes = DefaultMaxBytes
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	c := &Client{policy: p, addrAllowed: allowed, hosts: hosts}
	if c.addrAllowed == nil {
		c.addrAllowed = p.checkAddr
	}
	dialer := &net.Dialer{
		Timeout: p.Timeout,
		// Control sees the address actually being connected to, after name
		// resolution: the one check a DNS answer cannot get around.
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("%w: address %q", ErrForbidden, address)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("%w: address %q", ErrForbidden, host)
			}
			return c.addrAllowed(ip)
		},
	}
	transport := &http.Transport{
		// No proxy from the environment: a proxy would connect on ssod's
		// behalf and the address check above would see only the proxy.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil {
				if to, ok := c.hosts[host]; ok {
					addr = net.JoinHostPort(to, port)
				}
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   p.Timeout,
		ResponseHeaderTimeout: p.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
	}
	c.hc = &http.Client{
		Transport: transport,
		Timeout:   p.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("outbound: more than %d redirects", maxRedirects)
			}
			if err := c.CheckURL(req.URL.String()); err != nil {
				return fmt.Errorf("redirect: %w", err)
			}
			return nil
		},
	}
	return c
}

// CheckURL checks a URL a tenant gives, before it is stored: https (http too
// with AllowPrivate), a host, no user info or fragment, and a literal address
// the policy allows. Host names are checked again at connect time, where
// their addresses are known.
func (c *Client) CheckURL(raw string) error {
	if len(raw) > maxURLLength {
		return fmt.Errorf("%w: URL longer than %d characters", ErrForbidden, maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrForbidden)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.policy.AllowPrivate:
	case u.Scheme == "http":
		return fmt.Errorf("%w: http is not allowed, use https", ErrForbidden)
	default:
		return fmt.Errorf("%w: the URL must start with https://", ErrForbidden)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not hold a user name or password", ErrForbidden)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%w: the URL must not hold a fragment", ErrForbidden)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: the URL has no host", ErrForbidden)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return c.addrAllowed(ip)
	}
	// Names that always mean this machine need no DNS answer to refuse.
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if !c.policy.AllowPrivate && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return fmt.Errorf("%w: %s is this machine", ErrForbidden, host)
	}
	return nil
}

// Get fetches url and returns its body: a 2xx answer of at most MaxBytes.
func (c *Client) Get(ctx context.Context, url string) ([]byte, error) {
	if err := c.CheckURL(url); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("outbound: GET: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("outbound: GET: answered %s", resp.Status)
	}
	return c.readBody(resp)
}

// Post sends body with header and returns the answer's status code, whatever
// it is: what counts as delivered is the caller's decision.
func (c *Client) Post(ctx context.Context, url string, header http.Header, body []byte) (int, error) {
	if err := c.CheckURL(url); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("outbound: %w", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("outbound: POST: %w", err)
	}
	defer resp.Body.Close()
	// Read (a bounded part of) the answer so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, c.policy.MaxBytes))
	return resp.StatusCode, nil
}

const userAgent = "ssod (+https://github.com/ssod/ssod)"

func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > c.policy.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes announced, at most %d", ErrTooLarge, resp.ContentLength, c.policy.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.policy.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("outbound: read body: %w", err)
	}
	if int64(len(body)) > c.policy.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, c.policy.MaxBytes)
	}
	return body, nil
}

// special lists the address ranges, beyond what netip classifies, that
// reach no public host or reach one through a translation ssod cannot see.
var special = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
}

// checkAddr is the policy's connect-time rule for one address.
func (p Policy) checkAddr(ip netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	if class := Classify(ip); class != "" {
		return fmt.Errorf("%w: %s is a %s address", ErrForbidden, ip, class)
	}
	return nil
}

// Classify names the class that makes ip unfit for a tenant's URL
// (loopback, private, link-local, ...), or returns "" for a public address.
func Classify(ip netip.Addr) string {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsLinkLocalMulticast():
		return "multicast"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	if ip.Is6() && ip.Zone() != "" {
		return "zoned"
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return s.class
		}
	}
	return ""
}
