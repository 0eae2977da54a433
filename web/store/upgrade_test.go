package store_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestUpgradeFromVersion3 opens a database as the release before watches
// and River left it (schema version 3: scans with leases, the secrets) and
// checks that the upgrade keeps everything: finished scans with their
// results and grades, the form-token key, and a scan that was running when
// the old server stopped, which is queued again.
func TestUpgradeFromVersion3(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, kind)
			old, err := store.OpenAt(ctx, dsn, 3)
			if err != nil {
				t.Fatalf("creating a version 3 database: %v", err)
			}
			doneID, failedID, runID := store.NewID(), store.NewID(), store.NewID()
			key := "secret-key-from-version-3"
			for _, q := range []string{
				`INSERT INTO scans (id, target, url, site, state, created_at, started_at, finished_at, attempts, score, grade, result)
					VALUES ('` + doneID + `', 'example.com', 'https://example.com/', 'example.com', 'done', 1000, 1001, 1002, 1, 95, 'A+', '{"schema_version":1,"grade":"A+","score":95}')`,
				`INSERT INTO scans (id, target, url, site, state, created_at, started_at, finished_at, attempts, error)
					VALUES ('` + failedID + `', 'down.example', 'https://down.example/', 'down.example', 'failed', 2000, 2001, 2002, 1, 'connection refused')`,
				`INSERT INTO scans (id, target, url, site, state, created_at, started_at, lease_until, attempts)
					VALUES ('` + runID + `', 'busy.example', 'https://busy.example/', 'busy.example', 'running', 3000, 3001, 99999999, 1)`,
				`INSERT INTO secrets (name, value, created_at) VALUES ('csrf', '` + hex.EncodeToString([]byte(key)) + `', 1)`,
			} {
				if err := old.Exec(ctx, q); err != nil {
					t.Fatalf("filling the version 3 database: %v", err)
				}
			}
			old.Close()

			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatalf("upgrading: %v", err)
			}
			defer s.Close()
			if v, err := s.SchemaVersion(ctx); err != nil || v != store.LatestVersion {
				t.Fatalf("SchemaVersion after the upgrade = %d, %v; want %d", v, err, store.LatestVersion)
			}
			done, err := s.Get(ctx, doneID)
			if err != nil || done.State != store.Done || done.Grade != "A+" || done.Score != 95 || string(done.Result) == "" {
				t.Errorf("the finished scan after the upgrade: %+v, %v", done, err)
			}
			if failed, err := s.Get(ctx, failedID); err != nil || failed.State != store.Failed || failed.Error != "connection refused" {
				t.Errorf("the failed scan after the upgrade: %+v, %v", failed, err)
			}
			if run, err := s.Get(ctx, runID); err != nil || run.State != store.Queued || !run.StartedAt.IsZero() {
				t.Errorf("the interrupted scan after the upgrade: %+v, %v; want it queued again", run, err)
			}
			if ids, err := s.Unenqueued(ctx, time.Now(), 10); err != nil || len(ids) != 1 || ids[0] != runID {
				t.Errorf("scans waiting for a River job after the upgrade: %v, %v; want the interrupted one", ids, err)
			}
			if got, err := s.Secret(ctx, "csrf"); err != nil || string(got) != key {
				t.Errorf("the form-token key after the upgrade: %q, %v", got, err)
			}
			if hist, err := s.History(ctx, "example.com", 10); err != nil || len(hist) != 1 {
				t.Errorf("the site's history after the upgrade: %d scans, %v", len(hist), err)
			}
		})
	}
}
