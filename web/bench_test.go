package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// BenchmarkResultPage renders a real finished scan's page (two scans of the
// site, so with history and changes), from the page cache and without it.
//
//	go test -run '^$' -bench ResultPage -benchmem ./web/
func BenchmarkResultPage(b *testing.B) {
	site := scantest.NewSite(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		w.Write([]byte("<!doctype html><title>x</title>"))
	}), scantest.Config{Host: "bench.test"})
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(b, "sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := New(ctx, Config{Store: db, ScanOptions: site.Options, AllowPrivate: true, RescanAfter: -1, PollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	var id string
	for range 2 {
		sc, err := s.submit(ctx, "bench.test", "bench", false)
		if err != nil {
			b.Fatal(err)
		}
		for {
			got, err := db.Get(ctx, sc.ID)
			if err != nil {
				b.Fatal(err)
			}
			if got.State.Final() {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		id = sc.ID
	}
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	for _, cached := range []bool{true, false} {
		name := "cached"
		if !cached {
			name = "uncached"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !cached {
					s.pages = newPageCache()
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/scans/"+id, nil))
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
