package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", for the integrity check

	"github.com/ssod/ssod/internal/testcert"
)

// TestCrashSafety runs the real binary under concurrent writes, kills it
// with SIGKILL at a random moment, checks the database file, restarts it
// on the same file and checks that every acknowledged write is there
// exactly as acknowledged, that nothing refused or never acknowledged
// appeared, and that a write in flight at the kill either happened whole
// or not at all.
//
// SSOD_CRASH_KILLS=N sets the number of kills (default 3).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly; not in -short")
	}
	kills := 3
	if s := os.Getenv("SSOD_CRASH_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SSOD_CRASH_KILLS=%q: want a positive number", s)
		}
		kills = n
	}
	const writers = 4
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d kills, %d writers", seed, kills, writers)
	rng := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	bin := buildSSOD(t)
	db := filepath.Join(dir, "ssod.db")
	pool := crashCertPool(t, 32)

	proc := crashStart(t, bin, db)
	key := keyPattern.FindString(proc.logs.String())
	if key == "" {
		t.Fatalf("first start printed no key:\n%s", proc.logs.String())
	}
	ws := make([]*crashWriter, writers)
	for i := range ws {
		ws[i] = &crashWriter{t: t, id: i, key: key, pool: pool, rng: rand.New(rand.NewPCG(seed, uint64(i+1))),
			ints: map[string]*crashInt{}, certs: map[int64]*crashCert{}}
	}
	var st crashStats
	for kill := 1; kill <= kills; kill++ {
		// Writers run until the kill; each stops at its first transport
		// error, leaving at most one write whose outcome is unknown.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, w := range ws {
			w.url, w.stop = proc.url, stop
			wg.Go(w.run)
		}
		time.Sleep(time.Duration(150+rng.IntN(1100)) * time.Millisecond)
		if err := proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		_ = proc.cmd.Wait() // "signal: killed"
		if t.Failed() {
			t.FailNow()
		}

		crashIntegrityCheck(t, db)
		proc = crashStart(t, bin, db)
		if k := keyPattern.FindString(proc.logs.String()); k != "" {
			t.Fatalf("restart %d printed a new key: the database looked empty", kill)
		}
		v := crashVerify(t, proc.url, key, ws)
		st.add(v)
		t.Logf("kill %d: %d writes acknowledged and verified, %d refused, %d in flight (%d applied, %d not); now %d integrations, %d certificates",
			kill, v.acked, v.refused, v.inFlight, v.applied, v.notApplied, v.integrations, v.certificates)
		if t.Failed() {
			t.FailNow()
		}
	}
	// A clean stop after all that.
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.cmd.Wait(); err != nil {
		t.Errorf("ssod did not stop cleanly on SIGTERM: %v\n%s", err, proc.logs.String())
	}
	crashIntegrityCheck(t, db)
	t.Logf("TOTAL: %d kills, %d acknowledged writes verified, %d refused writes absent, %d in-flight writes (%d applied whole, %d not at all), integrity_check ok %d times",
		kills, st.acked, st.refused, st.inFlight, st.applied, st.notApplied, kills+1)
}

// crashPoolCert is a certificate the writers upload, with the window the
// server must report for it.
type crashPoolCert struct {
	pem                 string
	notBefore, notAfter int64
}

func crashCertPool(t *testing.T, n int) []crashPoolCert {
	t.Helper()
	pool := make([]crashPoolCert, n)
	for i := range pool {
		c := testcert.New(t, testcert.Options{
			CommonName: fmt.Sprintf("crash idp %d", i),
			NotBefore:  time.Unix(1_600_000_000+int64(i)*86_400, 0),
		})
		x, err := x509.ParseCertificate(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		pool[i] = crashPoolCert{pem: c.PEM, notBefore: x.NotBefore.Unix(), notAfter: x.NotAfter.Unix()}
	}
	return pool
}

// crashProc is one running `ssod serve` subprocess.
type crashProc struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

func crashStart(t *testing.T, bin, db string) *crashProc {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--rate-limit", "off",
		"--log-level", "info", "--log-format", "text") // the listen line is an info line in text
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenLine.FindStringSubmatch(logs.String()); m != nil {
			return &crashProc{cmd: cmd, url: "http://" + m[1], logs: logs}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("ssod did not start:\n%s", logs.String())
	return nil
}

// crashIntegrityCheck opens the database read-only, as the killed process
// left it, and runs SQLite's own checks.
func crashIntegrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var results []string
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		results = append(results, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(results) != 1 || results[0] != "ok" {
		t.Fatalf("PRAGMA integrity_check = %q, want ok", results)
	}
	fk, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	defer fk.Close()
	if fk.Next() {
		t.Fatal("PRAGMA foreign_key_check reports a dangling reference")
	}
}

// crashIntState and crashCertState are objects as the API shows them
// (integrations always with si=true).
type crashIntState struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	Enabled              bool   `json:"enabled"`
	SigninURL            string `json:"signin_url"`
	SignoutURL           string `json:"signout_url"`
	EntityID             string `json:"entity_id"`
	CompletedIntegration bool   `json:"completed_integration"`
	LastUpdated          int64  `json:"last_updated"`
}

