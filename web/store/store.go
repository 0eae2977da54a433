// Package store keeps the web checker's scans in SQL: SQLite in one file by
// default (the pure-Go modernc.org/sqlite driver, so the binary stays
// cgo-free), or PostgreSQL through pgx when several instances share one
// database.
//
// The jobs that run scans, re-checks and webhook deliveries are River's
// (github.com/riverqueue/river), in River's own tables in the same database:
// NewQueue returns a River client on it. The store keeps what the jobs
// produce: a scan is recorded as queued the moment it is submitted, marked
// running when a worker starts it, and finished once as done or failed
// (Finish changes only an unfinished scan, so a job River retries after a
// crash cannot record a second outcome). Watches, the events found between
// a watch's scans, webhook deliveries and API tokens live here too.
//
// Both databases run the same versioned migrations (see migrations.go),
// then River's own migrations (rivermigrate), at Open; the queries are
// the same on both, and the few differences between the dialects are in
// dialect.go.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is where a scan is in its life.
type State string

// The states of a scan. Queued and Running scans are unfinished; Done and
// Failed are final.
const (
	Queued  State = "queued"  // waiting for a worker
	Running State = "running" // a worker is scanning it
	Done    State = "done"    // finished with a result
	Failed  State = "failed"  // could not be scanned; Error says why
)

// Final reports whether s is a state a scan never leaves.
func (s State) Final() bool { return s == Done || s == Failed }

// ErrNotFound is returned when no scan has the requested ID.
var ErrNotFound = errors.New("scan not found")

// Scan is one scan request and, once finished, its outcome.
type Scan struct {
	ID     string // 26 characters of base32: 128 random bits
	Target string // as the user typed it
	URL    string // the normalised URL that is scanned
	// Site names the site the scan belongs to, for its history: the host
	// name, followed by ":port" when the port is not the default.
	Site  string
	State State

	CreatedAt  time.Time
	StartedAt  time.Time // zero until a worker claims it
	FinishedAt time.Time // zero until it is done or failed
	// Attempts counts how often a worker started the scan without giving
	// it back cleanly; more than one means a process died while scanning
	// it.
	Attempts int

	// Client is a keyed hash of the client that submitted the scan (for
	// the per-client cap on queued scans); empty for a watch's re-check.
	Client string
	// WatchID is set for a watch's re-check.
	WatchID string

	// A scan has a grade only when it is Done: a failed scan has none,
	// whatever its result document holds.
	Score int    // valid when Done
	Grade string // valid when Done
	Error string // why it failed, for Failed

	// Result is the scan's result document (JSON), set when the scan
	// finished. Listings leave it nil.
	Result []byte
}

// NewID returns a fresh scan ID: 128 random bits in lower-case base32
// without padding, so a permanent link cannot be guessed.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ValidID reports whether id has the shape NewID produces, so a request
// for anything else is answered without touching the database.
func ValidID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// DB is a scan store on SQLite or PostgreSQL. It is safe for concurrent use.
type DB struct {
	db *sql.DB
	c  conns
	d  dialect
}

// Open connects to the database named by dsn and migrates its schema to the
// latest version. A DSN starting with postgres:// or postgresql:// selects
// PostgreSQL; anything else is a SQLite file path (or a "file:" URI).
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, c, err := openDialect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s := &DB{db: c.db, c: c, d: d}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connecting to the %s database: %w", d.title, err)
	}
	if err := migrate(ctx, s.db, d); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrateRiver(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database. River clients made by NewQueue must be
// stopped first.
func (s *DB) Close() error {
	err := s.db.Close()
	if s.c.riverDB != nil {
		s.c.riverDB.Close()
	}
	if s.c.pool != nil {
		s.c.pool.Close()
	}
	return err
}

// Dialect names the database: "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.d.name }

// SchemaVersion returns the version of the newest migration applied.
func (s *DB) SchemaVersion(ctx context.Context) (int, error) {
	return currentVersion(ctx, s.db)
}

// Create records a new queued scan. sc.ID, Target, URL, Site and CreatedAt
// must be set; the state is always Queued. The queue runs in CreatedAt
// order (microseconds; ties in random ID order). The caller then inserts
// the scan's job and calls MarkEnqueued.
func (s *DB) Create(ctx context.Context, sc Scan) error {
	if err := checkNewScan(sc); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.d.q(insertScan), scanInsertArgs(sc)...); err != nil {
		return fmt.Errorf("creating scan %s: %w", sc.ID, err)
	}
	return nil
}

