package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// target is a server under load: ssod or one of its references.
type target struct {
	name  string // "ssod", "ceiling" or "prism"
	base  string // http://host:port
	key   string
	ds    *dataset
	stock *idStock  // certificates DELETE may remove; ssod only
	pool  *certPool // certificates POST sends
}

const (
	targetSSOD    = "ssod"
	targetCeiling = "ceiling"
	targetPrism   = "prism"
)

// request is one request a worker sends.
type request struct {
	method, path string
	body         []byte
	created      bool // a POST whose answer's id joins the DELETE stock
}

// idStock holds ids of certificates that exist and that nothing reads, for
// DELETE to remove.
type idStock struct {
	mu  sync.Mutex
	ids []int64
}

func (s *idStock) push(id int64) {
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
}

func (s *idStock) pop() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		return 0, false
	}
	id := s.ids[len(s.ids)-1]
	s.ids = s.ids[:len(s.ids)-1]
	return id, true
}

func (s *idStock) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// certPool hands out the certificates POST sends, each once while they last.
type certPool struct {
	pems []string
	next atomic.Int64
}

// take returns the next certificate and whether it was sent before.
func (p *certPool) take() (string, bool) {
	n := int(p.next.Add(1) - 1)
	return p.pems[n%len(p.pems)], n >= len(p.pems)
}

// Weights of the mix, in percent: 90% reads.
var mixWeights = []struct {
	op     string
	weight int
}{
	{opGetCert, 50}, {opListCerts, 25}, {opGetIntegration, 15},
	{opPostCert, 5}, {opPatchCert, 3}, {opDeleteCert, 2},
}

// next builds the request op sends now; ok is false when there is nothing
// left to send (the DELETE stock ran out).
func (t *target) next(op string, rng *rand.Rand) (request, bool) {
	ds := t.ds
	switch op {
	case opGetCert:
		return request{method: http.MethodGet, path: "/v3/sso/certificates/" + strconv.FormatInt(ds.certs[rng.IntN(len(ds.certs))], 10)}, true
	case opListCerts:
		return request{method: http.MethodGet, path: "/v3/sso/integrations/" + ds.integrations[rng.IntN(len(ds.integrations))] + "/certificates"}, true
	case opGetIntegration:
		return request{method: http.MethodGet, path: "/v3/sso/integrations/" + ds.integrations[rng.IntN(len(ds.integrations))]}, true
	case opPostCert:
		pemText, _ := t.pool.take()
		body, _ := json.Marshal(map[string]any{
			"public_certificate": pemText,
			"integration_id":     ds.writeIntegrations[rng.IntN(len(ds.writeIntegrations))],
		})
		return request{method: http.MethodPost, path: "/v3/sso/certificates", body: body, created: t.stock != nil}, true
	case opPatchCert:
		body := []byte(`{"enabled":false}`)
		if rng.IntN(2) == 0 {
			body = []byte(`{"enabled":true}`)
		}
		return request{method: http.MethodPatch, path: "/v3/sso/certificates/" + strconv.FormatInt(ds.certs[rng.IntN(len(ds.certs))], 10), body: body}, true
	case opDeleteCert:
		id := ds.certs[rng.IntN(len(ds.certs))] // the references delete nothing
		if t.stock != nil {
			var ok bool
			if id, ok = t.stock.pop(); !ok {
				return request{}, false
			}
		}
		return request{method: http.MethodDelete, path: "/v3/sso/certificates/" + strconv.FormatInt(id, 10)}, true
	case opMix:
		n := rng.IntN(100)
		for _, w := range mixWeights {
			if n < w.weight {
				return t.next(w.op, rng)
			}
			n -= w.weight
		}
	}
	panic("sload: unknown operation " + op)
}

// result is one operation's figures against one target.
type result struct {
	op, target string
	ok, failed int
	elapsed    time.Duration // measured time
	rps        float64       // successful requests per second
	p50, p90   time.Duration
	p99, max   time.Duration
	bytes      int64  // response bytes of successful requests
	firstError string // the first failure, for the report
	note       string
	roundRPS   []float64 // the rate in each round, for ratios round by round
}

func (r *result) meanBody() int64 {
	if r.ok == 0 {
		return 0
	}
	return r.bytes / int64(r.ok)
}

// newClient is an HTTP/1.1 client that keeps one connection per worker.
func newClient(conns int) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr
}

// sample is what one stretch of load measured.
type sample struct {
	lats       []time.Duration
	ok, failed int
	elapsed    time.Duration
	bytes      int64
	firstError string
	exhausted  bool
}

