package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestOwnGrade serves the web checker as it is deployed on the internet
// (HTTPS with a certificate from a local CA, plus a plain-HTTP listener the
// middleware redirects) and scans it with its own checker, DenyPrivate off
// because it runs on loopback. It must earn the top grade under both
// scoring models.
func TestOwnGrade(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, preload := range []bool{false, true} {
		srv, err := web.New(context.Background(), web.Config{
			Store:       db,
			Secure:      true,
			HSTSPreload: preload,
			Logger:      slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		site := scantest.NewSite(t, srv.Handler(), scantest.Config{Host: "httpsguard.test"})
		for _, scoring := range []string{scan.ScoringHTTPSGuard, scan.ScoringObservatory} {
			t.Run(fmt.Sprintf("%s/preload=%v", scoring, preload), func(t *testing.T) {
				opts := site.Options
				opts.Scoring = scoring
				opts.Timeout = 15 * time.Second
				sc, err := scan.New(opts)
				if err != nil {
					t.Fatal(err)
				}
				res := sc.Scan(context.Background(), "httpsguard.test")
				var lost []string
				for _, c := range res.Checks {
					if c.ScoreImpact < 0 || c.Status == scan.StatusFail || c.Status == scan.StatusWarn || c.Status == scan.StatusError {
						lost = append(lost, c.ID+" "+string(c.Status)+" "+c.Message)
					}
				}
				t.Logf("%s: score %d, grade %s", scoring, res.Score, res.Grade)
				if res.Error != nil || res.Incomplete || res.Grade != "A+" || res.Score < 100 || len(lost) > 0 {
					t.Errorf("own grade (%s) = %s, score %d, error %+v; want A+ and 100 with nothing lost:\n  %s",
						scoring, res.Grade, res.Score, res.Error, strings.Join(lost, "\n  "))
				}
				// With --hsts-preload it meets every preload-list rule that
				// can be judged from a response (hstspreload's header and
				// redirect rules).
				for _, c := range res.Checks {
					if preload && c.ID == "HGS-HSTS-006" && c.Status != scan.StatusPass {
						t.Errorf("preload eligibility: %s %s", c.Status, c.Message)
					}
				}
			})
		}
	}
}
