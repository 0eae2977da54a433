package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newScan(site string, at time.Time) store.Scan {
	return store.Scan{
		ID:        store.NewID(),
		Target:    site,
		URL:       "https://" + site + "/",
		Site:      site,
		CreatedAt: at,
	}
}

func TestLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		a, b := newScan("a.example", t0), newScan("b.example", t0.Add(time.Second))
		for _, sc := range []store.Scan{a, b} {
			if err := s.Create(ctx, sc); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			sc   store.Scan
			want int
		}{{a, 1}, {b, 2}} {
			got, err := s.Get(ctx, tc.sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != store.Queued || got.URL != tc.sc.URL || !got.CreatedAt.Equal(tc.sc.CreatedAt) {
				t.Errorf("Get(%s) = %+v", tc.sc.ID, got)
			}
			if pos, err := s.QueuePosition(ctx, got); err != nil || pos != tc.want {
				t.Errorf("QueuePosition(%s) = %d, %v; want %d", tc.sc.Site, pos, err, tc.want)
			}
		}

		claimed, ok, err := s.Claim(ctx, t0.Add(2*time.Second), t0.Add(time.Minute))
		if err != nil || !ok || claimed.ID != a.ID || claimed.State != store.Running || claimed.Attempts != 1 {
			t.Fatalf("Claim = %+v, %v, %v; want the oldest scan running", claimed, ok, err)
		}
		if got, _ := s.Get(ctx, b.ID); mustPos(t, s, got) != 1 {
			t.Errorf("b should be first in the queue once a runs")
		}
		doc := []byte(`{"schema_version":1,"score":90}`)
		err = s.Finish(ctx, a.ID, claimed.Attempts, t0.Add(3*time.Second),
			store.Outcome{State: store.Done, Score: 90, Grade: "A", Result: doc})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.Done || got.Score != 90 || got.Grade != "A" || string(got.Result) != string(doc) ||
			!got.FinishedAt.Equal(t0.Add(3*time.Second)) || !got.StartedAt.Equal(t0.Add(2*time.Second)) {
			t.Errorf("finished scan = %+v", got)
		}
		// Finishing twice is refused: the claim is spent.
		err = s.Finish(ctx, a.ID, claimed.Attempts, t0, store.Outcome{State: store.Failed, Error: "x"})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("second Finish = %v, want ErrLeaseLost", err)
		}
		if _, err := s.Get(ctx, store.NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, "'; DROP TABLE scans; --"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(garbage) = %v, want ErrNotFound", err)
		}
	})
}

func mustPos(t *testing.T, s *store.DB, sc store.Scan) int {
	t.Helper()
	p, err := s.QueuePosition(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClaimEmptyQueue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		if _, ok, err := s.Claim(context.Background(), t0, t0.Add(time.Minute)); ok || err != nil {
			t.Errorf("Claim on an empty queue = %v, %v", ok, err)
		}
	})
}

// TestConcurrentClaims checks that no scan is handed to two workers.
func TestConcurrentClaims(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		const n = 20
		for i := range n {
			if err := s.Create(ctx, newScan(fmt.Sprintf("s%d.example", i), t0.Add(time.Duration(i)*time.Millisecond))); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			wg   sync.WaitGroup
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					sc, ok, err := s.Claim(ctx, t0, t0.Add(time.Minute))
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						return
					}
					mu.Lock()
					seen[sc.ID]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d distinct scans, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("scan %s claimed %d times", id, c)
			}
		}
	})
}

// TestRecoverAfterKill simulates a process killed mid-scan: the scan is
// claimed, the store is closed without finishing it, and a new store on the
// same database requeues it, then fails it once it has been interrupted too
// often.
func TestRecoverAfterKill(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dsn string, s *store.DB) {
		ctx := context.Background()
		sc := newScan("killed.example", t0)
		if err := s.Create(ctx, sc); err != nil {
			t.Fatal(err)
		}
		lease := t0.Add(time.Minute)
		if _, ok, err := s.Claim(ctx, t0, lease); !ok || err != nil {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		s.Close() // the process dies here

		s2, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		// A lease that has not run out is left alone: its worker may live.
		if q, f, err := s2.RecoverRunning(ctx, lease.Add(-time.Second), t0, 2); q != 0 || f != 0 || err != nil {
			t.Errorf("RecoverRunning before the lease ends = %d, %d, %v", q, f, err)
		}
		if q, f, err := s2.RecoverRunning(ctx, lease.Add(time.Second), t0, 2); q != 1 || f != 0 || err != nil {
			t.Fatalf("RecoverRunning = %d requeued, %d failed, %v; want 1, 0", q, f, err)
		}
		got, err := s2.Get(ctx, sc.ID)
		if err != nil || got.State != store.Queued || !got.StartedAt.IsZero() {
			t.Fatalf("after recovery: %+v, %v", got, err)
		}
		// Claimed again and interrupted again: the second time it fails.
		if c, ok, err := s2.Claim(ctx, t0, lease); !ok || err != nil || c.Attempts != 2 {
			t.Fatalf("second Claim = %+v, %v, %v", c, ok, err)
		}
		if q, f, err := s2.RecoverRunning(ctx, lease.Add(time.Second), t0, 2); q != 0 || f != 1 || err != nil {
			t.Fatalf("RecoverRunning = %d requeued, %d failed, %v; want 0, 1", q, f, err)
		}
		got, _ = s2.Get(ctx, sc.ID)
		if got.State != store.Failed || !strings.Contains(got.Error, "interrupted 2 times") {
			t.Errorf("after the second interruption: %+v", got)
		}
	})
}