type crashCertState struct {
	ID                int64  `json:"id"`
	PublicCertificate string `json:"public_certificate"`
	NotBefore         int64  `json:"not_before"`
	NotAfter          int64  `json:"not_after"`
	IntergrationID    string `json:"intergration_id"`
	IntegrationID     string `json:"integration_id"`
	Enabled           bool   `json:"enabled"`
}

// crashInt and crashCert are the last acknowledged state of an object;
// live is false once its deletion was acknowledged.
type crashInt struct {
	state crashIntState
	live  bool
}

type crashCert struct {
	state crashCertState
	live  bool
}

// crashOp is a write whose outcome is unknown: the process died while it
// was in flight. want is the state it would have left (ID and LastUpdated
// not known in advance).
type crashOp struct {
	kind      string
	intID     string
	certID    int64
	wantInt   crashIntState
	wantCert  crashCertState
	intOldCts []int64 // delete-integration: the certificates it would take along
}

// crashWriter writes to objects only it owns, so that for each object the
// order of acknowledgements is the order of commits.
type crashWriter struct {
	t    *testing.T
	id   int
	key  string
	url  string
	stop chan struct{}
	pool []crashPoolCert
	rng  *rand.Rand

	ints     map[string]*crashInt
	certs    map[int64]*crashCert
	deadInts []string // acknowledged deleted: certificate writes naming them must be refused
	seq      int
	pending  *crashOp

	acked, refused int     // since the last verification
	justDeleted    []int64 // certificates deleted since the last verification
}

var crashClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// send makes one request; err is a transport error (the process is gone).
func (w *crashWriter) send(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, w.url+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := crashClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, got, nil
}

func (w *crashWriter) live() (ints []string, certs []int64) {
	for id, in := range w.ints {
		if in.live {
			ints = append(ints, id)
		}
	}
	for id, c := range w.certs {
		if c.live {
			certs = append(certs, id)
		}
	}
	// Map order is random but not seeded; sort for reproducible choices.
	slices.Sort(ints)
	slices.Sort(certs)
	return ints, certs
}

// run writes until stopped or until a transport error.
func (w *crashWriter) run() {
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		if !w.step() {
			return
		}
	}
}

// step performs one random write; false means a transport error ended it.
func (w *crashWriter) step() bool {
	ints, certs := w.live()
	pick := w.rng.IntN(100)
	switch {
	case len(ints) < 2 || pick < 10 && len(ints) < 12:
		return w.createIntegration()
	case pick < 25:
		return w.patchIntegration(ints[w.rng.IntN(len(ints))])
	case pick < 30:
		return w.deleteIntegration(ints[w.rng.IntN(len(ints))])
	case pick < 58 && len(certs) < 40 || len(certs) == 0:
		return w.createCertificate(ints[w.rng.IntN(len(ints))])
	case pick < 76:
		return w.patchCertificate(certs[w.rng.IntN(len(certs))], ints)
	case pick < 88:
		return w.deleteCertificate(certs[w.rng.IntN(len(certs))])
	case pick < 94 && len(w.deadInts) > 0:
		// Refused by the store itself: the integration is gone.
		dead := w.deadInts[w.rng.IntN(len(w.deadInts))]
		status, body, err := w.send("POST", "/v3/sso/certificates", map[string]any{"public_certificate": w.pool[0].pem, "integration_id": dead})
		return w.refusal(status, body, err, "create a certificate on a deleted integration")
	case pick < 97 && len(w.deadInts) > 0:
		dead := w.deadInts[w.rng.IntN(len(w.deadInts))]
		status, body, err := w.send("PATCH", fmt.Sprintf("/v3/sso/certificates/%d", certs[w.rng.IntN(len(certs))]),
			map[string]any{"enabled": false, "integration_id": dead})
		return w.refusal(status, body, err, "move a certificate to a deleted integration")
	default:
		w.seq++
		status, body, err := w.send("PATCH", "/v3/sso/integrations/"+ints[w.rng.IntN(len(ints))],
			map[string]any{"name": fmt.Sprintf("refused w%d #%d", w.id, w.seq), "signout_url": "ftp://idp.example.com/"})
		return w.refusal(status, body, err, "rename an integration beside a bad URL")
	}
}