const insertScan = `INSERT INTO scans
	(id, target, url, site, state, created_at, attempts, client, watch_id)
	VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?)`

func checkNewScan(sc Scan) error {
	if !ValidID(sc.ID) || sc.URL == "" || sc.Site == "" || sc.CreatedAt.IsZero() {
		return fmt.Errorf("creating scan: incomplete scan %q", sc.ID)
	}
	return nil
}

func scanInsertArgs(sc Scan) []any {
	return []any{sc.ID, sc.Target, sc.URL, sc.Site, us(sc.CreatedAt), nullString(sc.Client), nullString(sc.WatchID)}
}

// MarkEnqueued records that the jobs of the scans ids are in River's queue,
// so Unenqueued no longer returns them.
func (s *DB) MarkEnqueued(ctx context.Context, ids []string, now time.Time) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := []any{us(now)}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		q := `UPDATE scans SET enqueued_at = ? WHERE id IN (?` + strings.Repeat(", ?", n-1) + `)`
		if _, err := s.db.ExecContext(ctx, s.d.q(q), args...); err != nil {
			return fmt.Errorf("marking scans enqueued: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// Unenqueued returns up to limit queued scans created before cutoff whose
// job was never recorded as inserted: their process died between creating
// the scan and queueing its job.
func (s *DB) Unenqueued(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id FROM scans
		WHERE state = 'queued' AND enqueued_at IS NULL AND created_at < ?
		ORDER BY created_at LIMIT ?`), us(cutoff), limit)
	if err != nil {
		return nil, fmt.Errorf("looking for scans without a job: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("looking for scans without a job: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

const scanColumns = `id, target, url, site, state, created_at, started_at, finished_at,
	attempts, score, grade, error, client, watch_id`

// Get returns the scan with id, result included, or ErrNotFound.
func (s *DB) Get(ctx context.Context, id string) (Scan, error) {
	if !ValidID(id) {
		return Scan{}, ErrNotFound
	}
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+scanColumns+`, result FROM scans WHERE id = ?`), id)
	sc, err := scanRow(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, ErrNotFound
	}
	if err != nil {
		return Scan{}, fmt.Errorf("reading scan %s: %w", id, err)
	}
	return sc, nil
}

// QueuePosition returns the 1-based place of a queued scan in the queue:
// 1 means it is next. It returns 0 for a scan that is not queued.
func (s *DB) QueuePosition(ctx context.Context, sc Scan) (int, error) {
	if sc.State != Queued {
		return 0, nil
	}
	var n int
	// Submitted scans run before watches' re-checks, so a submitted scan
	// waits only behind other submitted scans.
	watch := `watch_id IS NULL`
	if sc.WatchID != "" {
		watch = `(watch_id IS NULL OR created_at < ? OR (created_at = ? AND id < ?))`
	}
	args := []any{us(sc.CreatedAt), us(sc.CreatedAt), sc.ID}
	q := `SELECT count(*) FROM scans WHERE state = 'queued' AND `
	if sc.WatchID != "" {
		q += watch
	} else {
		q += watch + ` AND (created_at < ? OR (created_at = ? AND id < ?))`
	}
	err := s.db.QueryRowContext(ctx, s.d.q(q), args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue position of %s: %w", sc.ID, err)
	}
	return n + 1, nil
}

// QueueLength returns how many submitted scans are waiting (watches'
// re-checks not counted).
func (s *DB) QueueLength(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM scans WHERE state = 'queued' AND watch_id IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("queue length: %w", err)
	}
	return n, nil
}

// QueuedByClient returns how many unfinished scans client submitted.
func (s *DB) QueuedByClient(ctx context.Context, client string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM scans
		WHERE client = ? AND state IN ('queued', 'running')`), client).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting a client's scans: %w", err)
	}
	return n, nil
}

