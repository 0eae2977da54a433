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

		before, err := s.Start(ctx, a.ID, t0.Add(2*time.Second))
		if err != nil || before.State != store.Queued {
			t.Fatalf("Start = %+v, %v; want the scan as it was, queued", before, err)
		}
		if got, _ := s.Get(ctx, a.ID); got.State != store.Running || got.Attempts != 1 {
			t.Errorf("started scan = %+v", got)
		}
		if got, _ := s.Get(ctx, b.ID); mustPos(t, s, got) != 1 {
			t.Errorf("b should be first in the queue once a runs")
		}
		doc := []byte(`{"schema_version":1,"score":90}`)
		err = s.Finish(ctx, a.ID, t0.Add(3*time.Second), store.Outcome{State: store.Done, Score: 90, Grade: "A", Result: doc}, nil)
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
		// Finishing twice is refused: the first outcome stands.
		err = s.Finish(ctx, a.ID, t0, store.Outcome{State: store.Failed, Error: "x"}, nil)
		if !errors.Is(err, store.ErrFinished) {
			t.Errorf("second Finish = %v, want ErrFinished", err)
		}
		// A failed scan records no grade, whatever the outcome says.
		if err := s.Finish(ctx, b.ID, t0, store.Outcome{State: store.Failed, Score: 70, Grade: "B", Error: "refused"}, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, b.ID); got.Grade != "" || got.Score != 0 || got.Error != "refused" {
			t.Errorf("failed scan = %+v; want no grade", got)
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

// TestFinishOnce finishes one scan from many goroutines at once, as River
// may run a job again while an earlier run is still finishing: one outcome
// is recorded, with its events once.
func TestFinishOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		sc := newScan("once.example", t0)
		sc.WatchID = store.NewID()
		if err := s.Create(ctx, sc); err != nil {
			t.Fatal(err)
		}
		ev := store.Event{ID: store.EventID(sc.WatchID, sc.ID, "hsts_removed", ""), WatchID: sc.WatchID, Site: sc.Site,
			ScanID: sc.ID, Kind: "hsts_removed", Regression: true, Summary: "gone", CreatedAt: t0}
		var wg sync.WaitGroup
		var won, lost sync.Map
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Finish(ctx, sc.ID, t0, store.Outcome{State: store.Done, Score: i, Grade: "A"}, []store.Event{ev})
				switch {
				case err == nil:
					won.Store(i, true)
				case errors.Is(err, store.ErrFinished):
					lost.Store(i, true)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := 0
		won.Range(func(any, any) bool { n++; return true })
		if n != 1 {
			t.Errorf("%d Finish calls won; want exactly 1", n)
		}
		if evs, err := s.ScanEvents(ctx, sc.ID); err != nil || len(evs) != 1 {
			t.Errorf("events = %+v, %v; want one", evs, err)
		}
		// Recording the same events again (a retried job) adds nothing.
		if c, err := s.CountEvents(ctx); err != nil || c != 1 {
			t.Errorf("CountEvents = %d, %v", c, err)
		}
	})
}