// refusal checks a write the server must refuse with 400.
func (w *crashWriter) refusal(status int, body []byte, err error, what string) bool {
	if err != nil {
		return false // refused or not, nothing may change
	}
	if status != http.StatusBadRequest {
		w.t.Errorf("writer %d: %s -> %d %s, want 400", w.id, what, status, body)
	}
	w.refused++
	return true
}

// lost ends the writer after a transport error. A refused connection means
// the request never reached the server, so it cannot have changed anything;
// any other error leaves the outcome of the pending write unknown.
func (w *crashWriter) lost(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		w.pending = nil
	}
	return false
}

func (w *crashWriter) unexpected(what string, status int, body []byte) bool {
	w.t.Errorf("writer %d: %s -> %d %s", w.id, what, status, body)
	return false
}

func (w *crashWriter) createIntegration() bool {
	w.seq++
	want := crashIntState{
		Name:                 fmt.Sprintf("crash w%d #%d", w.id, w.seq),
		Enabled:              w.rng.IntN(2) == 0,
		SigninURL:            fmt.Sprintf("https://idp%d.example.com/sso/%d", w.id, w.seq),
		SignoutURL:           fmt.Sprintf("https://idp%d.example.com/slo/%d", w.id, w.seq),
		EntityID:             fmt.Sprintf("urn:crash:%d:%d", w.id, w.seq),
		CompletedIntegration: w.rng.IntN(2) == 0,
	}
	w.pending = &crashOp{kind: "create integration", wantInt: want}
	status, body, err := w.send("POST", "/v3/sso/integrations?si=true", map[string]any{
		"name": want.Name, "enabled": want.Enabled, "signin_url": want.SigninURL, "signout_url": want.SignoutURL,
		"entity_id": want.EntityID, "completed_integration": want.CompletedIntegration,
	})
	if err != nil {
		return w.lost(err)
	}
	w.pending = nil
	if status != http.StatusOK {
		return w.unexpected("create integration", status, body)
	}
	var got crashIntState
	if json.Unmarshal(body, &got) != nil || got.ID == "" || !crashSameInt(got, want) {
		return w.unexpected("create integration answered another integration", status, body)
	}
	w.ints[got.ID] = &crashInt{state: got, live: true}
	w.acked++
	return true
}

// crashSameInt compares all but the id and last_updated.
func crashSameInt(a, b crashIntState) bool {
	a.ID, a.LastUpdated, b.ID, b.LastUpdated = "", 0, "", 0
	return a == b
}

func (w *crashWriter) patchIntegration(id string) bool {
	old := w.ints[id].state
	want := old
	patch := map[string]any{}
	w.seq++
	if w.rng.IntN(2) == 0 {
		want.Name = fmt.Sprintf("crash w%d #%d renamed", w.id, w.seq)
		patch["name"] = want.Name
	}
	if w.rng.IntN(2) == 0 {
		want.Enabled = !want.Enabled
		patch["enabled"] = want.Enabled
	}
	if w.rng.IntN(2) == 0 {
		want.CompletedIntegration = !want.CompletedIntegration
		patch["completed_integration"] = want.CompletedIntegration
	}
	if len(patch) == 0 || w.rng.IntN(3) == 0 {
		want.SigninURL = fmt.Sprintf("https://idp%d.example.com/sso/%d/v2", w.id, w.seq)
		patch["signin_url"] = want.SigninURL
	}
	w.pending = &crashOp{kind: "patch integration", intID: id, wantInt: want}
	status, body, err := w.send("PATCH", "/v3/sso/integrations/"+id+"?si=true", patch)
	if err != nil {
		return w.lost(err)
	}
	w.pending = nil
	if status != http.StatusOK {
		return w.unexpected("patch integration", status, body)
	}
	var got crashIntState
	if json.Unmarshal(body, &got) != nil || got.ID != id || !crashSameInt(got, want) || got.LastUpdated < old.LastUpdated {
		return w.unexpected("patch integration answered another state", status, body)
	}
	w.ints[id].state = got
	w.acked++
	return true
}

