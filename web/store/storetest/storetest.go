// Package storetest opens scan stores for tests: a SQLite file in
// t.TempDir(), and a PostgreSQL database in a schema of its own when
// HTTPSGUARD_TEST_POSTGRES_DSN names a server. Without that variable the
// PostgreSQL case is skipped, unless HTTPSGUARD_TEST_STRICT=1 makes the
// missing server a failure, as CI wants.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpsguard/httpsguard/internal/testpeer"
	"github.com/httpsguard/httpsguard/web/store"
)

// PostgresEnv is the environment variable holding the DSN of a PostgreSQL
// server tests may use, such as
// postgres://httpsguard:httpsguard@127.0.0.1:5432/httpsguard_test?sslmode=disable.
const PostgresEnv = "HTTPSGUARD_TEST_POSTGRES_DSN"

// Kinds names the stores ForEach runs a test against.
var Kinds = []string{"sqlite", "postgres"}

// ForEach runs fn as a subtest once per store kind, each with a fresh,
// migrated store that is closed when the subtest ends.
func ForEach(t *testing.T, fn func(t *testing.T, dsn string, s *store.DB)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			dsn := DSN(t, kind)
			s, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatalf("opening %s store: %v", kind, err)
			}
			t.Cleanup(func() { s.Close() })
			fn(t, dsn, s)
		})
	}
}

// DSN returns the DSN of a fresh, empty database of kind ("sqlite" or
// "postgres"), which every store.Open of it shares. The PostgreSQL one is a
// new schema, dropped when the test ends.
func DSN(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "sqlite":
		return filepath.Join(t.TempDir(), "httpsguard.db")
	case "postgres":
		return postgresSchema(t)
	}
	t.Fatalf("storetest: unknown store kind %q", kind)
	return ""
}

func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		testpeer.Missing(t, testpeer.PostgreSQL, PostgresEnv+" is not set, so the PostgreSQL store is not tested")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: opening %s: %v", PostgresEnv, err)
	}
	defer db.Close()
	schema := "t_" + store.NewID()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: creating schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("storetest: dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: parsing %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if !strings.HasPrefix(u.String(), "postgres") {
		panic(fmt.Sprintf("storetest: %s is not a postgres:// URL", PostgresEnv))
	}
	return u.String()
}
