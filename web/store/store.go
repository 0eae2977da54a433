// Package store keeps the web checker's scans in SQL: SQLite in one file by
// default (the pure-Go modernc.org/sqlite driver, so the binary stays
// cgo-free), or PostgreSQL through pgx when several instances share one
// database.
//
// The store is also the scan queue. A scan is recorded as queued the moment
// it is submitted, claimed by a worker (running, with a lease), and finished
// as done or failed with its result document, so a process killed mid-scan
// loses nothing: RecoverRunning puts scans whose lease has run out back in
// the queue, or fails them once they have been interrupted too often.
//
// Both databases run the same versioned migrations (see migrations.go) and
// the same queries; the few differences between the dialects are in
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
	// Attempts counts how often a worker claimed the scan; more than one
	// means a process died while scanning it.
	Attempts int

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
	d  dialect
}

// Open connects to the database named by dsn and migrates its schema to the
// latest version. A DSN starting with postgres:// or postgresql:// selects
// PostgreSQL; anything else is a SQLite file path (or a "file:" URI).
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, db, err := openDialect(dsn)
	if err != nil {
		return nil, err
	}
	s := &DB{db: db, d: d}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the %s database: %w", d.title, err)
	}
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Dialect names the database: "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.d.name }

// Shared reports whether other processes may use the same database, which
// is true of PostgreSQL. A SQLite store belongs to one process, so at start
// every scan it finds running was interrupted.
func (s *DB) Shared() bool { return s.d.name == "postgres" }

// SchemaVersion returns the version of the newest migration applied.
func (s *DB) SchemaVersion(ctx context.Context) (int, error) {
	return currentVersion(ctx, s.db)
}

// Create records a new queued scan. sc.ID, Target, URL, Site and CreatedAt
// must be set; the state is always Queued. The queue runs in CreatedAt
// order (microseconds; ties in random ID order).
func (s *DB) Create(ctx context.Context, sc Scan) error {
	if !ValidID(sc.ID) || sc.URL == "" || sc.Site == "" || sc.CreatedAt.IsZero() {
		return fmt.Errorf("creating scan: incomplete scan %q", sc.ID)
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO scans
		(id, target, url, site, state, created_at, attempts)
		VALUES (?, ?, ?, ?, 'queued', ?, 0)`),
		sc.ID, sc.Target, sc.URL, sc.Site, us(sc.CreatedAt))
	if err != nil {
		return fmt.Errorf("creating scan %s: %w", sc.ID, err)
	}
	return nil
}

const scanColumns = `id, target, url, site, state, created_at, started_at, finished_at,
	attempts, score, grade, error`

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
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM scans
		WHERE state = 'queued' AND (created_at < ? OR (created_at = ? AND id < ?))`),
		us(sc.CreatedAt), us(sc.CreatedAt), sc.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue position of %s: %w", sc.ID, err)
	}
	return n + 1, nil
}

// QueueLength returns how many scans are waiting.
func (s *DB) QueueLength(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM scans WHERE state = 'queued'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("queue length: %w", err)
	}
	return n, nil
}

// Claim takes the oldest queued scan, marks it running with a lease until
// leaseUntil, and returns it. ok is false when the queue is empty. On
// PostgreSQL, concurrent claims from several instances never get the same
// scan (FOR UPDATE SKIP LOCKED).
//
// The claim commits when the database runs it, whether or not the caller
// still waits: cancelling ctx while a claim is in flight can take a scan
// the caller never hears of, which then stays running until its lease runs
// out. A caller that stops cleanly lets its claim finish and releases the
// scan instead.
func (s *DB) Claim(ctx context.Context, now, leaseUntil time.Time) (sc Scan, ok bool, err error) {
	row := s.db.QueryRowContext(ctx, s.d.q(`UPDATE scans
		SET state = 'running', started_at = ?, lease_until = ?, attempts = attempts + 1
		WHERE state = 'queued' AND id = (
			SELECT id FROM scans WHERE state = 'queued'
			ORDER BY created_at, id LIMIT 1`+s.d.skipLocked+`)
		RETURNING `+scanColumns), us(now), us(leaseUntil))
	sc, err = scanRow(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, false, nil
	}
	if err != nil {
		return Scan{}, false, fmt.Errorf("claiming a queued scan: %w", err)
	}
	return sc, true, nil
}