// TestScheduleOnce has two schedulers see the same due watches: each due
// time makes one scan, and the watch's next check moves on by its interval.
func TestScheduleOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		var ws []store.Watch
		for i := range 3 {
			w := store.Watch{ID: store.NewID(), TokenID: "tok", Target: "w.example", URL: "https://w.example/",
				Site: "w.example", Interval: time.Hour, Secret: "s", CreatedAt: t0, NextDueAt: t0.Add(time.Duration(i) * time.Minute),
				Webhooks: []store.Webhook{{ID: store.NewID(), URL: "https://hooks.example/" + fmt.Sprint(i)}}}
			if err := s.CreateWatch(ctx, w); err != nil {
				t.Fatal(err)
			}
			ws = append(ws, w)
		}
		if err := s.SetPaused(ctx, ws[2].ID, true, ws[2].NextDueAt); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(10 * time.Minute)
		due, err := s.DueWatches(ctx, now, 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("DueWatches = %d, %v; want the 2 unpaused ones", len(due), err)
		}
		var created sync.Map
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				scans := make([]store.Scan, len(due))
				for i, w := range due {
					scans[i] = newScan(w.Site, now)
					scans[i].WatchID = w.ID
				}
				got, err := s.ScheduleScans(ctx, due, scans)
				if err != nil {
					t.Error(err)
				}
				for _, sc := range got {
					created.Store(sc.ID, sc.WatchID)
				}
			}()
		}
		wg.Wait()
		per := map[any]int{}
		created.Range(func(_, w any) bool { per[w]++; return true })
		if len(per) != 2 || per[ws[0].ID] != 1 || per[ws[1].ID] != 1 {
			t.Errorf("scans per watch = %v; want one each", per)
		}
		if due, _ := s.DueWatches(ctx, now, 10); len(due) != 0 {
			t.Errorf("still due after scheduling: %d", len(due))
		}
		w, err := s.GetWatch(ctx, ws[0].ID)
		if err != nil || !w.NextDueAt.Equal(ws[0].NextDueAt.Add(time.Hour)) || len(w.Webhooks) != 1 || w.LastScanID == "" {
			t.Errorf("watch after scheduling = %+v, %v", w, err)
		}
		if scans, err := s.WatchScans(ctx, ws[0].ID, 10); err != nil || len(scans) != 1 || scans[0].WatchID != ws[0].ID {
			t.Errorf("WatchScans = %+v, %v", scans, err)
		}
		if err := s.DeleteWatch(ctx, ws[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetWatch(ctx, ws[0].ID); !errors.Is(err, store.ErrWatchNotFound) {
			t.Errorf("deleted watch: %v", err)
		}
	})
}

// TestTokens issues, uses and revokes a token; only its hash is stored.
func TestTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		tok, secret, err := s.CreateToken(ctx, "ci", t0)
		if err != nil || !strings.HasPrefix(secret, "hgw_"+tok.ID+"_") {
			t.Fatalf("CreateToken = %+v, %q, %v", tok, secret, err)
		}
		if got, err := s.Authenticate(ctx, secret, t0.Add(time.Hour)); err != nil || got.ID != tok.ID {
			t.Errorf("Authenticate = %+v, %v", got, err)
		}
		for _, bad := range []string{"", "hgw_", secret + "x", strings.ToUpper(secret)} {
			if _, err := s.Authenticate(ctx, bad, t0); !errors.Is(err, store.ErrBadToken) {
				t.Errorf("Authenticate(%q) = %v", bad, err)
			}
		}
		ts, err := s.Tokens(ctx)
		if err != nil || len(ts) != 1 || ts[0].LastUsedAt.IsZero() {
			t.Errorf("Tokens = %+v, %v", ts, err)
		}
		if err := s.RevokeToken(ctx, tok.ID, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret, t0); !errors.Is(err, store.ErrBadToken) {
			t.Errorf("a revoked token still authenticates: %v", err)
		}
		if err := s.RevokeToken(ctx, "nope", t0); !errors.Is(err, store.ErrTokenNotFound) {
			t.Errorf("RevokeToken(unknown) = %v", err)
		}
	})
}

// TestDeliveriesRecordedOnce records the same attempt twice.
func TestDeliveriesRecordedOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, _ string, s *store.DB) {
		ctx := context.Background()
		d := store.Delivery{ID: "7-1", EventID: "e", WebhookID: "h", WatchID: "w", Attempt: 1, At: t0, Status: 500, Error: "boom"}
		for range 2 {
			if err := s.RecordDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := s.Delivered(ctx, "e", "h"); ok || err != nil {
			t.Errorf("Delivered after a failure = %v, %v", ok, err)
		}
		d.ID, d.Attempt, d.Status, d.OK, d.Error = "7-2", 2, 204, true, ""
		if err := s.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Delivered(ctx, "e", "h"); !ok || err != nil {
			t.Errorf("Delivered = %v, %v", ok, err)
		}
		ds, err := s.WatchDeliveries(ctx, "w", 10)
		if err != nil || len(ds) != 2 || ds[0].Attempt != 2 || ds[1].Status != 500 {
			t.Errorf("WatchDeliveries = %+v, %v", ds, err)
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
			o := store.Outcome{State: store.Done, Score: 50 + i, Grade: "C", Result: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			if i == 1 {
				o = store.Outcome{State: store.Failed, Error: "refused"}
			}
			if err := s.Finish(ctx, sc.ID, sc.CreatedAt.Add(time.Second), o, nil); err != nil {
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
