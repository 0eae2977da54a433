package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/store"
)

// leaseGrace is added to ScanTimeout for a worker's claim on a scan: a scan
// still running past its timeout plus this belongs to a dead process.
const leaseGrace = 30 * time.Second

// storeTimeout bounds a claim, release or finish, which shutdown does not
// interrupt (see runNext).
const storeTimeout = 10 * time.Second

// Run recovers scans interrupted by an earlier process, then runs the
// worker pool until ctx is cancelled. Scans still running then are put back
// in the queue for the next start. Run returns nil after a cancellation.
func (s *Server) Run(ctx context.Context) error {
	if err := s.recover(ctx, true); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx)
		}()
	}
	// Leases of dead instances sharing a PostgreSQL database run out while
	// this one lives; look for them now and then.
	t := time.NewTicker(leaseGrace)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
			if err := s.recover(ctx, false); err != nil && ctx.Err() == nil {
				s.log.Error("recovering interrupted scans", "err", err)
			}
		}
	}
}

// recover requeues (or fails) scans whose worker died. At start, a SQLite
// store belongs to this process alone, so every running scan is an orphan;
// a shared PostgreSQL store only gives up scans whose lease has run out.
func (s *Server) recover(ctx context.Context, starting bool) error {
	now := s.cfg.now()
	cutoff := now
	if starting && !s.store.Shared() {
		cutoff = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // every lease

	}
	requeued, failed, err := s.store.RecoverRunning(ctx, cutoff, now, maxAttempts)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	if requeued+failed > 0 {
		s.log.Warn("recovered scans interrupted by a stopped process", "requeued", requeued, "failed", failed)
		s.notify()
	}
	return nil
}

// notify wakes one idle worker, if any, to look at the queue.
func (s *Server) notify() {
	select {
	case s.wake <- struct{}{}:
	default: // every worker is busy or already woken
	}
}

func (s *Server) worker(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			ran, err := s.runNext(ctx)
			if err != nil {
				// Not a shutdown artefact: runNext's store calls are not
				// cancelled by ctx, so this is a real failure, such as a
				// scan that could not be released at shutdown.
				s.log.Error("running a scan", "err", err)
				break
			}
			if !ran {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// runNext claims the oldest queued scan and runs it. ran is false when the
// queue was empty or the server is stopping.
//
// Cancelling ctx stops the scan, never a store call: a statement cut short
// on the client may still commit on the server (pgx only drops the
// connection; the database runs what it received), and a claim lost that
// way would leave a scan running that no worker holds, to come back only
// when its lease runs out, counted as an interruption. So the claim runs to
// the end, and a scan claimed as the server stops is given back at once.
func (s *Server) runNext(ctx context.Context) (ran bool, err error) {
	if ctx.Err() != nil {
		return false, nil
	}
	claimCtx, cancelClaim := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	now := s.cfg.now()
	sc, ok, err := s.store.Claim(claimCtx, now, now.Add(s.cfg.ScanTimeout+leaseGrace))
	cancelClaim()
	if err != nil || !ok {
		return false, err
	}
	log := s.log.With("scan", sc.ID, "url", sc.URL, "attempt", sc.Attempts)

	var (
		res      *scan.Result
		panicked string
	)
	if ctx.Err() == nil {
		log.Info("scan started")
		scanCtx, cancel := context.WithTimeout(ctx, s.cfg.ScanTimeout)
		res, panicked = s.scanSafely(scanCtx, sc.URL)
		cancel()
	}

	// Put away the outcome even when the server is stopping: the context
	// that cancelled the scan must not also lose its result.
	saveCtx, cancelSave := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancelSave()
	if ctx.Err() != nil {
		// The server is stopping: the scan was cut short (or never
		// started) through no fault of the target. Give it back to the
		// queue for the next start.
		if err := s.store.Release(saveCtx, sc.ID, sc.Attempts); err != nil {
			return true, fmt.Errorf("releasing scan %s at shutdown: %w", sc.ID, err)
		}
		log.Info("scan released for the next start")
		return true, nil
	}
	o := outcome(res, panicked, s.cfg.Version)
	if err := s.store.Finish(saveCtx, sc.ID, sc.Attempts, s.cfg.now(), o); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			log.Warn("scan finished after its lease ran out; another worker owns it now")
			return true, nil
		}
		return true, err
	}
	s.pages.dropSite(sc.Site)
	log.Info("scan finished", "state", o.State, "grade", o.Grade, "score", o.Score)
	return true, nil
}

// scanSafely runs the scanner, turning a panic into a failed scan rather
// than a dead server.
func (s *Server) scanSafely(ctx context.Context, url string) (res *scan.Result, panicked string) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("scanner panicked", "url", url, "panic", p, "stack", string(debug.Stack()))
			res, panicked = nil, fmt.Sprint(p)
		}
	}()
	return s.scanner.Scan(ctx, url), ""
}

// outcome turns a scan result into what the store records. A result
// without a grade (its page could not be fetched, or the target is
// invalid: Result.Error) is a failed scan, with the reason; its document is
// kept so the failure can be read in full.
func outcome(res *scan.Result, panicked, version string) store.Outcome {
	if res == nil {
		msg := "the scanner returned no result"
		if panicked != "" {
			msg = "internal error while scanning"
		}
		return store.Outcome{State: store.Failed, Error: msg}
	}
	doc, err := encodeResult(res, version)
	if err != nil {
		return store.Outcome{State: store.Failed, Error: "internal error: " + err.Error()}
	}
	if !res.Graded() {
		return store.Outcome{State: store.Failed, Error: failureReason(res), Result: doc}
	}
	return store.Outcome{State: store.Done, Score: res.Score, Grade: res.Grade, Result: doc}
}

// failureReason is why a result has no grade, in one line, with its fix.
func failureReason(res *scan.Result) string {
	e := res.Error
	if e == nil {
		return "no grade"
	}
	msg := fmt.Sprintf("No grade (%s): %s", e.Kind, e.Message)
	if e.Fix != "" {
		msg += " Fix: " + e.Fix
	}
	return msg
}

// encodeResult writes res as "httpsguard check --format json" does, then
// compacts it for storage.
func encodeResult(res *scan.Result, version string) ([]byte, error) {
	var buf bytes.Buffer
	if err := report.Write(&buf, report.JSON, []*scan.Result{res}, report.Options{ToolVersion: version}); err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("compacting the result: %w", err)
	}
	return out.Bytes(), nil
}

// decodeResult reads a stored result document.
func decodeResult(doc []byte) (*scan.Result, error) {
	var r scan.Result
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, fmt.Errorf("decoding a stored result: %w", err)
	}
	return &r, nil
}
