package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver, pure Go
)

// dialect holds what differs between SQLite and PostgreSQL. Queries are
// written once with "?" placeholders and rebound for PostgreSQL.
type dialect struct {
	name  string
	title string // for messages
	// dollar rebinds "?" placeholders to $1, $2, ...
	dollar bool
	// migrationLock, when set, runs inside the migration transaction so two
	// instances starting together do not both migrate.
	migrationLock string
}

var (
	sqliteDialect   = dialect{name: "sqlite", title: "SQLite"}
	postgresDialect = dialect{
		name:   "postgres",
		title:  "PostgreSQL",
		dollar: true,
		// An arbitrary constant key: "httpsguard" as a number.
		migrationLock: "SELECT pg_advisory_xact_lock(7282837378737782)",
	}
)

// q rewrites a query for the dialect. The queries in this package contain
// no "?" other than placeholders.
func (d dialect) q(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// conns is what openDialect opens: the store's database/sql handle, and
// the handle River's driver needs (a pgx pool for PostgreSQL, a second
// database/sql handle on the same file for SQLite).
type conns struct {
	db      *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only
	riverDB *sql.DB       // SQLite only
}

func openDialect(ctx context.Context, dsn string) (dialect, conns, error) {
	if strings.TrimSpace(dsn) == "" {
		return dialect{}, conns{}, fmt.Errorf("opening store: empty database name")
	}
	if IsPostgres(dsn) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return dialect{}, conns{}, fmt.Errorf("opening PostgreSQL database: %w", err)
		}
		cfg.MaxConns = 20
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return dialect{}, conns{}, fmt.Errorf("opening PostgreSQL database: %w", err)
		}
		// One pool for the store's queries and River's: database/sql on
		// top of the pgx pool.
		return postgresDialect, conns{db: stdlib.OpenDBFromPool(pool), pool: pool}, nil
	}
	u, err := sqliteDSN(dsn)
	if err != nil {
		return dialect{}, conns{}, err
	}
	open := func(n int) (*sql.DB, error) {
		db, err := sql.Open("sqlite", u)
		if err != nil {
			return nil, fmt.Errorf("opening SQLite database %s: %w", dsn, err)
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		return db, nil
	}
	// WAL lets readers (every page view) run while a worker writes. Writers
	// take the lock at BEGIN (_txlock=immediate) and wait for each other
	// (busy_timeout) instead of failing with SQLITE_BUSY halfway through.
	db, err := open(8)
	if err != nil {
		return dialect{}, conns{}, err
	}
	// River gets a handle of its own, so its fetches, completions and
	// maintenance never wait for a connection behind page views.
	rdb, err := open(4)
	if err != nil {
		db.Close()
		return dialect{}, conns{}, err
	}
	return sqliteDialect, conns{db: db, riverDB: rdb}, nil
}

// sqliteDSN turns a path (or a "file:" URI) into a modernc.org/sqlite DSN
// with the pragmas the store relies on; pragmas the caller gave win.
func sqliteDSN(dsn string) (string, error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" {
		return "", fmt.Errorf("opening SQLite database %q: no file name", dsn)
	}
	if path == ":memory:" {
		return "", fmt.Errorf("opening SQLite database: an in-memory database would lose every scan at exit; give a file")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("opening SQLite database %q: %w", dsn, err)
	}
	have := strings.Join(q["_pragma"], ";")
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		name, _, _ := strings.Cut(p, "(")
		if !strings.Contains(have, name) {
			q.Add("_pragma", p)
		}
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode(), nil
}