func (w *crashWriter) certsOf(intID string) []int64 {
	var out []int64
	for id, c := range w.certs {
		if c.live && c.state.IntegrationID == intID {
			out = append(out, id)
		}
	}
	return out
}

func (w *crashWriter) deleteIntegration(id string) bool {
	w.pending = &crashOp{kind: "delete integration", intID: id, intOldCts: w.certsOf(id)}
	status, body, err := w.send("DELETE", "/v3/sso/integrations/"+id, nil)
	if err != nil {
		return w.lost(err)
	}
	w.pending = nil
	if status != http.StatusNoContent {
		return w.unexpected("delete integration", status, body)
	}
	w.markIntegrationDeleted(id)
	w.acked++
	return true
}

func (w *crashWriter) markIntegrationDeleted(id string) {
	w.ints[id].live = false
	w.deadInts = append(w.deadInts, id)
	for _, c := range w.certsOf(id) {
		w.certs[c].live = false
		w.justDeleted = append(w.justDeleted, c)
	}
}

// usedPEMs is the PEM of every live certificate of the integration but
// self: ssod refuses a duplicate.
func (w *crashWriter) usedPEMs(intID string, self int64) map[string]bool {
	used := map[string]bool{}
	for id, c := range w.certs {
		if c.live && id != self && c.state.IntegrationID == intID {
			used[c.state.PublicCertificate] = true
		}
	}
	return used
}

// freshCert picks a pool certificate that the integration holds in no
// certificate but self; ok is false when it holds every one.
func (w *crashWriter) freshCert(intID string, self int64) (_ crashPoolCert, ok bool) {
	used := w.usedPEMs(intID, self)
	start := w.rng.IntN(len(w.pool))
	for i := range w.pool {
		if pc := w.pool[(start+i)%len(w.pool)]; !used[pc.pem] {
			return pc, true
		}
	}
	return crashPoolCert{}, false
}

func (w *crashWriter) createCertificate(intID string) bool {
	pc, ok := w.freshCert(intID, 0)
	if !ok {
		return true // nothing ssod would take
	}
	want := crashCertState{PublicCertificate: pc.pem, NotBefore: pc.notBefore, NotAfter: pc.notAfter,
		IntegrationID: intID, IntergrationID: intID, Enabled: true}
	body := map[string]any{"public_certificate": pc.pem}
	if w.rng.IntN(2) == 0 {
		body["integration_id"] = intID
	} else {
		body["intergration_id"] = intID // the spec's spelling
	}
	if w.rng.IntN(2) == 0 {
		want.Enabled = w.rng.IntN(2) == 0
		body["enabled"] = want.Enabled
	}
	w.pending = &crashOp{kind: "create certificate", intID: intID, wantCert: want}
	status, resp, err := w.send("POST", "/v3/sso/certificates", body)
	if err != nil {
		return w.lost(err)
	}
	w.pending = nil
	if status != http.StatusOK {
		return w.unexpected("create certificate", status, resp)
	}
	var got crashCertState
	if json.Unmarshal(resp, &got) != nil || got.ID <= 0 || !crashSameCert(got, want) {
		return w.unexpected("create certificate answered another certificate", status, resp)
	}
	w.certs[got.ID] = &crashCert{state: got, live: true}
	w.acked++
	return true
}

func crashSameCert(a, b crashCertState) bool {
	a.ID, b.ID = 0, 0
	return a == b
}

