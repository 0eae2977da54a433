// Command watchload is the helper of bench/web/run.sh, the load test of
// "httpsguard web" watches. Everything stays on loopback.
//
//	watchload site -addr 127.0.0.1:PORT -ca DIR
//	    serves the site the watches check: HTTPS with a certificate for
//	    127.0.0.1 from a throw-away local CA in DIR (its root is
//	    DIR/rootCA.pem, for httpsguard web --ca-file), HSTS and the usual
//	    headers, so each scan does the full work of a real one
//	watchload seed -db DSN -n 10000 -url https://127.0.0.1:PORT/
//	    creates N watches of the URL, all due at once
//	watchload status -db DSN
//	    prints the scans by state and River's scan jobs by state, as
//	    "queued=… running=… done=… failed=… jobs: completed=… …"
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/httpsguard/httpsguard/localca"
	"github.com/httpsguard/httpsguard/web/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: watchload site|seed|status [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "site":
		err = site(os.Args[2:])
	case "seed":
		err = seed(os.Args[2:])
	case "status":
		err = status(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchload:", err)
		os.Exit(1)
	}
}

func site(args []string) error {
	fs := flag.NewFlagSet("site", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to serve HTTPS on")
	dir := fs.String("ca", "", "directory of the throw-away CA")
	fs.Parse(args)
	ca, _, err := localca.LoadOrCreate(*dir)
	if err != nil {
		return err
	}
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>watched</title><p>hello</p>")
	})
	srv := &http.Server{Addr: *addr, Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{*cert}}, ReadHeaderTimeout: 5 * time.Second,
		// The scanner's protocol probes make handshakes fail on purpose.
		ErrorLog: log.New(io.Discard, "", 0)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); srv.Close() }()
	fmt.Println("root", ca.RootFile())
	if err := srv.ListenAndServeTLS("", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dsn := fs.String("db", "", "database of httpsguard web")
	n := fs.Int("n", 10000, "watches to create")
	target := fs.String("url", "", "URL every watch checks")
	fs.Parse(args)
	ctx := context.Background()
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	tok, _, err := db.CreateToken(ctx, "watchload", now)
	if err != nil {
		return err
	}
	site := strings.TrimSuffix(strings.TrimPrefix(*target, "https://"), "/")
	for i := range *n {
		w := store.Watch{ID: store.NewID(), TokenID: tok.ID, Target: *target, URL: *target, Site: site,
			Interval: 24 * time.Hour, Secret: "whsec_watchload", CreatedAt: now, NextDueAt: now}
		if err := db.CreateWatch(ctx, w); err != nil {
			return fmt.Errorf("watch %d: %w", i, err)
		}
	}
	fmt.Printf("created %d watches of %s, all due at %s\n", *n, *target, now.UTC().Format(time.RFC3339))
	return nil
}

func status(args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	dsn := fs.String("db", "", "database of httpsguard web")
	fs.Parse(args)
	ctx := context.Background()
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var b strings.Builder
	for _, st := range []store.State{store.Queued, store.Running, store.Done, store.Failed} {
		c, err := db.CountState(ctx, st)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s=%d ", st, c)
	}
	q, err := db.NewQueue(&river.Config{})
	if err != nil {
		return err
	}
	counts := map[rivertype.JobState]int{}
	params := river.NewJobListParams().Kinds("scan").First(10000).States(
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
		rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled)
	for {
		res, err := q.JobList(ctx, params)
		if err != nil {
			return err
		}
		for _, j := range res.Jobs {
			counts[j.State]++
		}
		if len(res.Jobs) < 10000 {
			break
		}
		params = params.After(res.LastCursor)
	}
	b.WriteString("jobs:")
	var states []string
	for s := range counts {
		states = append(states, string(s))
	}
	slices.Sort(states)
	for _, s := range states {
		fmt.Fprintf(&b, " %s=%d", s, counts[rivertype.JobState(s)])
	}
	fmt.Println(b.String())
	return nil
}