// Start marks an unfinished scan running and counts the attempt. It
// returns the scan as it was before, so the caller sees a scan that was
// already running (its worker died) or already finished (a retried job
// whose work was done).
func (s *DB) Start(ctx context.Context, id string, now time.Time) (Scan, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return Scan{}, err
	}
	if before.State.Final() {
		return before, nil
	}
	if _, err := s.db.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = 'running', started_at = ?, attempts = attempts + 1
		WHERE id = ? AND state IN ('queued', 'running')`), us(now), id); err != nil {
		return Scan{}, fmt.Errorf("starting scan %s: %w", id, err)
	}
	return before, nil
}

// Release gives a running scan back to the queue without counting the
// attempt, for a server that stops cleanly while scanning it.
func (s *DB) Release(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = 'queued', started_at = NULL, attempts = attempts - 1
		WHERE id = ? AND state = 'running'`), id); err != nil {
		return fmt.Errorf("releasing scan %s: %w", id, err)
	}
	return nil
}

// Outcome is how a scan ended.
type Outcome struct {
	State State // Done or Failed
	// Score and Grade are recorded for Done only: a failed scan has no
	// grade.
	Score  int
	Grade  string
	Error  string
	Result []byte // the result document, if any
}

// ErrFinished is returned by Finish when the scan already has an outcome.
var ErrFinished = errors.New("scan already finished")