// drive runs op against t with conns workers: warmup unmeasured, then
// duration measured. Latency is from sending the request to having read the
// whole response.
func drive(ctx context.Context, client *http.Client, t *target, op string, conns int, warmup, duration time.Duration) sample {
	start := time.Now()
	measureFrom := start.Add(warmup)
	deadline := measureFrom.Add(duration)
	stats := make([]sample, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			st := &stats[w]
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			var buf bytes.Buffer
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(deadline) {
					return
				}
				req, ok := t.next(op, rng)
				if !ok {
					st.exhausted = true
					return
				}
				measured := !now.Before(measureFrom)
				status, n, err := send(ctx, client, t, req, &buf)
				took := time.Since(now)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("%s %s: status %d: %.200s", req.method, req.path, status, buf.Bytes())
				}
				if err != nil {
					if measured {
						st.failed++
					}
					if st.firstError == "" {
						st.firstError = err.Error()
					}
					time.Sleep(time.Millisecond) // no busy loop against a dead server
					continue
				}
				if req.created {
					if id, ok := idOf(buf.Bytes()); ok {
						t.stock.push(id)
					}
				}
				if measured {
					st.lats = append(st.lats, took)
					st.ok++
					st.bytes += n
				}
			}
		})
	}
	wg.Wait()
	all := sample{elapsed: max(0, time.Since(measureFrom))}
	for _, st := range stats {
		all.lats = append(all.lats, st.lats...)
		all.ok += st.ok
		all.failed += st.failed
		all.bytes += st.bytes
		if all.firstError == "" {
			all.firstError = st.firstError
		}
		all.exhausted = all.exhausted || st.exhausted
	}
	return all
}

// summarize merges the samples of one operation against one target.
func summarize(op, target string, samples []sample) result {
	r := result{op: op, target: target}
	var lats []time.Duration
	for _, s := range samples {
		if s.elapsed > 0 {
			r.roundRPS = append(r.roundRPS, float64(s.ok)/s.elapsed.Seconds())
		}
		lats = append(lats, s.lats...)
		r.ok += s.ok
		r.failed += s.failed
		r.bytes += s.bytes
		r.elapsed += s.elapsed
		if r.firstError == "" {
			r.firstError = s.firstError
		}
		if s.exhausted {
			r.note = "stock of certificates to delete ran out"
		}
	}
	if r.elapsed > 0 {
		r.rps = float64(r.ok) / r.elapsed.Seconds()
	}
	slices.Sort(lats)
	r.p50, r.p90, r.p99 = percentile(lats, 0.50), percentile(lats, 0.90), percentile(lats, 0.99)
	if len(lats) > 0 {
		r.max = lats[len(lats)-1]
	}
	return r
}

// driveRounds runs op against every target in turn, rounds times, each for
// duration/rounds after one warm-up per target, so that every target meets
// the same background noise of a shared machine.
//
// extra, when not nil, takes its turn after the targets in every round.
func driveRounds(ctx context.Context, targets []*target, op string, conns, rounds int, warmup, duration time.Duration, extra func(warmup, d time.Duration) error) ([]result, error) {
	clients := make([]*http.Client, len(targets))
	for i := range targets {
		c, tr := newClient(conns)
		defer tr.CloseIdleConnections()
		clients[i] = c
	}
	samples := make([][]sample, len(targets))
	slice := duration / time.Duration(rounds)
	for round := range rounds {
		for i, t := range targets {
			if ctx.Err() != nil {
				break
			}
			w := time.Duration(0)
			if round == 0 {
				w = warmup
			}
			samples[i] = append(samples[i], drive(ctx, clients[i], t, op, conns, w, slice))
		}
		if extra != nil && ctx.Err() == nil {
			w := time.Duration(0)
			if round == 0 {
				w = warmup
			}
			if err := extra(w, slice); err != nil {
				return nil, err
			}
		}
	}
	out := make([]result, len(targets))
	for i, t := range targets {
		out[i] = summarize(op, t.name, samples[i])
	}
	return out, ctx.Err()
}

func send(ctx context.Context, client *http.Client, t *target, r request, buf *bytes.Buffer) (int, int64, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.base+r.path, body)
	if err != nil {
		return 0, 0, err
	}
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	n, err := buf.ReadFrom(resp.Body)
	return resp.StatusCode, n, err
}

// idOf reads the "id" of a certificate response without decoding all of it.
func idOf(body []byte) (int64, bool) {
	i := bytes.Index(body, []byte(`"id":`))
	if i < 0 {
		return 0, false
	}
	rest := body[i+len(`"id":`):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	id, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return id, err == nil
}

// percentile of sorted durations by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