func (w *crashWriter) patchCertificate(id int64, ints []string) bool {
	old := w.certs[id].state
	want := old
	patch := map[string]any{}
	if w.rng.IntN(2) == 0 {
		want.Enabled = !want.Enabled
		patch["enabled"] = want.Enabled
	}
	if w.rng.IntN(2) == 0 {
		pc := w.pool[w.rng.IntN(len(w.pool))]
		want.PublicCertificate, want.NotBefore, want.NotAfter = pc.pem, pc.notBefore, pc.notAfter
		patch["public_certificate"] = pc.pem
	}
	if len(patch) == 0 || w.rng.IntN(3) == 0 {
		to := ints[w.rng.IntN(len(ints))]
		want.IntegrationID, want.IntergrationID = to, to
		patch["integration_id"] = to
	}
	if w.usedPEMs(want.IntegrationID, id)[want.PublicCertificate] {
		// It would duplicate another certificate of its integration: it
		// takes one the integration does not hold.
		pc, ok := w.freshCert(want.IntegrationID, id)
		if !ok {
			return true
		}
		want.PublicCertificate, want.NotBefore, want.NotAfter = pc.pem, pc.notBefore, pc.notAfter
		patch["public_certificate"] = pc.pem
	}
	w.pending = &crashOp{kind: "patch certificate", certID: id, wantCert: want}
	status, body, err := w.send("PATCH", fmt.Sprintf("/v3/sso/certificates/%d", id), patch)
	if err != nil {
		return w.lost(err)
	}
	w.pending = nil
	if status != http.StatusOK {
		return w.unexpected("patch certificate", status, body)
	}
	var got crashCertState
	if json.Unmarshal(body, &got) != nil || got != want {
		return w.unexpected("patch certificate answered another state", status, body)
	}
	w.certs[id].state = got
	w.acked++
	return true
}

func (w *crashWriter) deleteCertificate(id int64) bool {
	w.pending = &crashOp{kind: "delete certificate", certID: id}
	status, body, err := w.send("DELETE", fmt.Sprintf("/v3/sso/certificates/%d", id), nil)
	if err != nil {
		return w.lost(err)
	}
	w.pending = nil
	var got crashCertState
	if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got != w.certs[id].state {
		return w.unexpected("delete certificate", status, body)
	}
	w.certs[id].live = false
	w.justDeleted = append(w.justDeleted, id)
	w.acked++
	return true
}

// crashRound is what one verification found.
type crashRound struct {
	acked, refused, inFlight, applied, notApplied int
	integrations, certificates                    int
}

type crashStats crashRound

func (s *crashStats) add(r crashRound) {
	s.acked += r.acked
	s.refused += r.refused
	s.inFlight += r.inFlight
	s.applied += r.applied
	s.notApplied += r.notApplied
}

