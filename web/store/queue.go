package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Queue is the part of a River client (github.com/riverqueue/river) the web
// checker uses. *river.Client is generic in its driver's transaction type
// (pgx.Tx for PostgreSQL, *sql.Tx for SQLite); none of these methods
// mention it, so one interface covers both.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Start(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

// NewQueue returns a River client on the store's database: riverpgxv5 on
// the store's pgx pool for PostgreSQL, riversqlite on a handle of its own
// for SQLite. River's tables were migrated by Open.
func (s *DB) NewQueue(cfg *river.Config) (Queue, error) {
	var (
		q   Queue
		err error
	)
	if s.c.pool != nil {
		q, err = river.NewClient(riverpgxv5.New(s.c.pool), cfg)
	} else {
		q, err = river.NewClient(riversqlite.New(s.c.riverDB), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("starting the job queue: %w", err)
	}
	return q, nil
}

// migrateRiver brings River's own tables to the version this build of River
// needs, with River's migrator. On PostgreSQL a session advisory lock keeps
// two instances starting together from migrating at once.
func (s *DB) migrateRiver(ctx context.Context) error {
	if s.c.pool != nil {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrating the job queue: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7282837378737783)`); err != nil {
			return fmt.Errorf("migrating the job queue: taking the lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7282837378737783)`) //nolint:errcheck // the session ends with the connection anyway
		return runRiverMigrations(ctx, riverpgxv5.New(s.c.pool))
	}
	return runRiverMigrations(ctx, riversqlite.New(s.c.riverDB))
}

func runRiverMigrations[TTx any](ctx context.Context, d riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("migrating the job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating the job queue: %w", err)
	}
	return nil
}
