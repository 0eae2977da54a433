package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one versioned schema change. Versions start at 1 and never
// change once released: a new change is a new migration at the end.
type migration struct {
	version int
	name    string
	// stmts run in order in one transaction, on both databases: the schema
	// uses only types and syntax they share (TEXT, INTEGER, BIGINT).
	stmts []string
}

var migrations = []migration{
	{1, "create scans", []string{
		`CREATE TABLE scans (
			id          TEXT PRIMARY KEY,
			target      TEXT NOT NULL,
			url         TEXT NOT NULL,
			site        TEXT NOT NULL,
			state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
			created_at  BIGINT NOT NULL,
			started_at  BIGINT,
			finished_at BIGINT,
			lease_until BIGINT,
			attempts    INTEGER NOT NULL DEFAULT 0,
			score       INTEGER,
			grade       TEXT,
			error       TEXT,
			result      TEXT
		)`,
		// The site history and the "previous scan" lookup.
		`CREATE INDEX scans_site_created ON scans (site, created_at)`,
		// The queue: claim order and queue positions.
		`CREATE INDEX scans_state_created ON scans (state, created_at)`,
	}},
	{2, "index scans by url", []string{
		// Finding a recent scan of the same URL to reuse.
		`CREATE INDEX scans_url_created ON scans (url, created_at)`,
	}},
	{3, "create secrets", []string{
		// Keys every instance sharing the database must agree on, such as
		// the one that signs the forms' anti-CSRF tokens.
		`CREATE TABLE secrets (
			name       TEXT PRIMARY KEY,
			value      TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
	}},
	{4, "watches, events, webhooks, API tokens; River runs the jobs", []string{
		// Scans run as River jobs now; lease_until is no longer used.
		// enqueued_at is set once a scan's job is in River's queue, so a
		// scan whose process died before that is found and queued again.
		`ALTER TABLE scans ADD COLUMN enqueued_at BIGINT`,
		// A scan the old workers were running when the server stopped is
		// queued again: its new job is inserted by the scheduler, like any
		// scan without one.
		`UPDATE scans SET state = 'queued', started_at = NULL, lease_until = NULL WHERE state = 'running'`,
		// Who submitted a scan (a keyed hash), for the per-client cap on
		// queued scans, and the watch a re-check belongs to.
		`ALTER TABLE scans ADD COLUMN client TEXT`,
		`ALTER TABLE scans ADD COLUMN watch_id TEXT`,
		`CREATE INDEX scans_client_state ON scans (client, state)`,
		`CREATE INDEX scans_watch_created ON scans (watch_id, created_at)`,
		// Tokens are stored as the SHA-256 of their secret part only.
		`CREATE TABLE api_tokens (
			id           TEXT PRIMARY KEY,
			name         TEXT NOT NULL,
			hash         TEXT NOT NULL UNIQUE,
			created_at   BIGINT NOT NULL,
			revoked_at   BIGINT,
			last_used_at BIGINT
		)`,
		`CREATE TABLE watches (
			id           TEXT PRIMARY KEY,
			token_id     TEXT NOT NULL,
			target       TEXT NOT NULL,
			url          TEXT NOT NULL,
			site         TEXT NOT NULL,
			interval_s   BIGINT NOT NULL,
			paused       INTEGER NOT NULL DEFAULT 0,
			secret       TEXT NOT NULL,
			created_at   BIGINT NOT NULL,
			next_due_at  BIGINT NOT NULL,
			last_scan_id TEXT
		)`,
		`CREATE INDEX watches_due ON watches (paused, next_due_at)`,
		`CREATE INDEX watches_token ON watches (token_id, created_at)`,
		`CREATE INDEX watches_site ON watches (site)`,
		`CREATE TABLE webhooks (
			id         TEXT PRIMARY KEY,
			watch_id   TEXT NOT NULL,
			url        TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
		`CREATE INDEX webhooks_watch ON webhooks (watch_id)`,
		// An event's ID is derived from (watch, scan, kind, subject), so
		// recording the events of a scan twice records them once.
		`CREATE TABLE events (
			id               TEXT PRIMARY KEY,
			watch_id         TEXT NOT NULL,
			site             TEXT NOT NULL,
			scan_id          TEXT NOT NULL,
			previous_scan_id TEXT,
			kind             TEXT NOT NULL,
			subject          TEXT NOT NULL,
			regression       INTEGER NOT NULL,
			summary          TEXT NOT NULL,
			created_at       BIGINT NOT NULL
		)`,
		`CREATE INDEX events_site_created ON events (site, created_at)`,
		`CREATE INDEX events_watch_created ON events (watch_id, created_at)`,
		`CREATE INDEX events_scan ON events (scan_id)`,
		// One row per delivery attempt, keyed by the River job and its
		// attempt number, so a retried recording is recorded once.
		`CREATE TABLE deliveries (
			id          TEXT PRIMARY KEY,
			event_id    TEXT NOT NULL,
			webhook_id  TEXT NOT NULL,
			watch_id    TEXT NOT NULL,
			attempt     INTEGER NOT NULL,
			at          BIGINT NOT NULL,
			status      INTEGER,
			ok          INTEGER NOT NULL,
			error       TEXT,
			duration_ms BIGINT NOT NULL
		)`,
		`CREATE INDEX deliveries_event ON deliveries (event_id, webhook_id)`,
		`CREATE INDEX deliveries_watch_at ON deliveries (watch_id, at)`,
	}},
}

// LatestVersion is the schema version this build migrates to.
var LatestVersion = migrations[len(migrations)-1].version

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrate applies every migration newer than the database's version, each
// in its own transaction with its schema_migrations row, so a crash leaves
// the database at a well-defined version. A database newer than this build
// is refused rather than used with a schema the code does not know.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, d, m); err != nil {
			return err
		}
	}
	v, err := currentVersion(ctx, db)
	if err != nil {
		return err
	}
	if v > LatestVersion {
		return fmt.Errorf("database schema version %d is newer than this httpsguard knows (%d): upgrade httpsguard", v, LatestVersion)
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, d dialect, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
	}
	defer tx.Rollback()
	if d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.migrationLock); err != nil {
			return fmt.Errorf("migration %d (%s): taking the migration lock: %w", m.version, m.name, err)
		}
	}
	var applied int
	if err := tx.QueryRowContext(ctx, d.q(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&applied); err != nil {
		return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
	}
	if applied > 0 {
		return nil
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("migration %d (%s): recording it: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
	}
	return nil
}

func currentVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return int(v.Int64), nil
}