// crashVerify compares what the restarted server holds with what the
// writers were told, resolves the writes in flight at the kill, and leaves
// the writers' models equal to the stored state.
func crashVerify(t *testing.T, url, key string, ws []*crashWriter) crashRound {
	t.Helper()
	reader := &crashWriter{t: t, key: key, url: url}
	get := func(path string, v any) int {
		t.Helper()
		status, body, err := reader.send("GET", path, nil)
		if err != nil {
			t.Fatalf("GET %s after restart: %v", path, err)
		}
		if status == http.StatusOK && v != nil {
			if err := json.Unmarshal(body, v); err != nil {
				t.Fatalf("GET %s: %v: %s", path, err, body)
			}
		}
		return status
	}
	var list []crashIntState
	if s := get("/v3/sso/integrations?si=true", &list); s != http.StatusOK {
		t.Fatalf("list integrations after restart -> %d", s)
	}
	ints := map[string]crashIntState{}
	certs := map[int64]crashCertState{}
	for _, in := range list {
		ints[in.ID] = in
		var cl []crashCertState
		if s := get("/v3/sso/integrations/"+in.ID+"/certificates", &cl); s != http.StatusOK {
			t.Fatalf("list certificates of %s after restart -> %d", in.ID, s)
		}
		for _, c := range cl {
			certs[c.ID] = c
		}
	}
	var r crashRound
	r.integrations, r.certificates = len(ints), len(certs)
	known := func(id string) bool {
		for _, w := range ws {
			if w.ints[id] != nil {
				return true
			}
		}
		return false
	}
	knownCert := func(id int64) bool {
		for _, w := range ws {
			if w.certs[id] != nil {
				return true
			}
		}
		return false
	}

	// First resolve the writes in flight: each happened whole or not at all.
	for _, w := range ws {
		r.acked += w.acked
		r.refused += w.refused
		w.acked, w.refused = 0, 0
		op := w.pending
		w.pending = nil
		if op == nil {
			continue
		}
		r.inFlight++
		applied := false
		switch op.kind {
		case "create integration":
			for id, in := range ints {
				if !known(id) && in.Name == op.wantInt.Name {
					if !crashSameInt(in, op.wantInt) {
						t.Errorf("writer %d: in-flight create stored %+v, want %+v", w.id, in, op.wantInt)
					}
					w.ints[id] = &crashInt{state: in, live: true}
					applied = true
				}
			}
		case "patch integration":
			old := w.ints[op.intID].state
			in, ok := ints[op.intID]
			switch {
			case !ok:
				t.Errorf("writer %d: in-flight PATCH of integration %s lost it", w.id, op.intID)
			case in == old:
			case crashSameInt(in, op.wantInt) && in.ID == old.ID && in.LastUpdated >= old.LastUpdated:
				w.ints[op.intID].state = in
				applied = true
			default:
				t.Errorf("writer %d: in-flight PATCH left integration %+v: neither %+v nor %+v", w.id, in, old, op.wantInt)
			}
		case "delete integration":
			if _, ok := ints[op.intID]; !ok {
				w.markIntegrationDeleted(op.intID) // its certificates must be gone too: checked below
				applied = true
			}
		case "create certificate":
			for id, c := range certs {
				if !knownCert(id) && crashSameCert(c, op.wantCert) && !applied {
					w.certs[id] = &crashCert{state: c, live: true}
					applied = true
				}
			}
		case "patch certificate":
			old := w.certs[op.certID].state
			c, ok := certs[op.certID]
			switch {
			case !ok:
				t.Errorf("writer %d: in-flight PATCH of certificate %d lost it", w.id, op.certID)
			case c == old:
			case c == op.wantCert:
				w.certs[op.certID].state = c
				applied = true
			default:
				t.Errorf("writer %d: in-flight PATCH left certificate %+v: neither %+v nor %+v", w.id, c, old, op.wantCert)
			}
		case "delete certificate":
			if _, ok := certs[op.certID]; !ok {
				w.certs[op.certID].live = false
				w.justDeleted = append(w.justDeleted, op.certID)
				applied = true
			}
		}
		if applied {
			r.applied++
		} else {
			r.notApplied++
		}
	}

	// Then every acknowledged state must be there exactly, every
	// acknowledged deletion gone, and nothing else present.
	accounted := map[string]bool{}
	accountedCerts := map[int64]bool{}
	for _, w := range ws {
		for id, in := range w.ints {
			got, ok := ints[id]
			switch {
			case in.live && !ok:
				t.Errorf("writer %d: acknowledged integration %s is missing", w.id, id)
			case in.live && got != in.state:
				t.Errorf("writer %d: integration %s is %+v, acknowledged %+v", w.id, id, got, in.state)
			case !in.live && ok:
				t.Errorf("writer %d: integration %s is back after its deletion was acknowledged", w.id, id)
			}
			accounted[id] = true
		}
		for id, c := range w.certs {
			got, ok := certs[id]
			switch {
			case c.live && !ok:
				t.Errorf("writer %d: acknowledged certificate %d is missing", w.id, id)
			case c.live && got != c.state:
				t.Errorf("writer %d: certificate %d is %+v, acknowledged %+v", w.id, id, got, c.state)
			case !c.live && ok:
				t.Errorf("writer %d: certificate %d is back after its deletion was acknowledged", w.id, id)
			}
			accountedCerts[id] = true
		}
		// Deleted rows are gone, not merely unlisted.
		for _, id := range w.justDeleted {
			if s := get(fmt.Sprintf("/v3/sso/certificates/%d", id), nil); s != http.StatusNotFound {
				t.Errorf("writer %d: deleted certificate %d -> %d, want 404", w.id, id, s)
			}
		}
		w.justDeleted = nil
	}
	for id, in := range ints {
		if !accounted[id] {
			t.Errorf("integration %+v appeared though no write of it was acknowledged or in flight", in)
		}
	}
	for id, c := range certs {
		if !accountedCerts[id] {
			t.Errorf("certificate %d (integration %s) appeared though no write of it was acknowledged or in flight", id, c.IntegrationID)
		}
	}
	return r
}