// Finish records the outcome of an unfinished scan, with the events found
// by comparing it with the previous scan of its watch (see AddEvents), in
// one transaction. A scan that already has an outcome keeps it: Finish
// returns ErrFinished and records nothing, so a job that runs twice
// cannot finish a scan twice.
func (s *DB) Finish(ctx context.Context, id string, now time.Time, o Outcome, events []Event) error {
	if !o.State.Final() {
		return fmt.Errorf("finishing scan %s: state %q is not final", id, o.State)
	}
	done := o.State == Done
	grade := ""
	if done {
		grade = o.Grade
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("finishing scan %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = ?, finished_at = ?, score = ?, grade = ?, error = ?, result = ?
		WHERE id = ? AND state IN ('queued', 'running')`),
		string(o.State), us(now), nullInt(done, o.Score), nullString(grade),
		nullString(o.Error), nullBytes(o.Result), id)
	if err != nil {
		return fmt.Errorf("finishing scan %s: %w", id, err)
	}
	if err := affectedOne(res, nil, "finishing scan "+id, ErrFinished); err != nil {
		return err
	}
	if err := s.addEvents(ctx, tx, events); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("finishing scan %s: %w", id, err)
	}
	return nil
}

// Reusable returns the newest scan of url that is still unfinished or
// finished as Done after since, so that a burst of submissions of one site
// scans it once instead of hammering it.
func (s *DB) Reusable(ctx context.Context, url string, since time.Time) (Scan, bool, error) {
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+scanColumns+` FROM scans
		WHERE url = ? AND (state IN ('queued', 'running') OR (state = 'done' AND finished_at >= ?))
		ORDER BY created_at DESC, id DESC LIMIT 1`), url, us(since))
	sc, err := scanRow(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, false, nil
	}
	if err != nil {
		return Scan{}, false, fmt.Errorf("looking for a recent scan of %s: %w", url, err)
	}
	return sc, true, nil
}

// History returns up to limit scans of site, newest first, without their
// result documents.
func (s *DB) History(ctx context.Context, site string, limit int) ([]Scan, error) {
	return s.scanList(ctx, "history of "+site, `SELECT `+scanColumns+` FROM scans
		WHERE site = ? ORDER BY created_at DESC, id DESC LIMIT ?`, site, limit)
}

// Previous returns the newest Done scan of the same site created before sc,
// result included, for the "what changed" comparison.
func (s *DB) Previous(ctx context.Context, sc Scan) (Scan, bool, error) {
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+scanColumns+`, result FROM scans
		WHERE site = ? AND state = 'done' AND id <> ?
			AND (created_at < ? OR (created_at = ? AND id < ?))
		ORDER BY created_at DESC, id DESC LIMIT 1`),
		sc.Site, sc.ID, us(sc.CreatedAt), us(sc.CreatedAt), sc.ID)
	prev, err := scanRow(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, false, nil
	}
	if err != nil {
		return Scan{}, false, fmt.Errorf("previous scan of %s: %w", sc.Site, err)
	}
	return prev, true, nil
}

// Secret returns the secret named name, creating it from 32 random bytes
// the first time. Every instance sharing the database gets the same value,
// whichever created it.
func (s *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	fresh := hex.EncodeToString(b[:])
	if _, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), name, fresh, time.Now().UnixMicro()); err != nil {
		return nil, fmt.Errorf("creating secret %q: %w", name, err)
	}
	var v string
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT value FROM secrets WHERE name = ?`), name).Scan(&v); err != nil {
		return nil, fmt.Errorf("reading secret %q: %w", name, err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("secret %q is damaged", name)
	}
	return key, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanRow(r rowScanner, withResult bool) (Scan, error) {
	var (
		sc                Scan
		state             string
		created           int64
		started, finished sql.NullInt64
		score             sql.NullInt64
		grade, errMsg     sql.NullString
		client, watch     sql.NullString
		result            []byte
		dest              = []any{&sc.ID, &sc.Target, &sc.URL, &sc.Site, &state, &created, &started, &finished, &sc.Attempts, &score, &grade, &errMsg, &client, &watch}
	)
	if withResult {
		dest = append(dest, &result)
	}
	if err := r.Scan(dest...); err != nil {
		return Scan{}, err
	}
	sc.State = State(state)
	sc.CreatedAt = fromUS(created)
	if started.Valid {
		sc.StartedAt = fromUS(started.Int64)
	}
	if finished.Valid {
		sc.FinishedAt = fromUS(finished.Int64)
	}
	sc.Score = int(score.Int64)
	sc.Grade = grade.String
	sc.Error = errMsg.String
	sc.Client = client.String
	sc.WatchID = watch.String
	if len(result) > 0 {
		sc.Result = result
	}
	return sc, nil
}

// Times are stored as Unix microseconds in a BIGINT: the same column type,
// comparisons and index on both databases, no time-zone surprises, and
// enough precision to keep the queue in submission order.
func us(t time.Time) int64     { return t.UnixMicro() }
func fromUS(v int64) time.Time { return time.UnixMicro(v).UTC() }
func nullString(s string) any  { return sql.NullString{String: s, Valid: s != ""} }
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
func nullInt(valid bool, v int) any { return sql.NullInt64{Int64: int64(v), Valid: valid} }

// LatestFinished returns the newest done or failed scan of site, without
// its result document.
func (s *DB) LatestFinished(ctx context.Context, site string) (Scan, bool, error) {
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+scanColumns+` FROM scans
		WHERE site = ? AND state IN ('done', 'failed') ORDER BY created_at DESC, id DESC LIMIT 1`), site)
	sc, err := scanRow(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, false, nil
	}
	if err != nil {
		return Scan{}, false, fmt.Errorf("latest scan of %s: %w", site, err)
	}
	return sc, true, nil
}

// CountState returns how many scans are in state st.
func (s *DB) CountState(ctx context.Context, st State) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM scans WHERE state = ?`), string(st)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s scans: %w", st, err)
	}
	return n, nil
}
