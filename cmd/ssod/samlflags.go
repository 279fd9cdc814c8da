package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ssod/ssod/httpapi"
	"github.com/ssod/ssod/ratelimit"
)

// Defaults of the SAML sign-in flags (README, "Configuration").
const (
	defaultSAMLSkew      = 3 * time.Minute
	defaultSAMLRateLimit = "300/60s"
	// maxSAMLSkew bounds --saml-clock-skew: more would let an expired assertion in for
	// longer than any clock is wrong.
	maxSAMLSkew = time.Hour
	// samlRedisPrefix namespaces the per-address counters in a shared Redis.
	samlRedisPrefix = "ssod:samlratelimit:"
)

// parseSAMLFlags reads the SAML sign-in flags; the limiter is left to the caller.
func parseSAMLFlags(skew, sha1, rateLimit, proxies string) (httpapi.SAMLConfig, ratelimit.Config, error) {
	var cfg httpapi.SAMLConfig
	d, err := time.ParseDuration(skew)
	if err != nil || d < 0 || d > maxSAMLSkew {
		return cfg, ratelimit.Config{}, fmt.Errorf("--saml-clock-skew %q: want a duration from 0 to %s, such as 3m", skew, maxSAMLSkew)
	}
	cfg.Skew = d
	if cfg.AllowSHA1, err = strconv.ParseBool(sha1); err != nil {
		return cfg, ratelimit.Config{}, fmt.Errorf("--saml-allow-sha1 %q: want true or false", sha1)
	}
	limits, err := ratelimit.ParseConfig(rateLimit)
	if err != nil {
		return cfg, ratelimit.Config{}, fmt.Errorf("--saml-rate-limit: %w", err)
	}
	for p := range strings.SplitSeq(proxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return cfg, ratelimit.Config{}, fmt.Errorf("--trusted-proxies %q: want addresses or CIDRs, such as 10.0.0.0/8", p)
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix.Masked())
	}
	return cfg, limits, nil
}

// newLimiter returns the limiter for limits: nil when they are off, one shared through
// Redis (under prefix) when redisURL is set, one in memory on the clock now otherwise;
// closeFn releases it.
func newLimiter(ctx context.Context, limits ratelimit.Config, redisURL, prefix string, timeout time.Duration, logger *slog.Logger, now func() time.Time) (_ ratelimit.Limiter, closeFn func(), _ error) {
	switch {
	case limits.Enabled() && redisURL != "":
		ratelimit.LogRedisTo(logger)
		// A Redis that is down at start is an outage like any later one:
		// serve, warn once, and let requests through until it answers.
		rl, err := ratelimit.NewRedis(ctx, limits, ratelimit.RedisOptions{
			URL: redisURL, Prefix: prefix, Timeout: timeout, Logger: logger, Now: time.Now,
		})
		if err != nil {
			return nil, func() {}, err
		}
		return rl, func() { rl.Close() }, nil
	case limits.Enabled():
		return ratelimit.NewMemory(limits, now), func() {}, nil
	}
	return nil, func() {}, nil
}