func TestHistoryPreviousReusable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		var ids []string
		for i := range 3 {
			sc := newScan("h.example", t0.Add(time.Duration(i)*time.Minute))
			ids = append(ids, sc.ID)
			if err := s.Create(ctx, sc); err != nil {
				t.Fatal(err)
			}
			c, ok, err := s.Claim(ctx, sc.CreatedAt, sc.CreatedAt.Add(time.Minute))
			if !ok || err != nil {
				t.Fatal(ok, err)
			}
			o := store.Outcome{State: store.Done, Score: 50 + i, Grade: "C", Result: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			if i == 1 {
				o = store.Outcome{State: store.Failed, Error: "refused"}
			}
			if err := s.Finish(ctx, c.ID, c.Attempts, sc.CreatedAt.Add(time.Second), o); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Create(ctx, newScan("other.example", t0)); err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, "h.example", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 3 || h[0].ID != ids[2] || h[2].ID != ids[0] || h[0].Result != nil {
			t.Errorf("History = %+v", h)
		}
		latest, _ := s.Get(ctx, ids[2])
		prev, ok, err := s.Previous(ctx, latest)
		// The failed scan in between is skipped.
		if err != nil || !ok || prev.ID != ids[0] || string(prev.Result) != `{"n":0}` {
			t.Errorf("Previous = %+v, %v, %v; want the first scan", prev, ok, err)
		}
		first, _ := s.Get(ctx, ids[0])
		if _, ok, err := s.Previous(ctx, first); ok || err != nil {
			t.Errorf("Previous(first) = %v, %v", ok, err)
		}
		if r, ok, err := s.Reusable(ctx, "https://h.example/", t0.Add(2*time.Minute)); !ok || err != nil || r.ID != ids[2] {
			t.Errorf("Reusable = %+v, %v, %v; want the latest done scan", r, ok, err)
		}
		if _, ok, err := s.Reusable(ctx, "https://h.example/", t0.Add(time.Hour)); ok || err != nil {
			t.Errorf("Reusable after an hour = %v, %v", ok, err)
		}
		if r, ok, _ := s.Reusable(ctx, "https://other.example/", t0.Add(time.Hour)); !ok || r.State != store.Queued {
			t.Errorf("a queued scan should be reusable: %+v %v", r, ok)
		}
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dsn string, s *store.DB) {
		ctx := context.Background()
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != store.LatestVersion {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, store.LatestVersion)
		}
		// Opening again runs no migration twice.
		s2, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("reopening: %v", err)
		}
		s2.Close()
	})
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", "file:", ":memory:", "file:x.db?%zz"} {
		if s, err := store.Open(context.Background(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestValidID(t *testing.T) {
	id := store.NewID()
	if !store.ValidID(id) || len(id) != 26 {
		t.Fatalf("NewID() = %q", id)
	}
	if id == store.NewID() {
		t.Fatal("two NewID calls returned the same ID")
	}
	for _, bad := range []string{"", "abc", strings.ToUpper(id), id + "a", "0" + id[1:], "../" + id[3:]} {
		if store.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestSecret(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dsn string, s *store.DB) {
		ctx := context.Background()
		a, err := s.Secret(ctx, "csrf")
		if err != nil || len(a) != 32 {
			t.Fatalf("Secret = %x, %v", a, err)
		}
		s2, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		b, err := s2.Secret(ctx, "csrf")
		if err != nil || string(a) != string(b) {
			t.Errorf("a second instance got another secret: %x, %v", b, err)
		}
		if c, _ := s.Secret(ctx, "other"); string(c) == string(a) {
			t.Error("two secrets share a value")
		}
	})
}

// TestNewerSchemaRefused: a database migrated by a newer httpsguard is not
// used with a schema this build does not know.
func TestNewerSchemaRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dsn string, s *store.DB) {
		ctx := context.Background()
		if err := s.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)`); err != nil {
			t.Fatal(err)
		}
		s2, err := store.Open(ctx, dsn)
		if err == nil {
			s2.Close()
			t.Fatal("a database at schema version 999 was opened")
		}
		if !strings.Contains(err.Error(), "newer than this httpsguard knows") {
			t.Errorf("error = %v", err)
		}
	})
}
