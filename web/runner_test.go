package web

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestShutdownDuringClaim stops a worker while its claim waits on the
// database. PostgreSQL runs a statement it has received even when the
// client gives up on it (pgx only drops the connection), so a claim cut
// short by the shutdown would still take the scan, and no worker would hold
// it: it would stay running until its lease ran out and then count as an
// interruption. The claim must finish, and the scan go back to the queue
// as it was.
func TestShutdownDuringClaim(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, "postgres")
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var scanned atomic.Bool
	s, err := New(ctx, Config{
		Store:   db,
		Scanner: scanFunc(func(context.Context, string) *scan.Result { scanned.Store(true); return &scan.Result{} }),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	sc := store.Scan{ID: store.NewID(), Target: "claim.test", URL: "https://claim.test/", Site: "claim.test", CreatedAt: time.Now()}
	if err := db.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}

	// Hold the claim up: another session locks the table against writes.
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "LOCK TABLE scans IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	type result struct {
		ran bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		ran, err := s.runNext(runCtx)
		done <- result{ran, err}
	}()
	for waiting := false; !waiting; {
		if err := raw.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE NOT granted AND relation = 'scans'::regclass)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	stop() // the server stops while the claim waits
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	r := <-done
	if r.err != nil || !r.ran {
		t.Errorf("runNext stopped during its claim = %v, %v; want the claim finished and the scan released", r.ran, r.err)
	}
	if scanned.Load() {
		t.Error("a scan claimed while the server stopped was scanned")
	}
	got, err := db.Get(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.Queued || got.Attempts != 0 {
		t.Errorf("after the shutdown the scan is %s with %d attempts; want queued with 0", got.State, got.Attempts)
	}
	// Nothing is left to claim it later behind the worker's back.
	if _, ok, err := db.Claim(ctx, time.Now(), time.Now().Add(time.Hour)); err != nil || !ok {
		t.Errorf("claiming the released scan: %v, %v", ok, err)
	}
}

type scanFunc func(ctx context.Context, target string) *scan.Result

func (f scanFunc) Scan(ctx context.Context, target string) *scan.Result { return f(ctx, target) }