// Outcome is how a scan ended.
type Outcome struct {
	State  State // Done or Failed
	Score  int
	Grade  string
	Error  string
	Result []byte // the result document, if any
}

// ErrLeaseLost is returned by Finish when the scan is no longer running
// under the claim the caller holds: its lease ran out and another worker
// took it over, or it was failed meanwhile.
var ErrLeaseLost = errors.New("scan lease lost")

// Finish records the outcome of a running scan claimed as attempt number
// attempt (Scan.Attempts as Claim returned it).
func (s *DB) Finish(ctx context.Context, id string, attempt int, now time.Time, o Outcome) error {
	if !o.State.Final() {
		return fmt.Errorf("finishing scan %s: state %q is not final", id, o.State)
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = ?, finished_at = ?, lease_until = NULL, score = ?, grade = ?, error = ?, result = ?
		WHERE id = ? AND state = 'running' AND attempts = ?`),
		string(o.State), us(now), nullInt(o.State == Done, o.Score), nullString(o.Grade),
		nullString(o.Error), nullBytes(o.Result), id, attempt)
	if err != nil {
		return fmt.Errorf("finishing scan %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finishing scan %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("finishing scan %s: %w", id, ErrLeaseLost)
	}
	return nil
}

// Release gives a running scan back to the queue without counting the
// attempt, for a server that stops cleanly while scanning it.
func (s *DB) Release(ctx context.Context, id string, attempt int) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = 'queued', started_at = NULL, lease_until = NULL, attempts = attempts - 1
		WHERE id = ? AND state = 'running' AND attempts = ?`), id, attempt)
	if err != nil {
		return fmt.Errorf("releasing scan %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("releasing scan %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("releasing scan %s: %w", id, ErrLeaseLost)
	}
	return nil
}

// RecoverRunning deals with running scans whose lease ends before cutoff:
// their worker died. A scan claimed fewer than maxAttempts times goes back
// to the queue; one claimed maxAttempts times or more is failed, so a target
// that crashes the process cannot do it forever.
func (s *DB) RecoverRunning(ctx context.Context, cutoff, now time.Time, maxAttempts int) (requeued, failed int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("recovering interrupted scans: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = 'failed', finished_at = ?, lease_until = NULL,
			error = 'the scan was interrupted ' || attempts || ' times (the server stopped while scanning)'
		WHERE state = 'running' AND lease_until < ? AND attempts >= ?`), us(now), us(cutoff), maxAttempts)
	if err != nil {
		return 0, 0, fmt.Errorf("failing interrupted scans: %w", err)
	}
	nf, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, s.d.q(`UPDATE scans
		SET state = 'queued', started_at = NULL, lease_until = NULL
		WHERE state = 'running' AND lease_until < ?`), us(cutoff))
	if err != nil {
		return 0, 0, fmt.Errorf("requeueing interrupted scans: %w", err)
	}
	nq, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("recovering interrupted scans: %w", err)
	}
	return int(nq), int(nf), nil
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
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+scanColumns+` FROM scans
		WHERE site = ? ORDER BY created_at DESC, id DESC LIMIT ?`), site, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", site, err)
	}
	defer rows.Close()
	var out []Scan
	for rows.Next() {
		sc, err := scanRow(rows, false)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", site, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", site, err)
	}
	return out, nil
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
		result            []byte
		dest              = []any{&sc.ID, &sc.Target, &sc.URL, &sc.Site, &state, &created, &started, &finished, &sc.Attempts, &score, &grade, &errMsg}
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
