package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the driver ssod itself uses, for direct seeding
)

// dataset is one database prepared for the benchmark and the server on it.
type dataset struct {
	size              int
	db                string
	key               string   // the API key of account "sload"
	integrations      []string // each with its share of the certificates; read
	writeIntegrations []string // where POST adds certificates; never read
	certs             []int64  // the seeded certificates; read and patched
	seedMethod        string
	seedTook          time.Duration
	startups          []time.Duration
	server            *ssodServer
	memAfterReads     memory // after the GET and list load
	preparedBytes     int64  // database and WAL once prepared
}

// seedRate is certificates stored per second while seeding.
func (d *dataset) seedRate() float64 {
	if d.seedTook <= 0 {
		return 0
	}
	return float64(d.size) / d.seedTook.Seconds()
}

// dbBytes is the size of the database file and its WAL.
func (d *dataset) dbBytes() int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(d.db + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

const (
	benchAccount = "sload"
	// writeIntegrations hold what POST creates: at ssod's limit of 100
	// certificates each, room for 6,400 more creates than DELETEs.
	writeIntegrations = 64
	startupRuns       = 3
)

// prepare makes a database holding size certificates for account "sload"
// and leaves ssod running on it. The schema comes from a first `ssod serve`;
// the account and its key from the CLI; integrations and certificates
// through the API up to cfg.apiSeedMax, directly in SQLite above that.
func prepare(ctx context.Context, cfg config, bin, dir string, size int, maker *certMaker, logf func(string, ...any)) (*dataset, error) {
	ds := &dataset{size: size, db: filepath.Join(dir, fmt.Sprintf("ssod-%d.db", size))}
	if cfg.db != "" {
		ds.db = cfg.db // PostgreSQL, empty: the user's to provide
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(ds.db + suffix)
	}
	first, err := startSSOD(ctx, bin, ds.db, cfg.ssodLogLevel)
	if err != nil {
		return nil, err
	}
	first.stop()
	if first.firstKey() == "" {
		return nil, errors.New("the first start of ssod printed no API key")
	}
	if _, err := ssodCLI(ctx, bin, "accounts", "create", benchAccount, "--db", ds.db); err != nil {
		return nil, err
	}
	key, err := ssodCLI(ctx, bin, "keys", "create", "--account", benchAccount, "--name", "sload", "--db", ds.db)
	if err != nil {
		return nil, err
	}
	if !keyPattern.MatchString(key) {
		return nil, fmt.Errorf("ssod keys create printed %q, not a key", key)
	}
	ds.key = key

	viaAPI := size <= cfg.apiSeedMax
	if !viaAPI {
		ds.seedMethod = "SQLite directly"
		logf("seeding %d certificates directly into SQLite", size)
		pems, err := maker.makeMany(min(size, 1000))
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if ds.integrations, ds.certs, err = seedSQLite(ctx, ds.db, size, cfg.perIntegr, pems, logf); err != nil {
			return nil, err
		}
		ds.seedTook = time.Since(start)
		logf("seeded %d certificates in %s (%.0f/s); database %s", size, ds.seedTook.Round(time.Millisecond), ds.seedRate(), mib(ds.dbBytes()))
	}

	srv, err := startSSOD(ctx, bin, ds.db, cfg.ssodLogLevel)
	if err != nil {
		return nil, err
	}
	api := &apiClient{base: "http://" + srv.addr, key: ds.key, conns: cfg.conns}
	if ds.writeIntegrations, err = api.createIntegrations(ctx, writeIntegrations, "write"); err != nil {
		srv.stop()
		return nil, err
	}
	if viaAPI {
		ds.seedMethod = "the API"
		logf("seeding %d certificates through the API", size)
		pems, err := maker.makeMany(size)
		if err != nil {
			srv.stop()
			return nil, err
		}
		start := time.Now()
		n := (size + cfg.perIntegr - 1) / cfg.perIntegr
		if ds.integrations, err = api.createIntegrations(ctx, n, "read"); err == nil {
			ds.certs, err = api.createCertificates(ctx, pems, ds.integrations)
		}
		if err != nil {
			srv.stop()
			return nil, err
		}
		ds.seedTook = time.Since(start)
		logf("seeded %d certificates in %d integrations in %s (%.0f/s)", size, n, ds.seedTook.Round(time.Millisecond), ds.seedRate())
	}
	srv.stop()

	// Start-up: exec to the listen line, on the full database; the last
	// start stays up for the measurements.
	for i := range startupRuns {
		if srv, err = startSSOD(ctx, bin, ds.db, cfg.ssodLogLevel); err != nil {
			return nil, err
		}
		ds.startups = append(ds.startups, srv.startup)
		if i < startupRuns-1 {
			srv.stop()
		}
	}
	ds.server = srv
	ds.preparedBytes = ds.dbBytes()
	logf("ssod on %d certificates starts in %s (median of %d)", size, median(ds.startups).Round(10*time.Microsecond), startupRuns)
	return ds, nil
}

// apiClient prepares data through ssod's API with concurrent requests.
type apiClient struct {
	base, key string
	conns     int
}

func (a *apiClient) post(ctx context.Context, client *http.Client, path string, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: status %d: %.300s", path, resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// parallel runs fn(i) for i in [0, n) on a.conns workers and stops at the
// first error.
func (a *apiClient) parallel(ctx context.Context, n int, fn func(client *http.Client, i int) error) error {
	client, tr := newClient(a.conns)
	defer tr.CloseIdleConnections()
	var next atomic.Int64
	var once sync.Once
	var firstErr error
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(a.conns, n) {
		wg.Go(func() {
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(client, i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func (a *apiClient) createIntegrations(ctx context.Context, n int, kind string) ([]string, error) {
	ids := make([]string, n)
	err := a.parallel(ctx, n, func(client *http.Client, i int) error {
		var out struct {
			ID string `json:"id"`
		}
		host := fmt.Sprintf("idp-%s-%d.example.com", kind, i)
		err := a.post(ctx, client, "/v3/sso/integrations", map[string]any{
			"name":        "sload " + kind + " " + strconv.Itoa(i),
			"enabled":     true,
			"signin_url":  "https://" + host + "/app/sso/saml",
			"signout_url": "https://" + host + "/login/signout",
			"entity_id":   "http://www.okta.com/" + host,
		}, &out)
		ids[i] = out.ID
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create integrations: %w", err)
	}
	return ids, nil
}

// createCertificates posts pems[i] to integrations[i % len(integrations)].
func (a *apiClient) createCertificates(ctx context.Context, pems []string, integrations []string) ([]int64, error) {
	ids := make([]int64, len(pems))
	err := a.parallel(ctx, len(pems), func(client *http.Client, i int) error {
		var out struct {
			ID int64 `json:"id"`
		}
		err := a.post(ctx, client, "/v3/sso/certificates", map[string]any{
			"public_certificate": pems[i],
			"integration_id":     integrations[i%len(integrations)],
		}, &out)
		ids[i] = out.ID
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create certificates: %w", err)
	}
	return ids, nil
}

// openSQLite opens the database file with the driver ssod uses, for setup
// writes that need not be durable: the server is not running or not writing.
func openSQLite(path string) (*sql.DB, error) {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)&_pragma=foreign_keys(0)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func accountID(ctx context.Context, db *sql.DB) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE name = ?`, benchAccount).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("account %s: %w", benchAccount, err)
	}
	return id, nil
}

// seedBatch is how many certificates go into one transaction.
const seedBatch = 50000

// seedSQLite writes size certificates, perIntegration to an integration,
// straight into the tables ssod reads, in big transactions. pems are reused
// in turn. Unlike the API it writes no audit events. It returns the
// integration ids and the certificate ids.
func seedSQLite(ctx context.Context, path string, size, perIntegration int, pems []string, logf func(string, ...any)) ([]string, []int64, error) {
	windows, err := validity(pems)
	if err != nil {
		return nil, nil, err
	}
	db, err := openSQLite(path)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	acct, err := accountID(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().Unix()
	var integrations []string
	var integ string
	lastLog := time.Now()
	for done := 0; done < size; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		insInteg, err := tx.PrepareContext(ctx, `INSERT INTO integrations
			(id, account_id, name, enabled, signin_url, signout_url, entity_id, completed_integration, last_updated)
			VALUES (?, ?, ?, 1, ?, ?, ?, 0, ?)`)
		if err != nil {
			tx.Rollback()
			return nil, nil, err
		}
		insCert, err := tx.PrepareContext(ctx, `INSERT INTO certificates
			(account_id, integration_id, public_certificate, not_before, not_after, enabled)
			VALUES (?, ?, ?, ?, ?, 1)`)
		if err != nil {
			tx.Rollback()
			return nil, nil, err
		}
		for end := min(size, done+seedBatch); done < end; done++ {
			if done%perIntegration == 0 {
				integ = newUUID()
				n := len(integrations)
				host := fmt.Sprintf("idp-read-%d.example.com", n)
				if _, err := insInteg.ExecContext(ctx, integ, acct, "sload read "+strconv.Itoa(n),
					"https://"+host+"/app/sso/saml", "https://"+host+"/login/signout", "http://www.okta.com/"+host, now); err != nil {
					tx.Rollback()
					return nil, nil, fmt.Errorf("insert integration: %w", err)
				}
				integrations = append(integrations, integ)
			}
			k := done % len(pems)
			if _, err := insCert.ExecContext(ctx, acct, integ, pems[k], windows[k][0], windows[k][1]); err != nil {
				tx.Rollback()
				return nil, nil, fmt.Errorf("insert certificate: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return nil, nil, err
		}
		if time.Since(lastLog) > 10*time.Second {
			logf("  %d of %d certificates", done, size)
			lastLog = time.Now()
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id FROM certificates WHERE account_id = ? ORDER BY id`, acct)
	if err != nil {
		return nil, nil, err
	}
	certs := make([]int64, 0, size)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, err
		}
		certs = append(certs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	// Leave an empty WAL, as a server that shut down cleanly does.
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, nil, err
	}
	return integrations, certs, nil
}

// topUpStock writes n certificates into the write integrations while ssod
// runs, for DELETE to remove, and returns their ids.
func topUpStock(ctx context.Context, ds *dataset, n int, pems []string) ([]int64, error) {
	windows, err := validity(pems)
	if err != nil {
		return nil, err
	}
	if isPostgres(ds.db) {
		return topUpStockPostgres(ctx, ds, n, pems, windows)
	}
	db, err := openSQLite(ds.db)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	acct, err := accountID(ctx, db)
	if err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO certificates
		(account_id, integration_id, public_certificate, not_before, not_after, enabled) VALUES (?, ?, ?, ?, ?, 1)`)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, n)
	for i := range n {
		k := i % len(pems)
		res, err := ins.ExecContext(ctx, acct, ds.writeIntegrations[i%len(ds.writeIntegrations)], pems[k], windows[k][0], windows[k][1])
		if err != nil {
			return nil, err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, tx.Commit()
}

// validity reads each certificate's not_before and not_after, as ssod
// stores them.
func validity(pems []string) ([][2]int64, error) {
	out := make([][2]int64, len(pems))
	for i, p := range pems {
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			return nil, errors.New("generated certificate is not PEM")
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out[i] = [2]int64{c.NotBefore.Unix(), c.NotAfter.Unix()}
	}
	return out, nil
}

// newUUID is a random lower-case UUID v4, the form of ssod's integration ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// commitLoop is the durable-commit ceiling: a bare loop of SQLite commits
// (WAL, synchronous=FULL, one writer, BEGIN IMMEDIATE), each inserting one
// row shaped and sized like a certificate row. It is the most POST could do.
type commitLoop struct {
	db       *sql.DB
	path     string
	pem      string
	integ    string
	rowBytes int
}

func openCommitLoop(ctx context.Context, dir, pemText string) (*commitLoop, error) {
	path := filepath.Join(dir, "commit-ceiling.db")
	removeDB(path)
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE certificates (
		id                 INTEGER PRIMARY KEY AUTOINCREMENT,
		account_id         INTEGER NOT NULL,
		integration_id     TEXT    NOT NULL,
		public_certificate TEXT    NOT NULL,
		not_before         INTEGER NOT NULL,
		not_after          INTEGER NOT NULL,
		enabled            INTEGER NOT NULL
	) STRICT;
	CREATE INDEX certificates_integration ON certificates (integration_id, id);`); err != nil {
		db.Close()
		return nil, err
	}
	integ := newUUID()
	return &commitLoop{db: db, path: path, pem: pemText, integ: integ, rowBytes: len(pemText) + len(integ) + 5*8}, nil
}

func (c *commitLoop) close() {
	c.db.Close()
	removeDB(c.path)
}

// run commits for warmup unmeasured, then for duration measured.
func (c *commitLoop) run(ctx context.Context, warmup, duration time.Duration) (sample, error) {
	var s sample
	measureFrom := time.Now().Add(warmup)
	deadline := measureFrom.Add(duration)
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(deadline) {
			break
		}
		tx, err := c.db.BeginTx(ctx, nil)
		if err != nil {
			return s, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO certificates
			(account_id, integration_id, public_certificate, not_before, not_after, enabled) VALUES (?, ?, ?, ?, ?, 1)`,
			1, c.integ, c.pem, now.Unix()-3600, now.Unix()+86400*3650); err != nil {
			tx.Rollback()
			return s, err
		}
		if err := tx.Commit(); err != nil {
			return s, err
		}
		if !now.Before(measureFrom) {
			s.lats = append(s.lats, time.Since(now))
			s.ok++
		}
	}
	s.elapsed = max(0, time.Since(measureFrom))
	return s, ctx.Err()
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// topUpStockPostgres is topUpStock on PostgreSQL: rows go in through pgx,
// a few thousand per statement.
func topUpStockPostgres(ctx context.Context, ds *dataset, n int, pems []string, windows [][2]int64) ([]int64, error) {
	conn, err := pgx.Connect(ctx, ds.db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var acct int64
	if err := conn.QueryRow(ctx, `SELECT id FROM accounts WHERE name = $1`, benchAccount).Scan(&acct); err != nil {
		return nil, fmt.Errorf("account %s: %w", benchAccount, err)
	}
	ids := make([]int64, 0, n)
	for len(ids) < n {
		chunk := min(n-len(ids), 2000)
		integ, pem := make([]string, chunk), make([]string, chunk)
		nb, na := make([]int64, chunk), make([]int64, chunk)
		for j := range chunk {
			i := len(ids) + j
			k := i % len(pems)
			integ[j], pem[j] = ds.writeIntegrations[i%len(ds.writeIntegrations)], pems[k]
			nb[j], na[j] = windows[k][0], windows[k][1]
		}
		rows, err := conn.Query(ctx, `INSERT INTO certificates (account_id, integration_id, public_certificate, not_before, not_after, enabled)
			SELECT $1, i, p, b, a, true FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS t(i, p, b, a)
			RETURNING id`, acct, integ, pem, nb, na)
		if err != nil {
			return nil, err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}
