package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/store"
)

// River queues: scans and deliveries each have their own workers, so a
// slow webhook receiver never holds up scans; the periodic scheduling job
// runs in the default queue.
const (
	queueScans      = "scans"
	queueDeliveries = "deliveries"
)

// Job priorities (River: 1 runs first). A scan a person is waiting for
// goes before the re-checks of watches, however many are due.
const (
	priorityUser  = 1
	priorityWatch = 2
)

// storeGrace bounds the store calls around a scan: they run after the
// scan's own deadline, and are not cut short by a shutdown (see scanJob).
const storeGrace = 10 * time.Second

// maxInterruptions is how often a scan may be interrupted by a dying
// process before it is failed instead of scanned again, so a target that
// crashes the process cannot do it forever.
const maxInterruptions = 2

// scanArgs is the job that runs one scan: a submitted one or a watch's
// re-check. Unique by scan ID, so inserting it twice queues it once.
type scanArgs struct {
	ScanID string `json:"scan_id"`
}

func (scanArgs) Kind() string { return "scan" }

func (scanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueScans, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// deliverArgs is the job that posts one event to one webhook, retried with
// backoff until the receiver answers 2xx.
type deliverArgs struct {
	EventID   string `json:"event_id"`
	WebhookID string `json:"webhook_id"`
}

func (deliverArgs) Kind() string { return "deliver" }

func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueDeliveries, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// scheduleArgs is the periodic job that queues the re-checks of every due
// watch, and queues again any scan whose process died before its job was
// inserted. Only one may be waiting or running at a time.
type scheduleArgs struct{}

func (scheduleArgs) Kind() string { return "schedule_watches" }

func (scheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// newQueue builds the River client with the server's workers and its
// periodic job.
func (s *Server) newQueue() (store.Queue, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &scanWorker{s: s})
	river.AddWorker(workers, &deliverWorker{s: s})
	river.AddWorker(workers, &scheduleWorker{s: s})
	// The longest a job may run: a scan, or a delivery (see
	// deliverWorker.Timeout). A job still running RescueAfter past that
	// belonged to a process that died.
	jobTimeout := max(s.cfg.ScanTimeout, webhookTimeout) + storeGrace
	cooldown := min(river.FetchCooldownDefault, s.cfg.PollInterval)
	return s.store.NewQueue(&river.Config{
		Logger: slog.New(levelAtLeast{s.log.Handler(), slog.LevelWarn}),
		Queues: map[string]river.QueueConfig{
			queueScans:         {MaxWorkers: s.cfg.Workers},
			queueDeliveries:    {MaxWorkers: s.cfg.DeliveryWorkers},
			river.QueueDefault: {MaxWorkers: 1},
		},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(s.cfg.ScheduleInterval),
			func() (river.JobArgs, *river.InsertOpts) { return scheduleArgs{}, nil },
			&river.PeriodicJobOpts{ID: "schedule_watches", RunOnStart: true},
		)},
		FetchPollInterval:    s.cfg.PollInterval,
		FetchCooldown:        cooldown,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: jobTimeout + s.cfg.RescueAfter,
		MaxAttempts:          s.cfg.DeliveryAttempts,
		RetryPolicy:          backoff{base: s.cfg.RetryBase},
	})
}

// backoff is the retry policy of every job: the base delay doubled at each
// attempt, at most an hour. A webhook receiver that is down for a while is
// tried again after 30s, 1m, 2m, 4m... with the default base.
type backoff struct{ base time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.base
	for i := 1; i < job.Attempt && d < time.Hour; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, time.Hour))
}

// Run runs the background work until ctx is cancelled: scans, watches'
// re-checks and webhook deliveries, as River jobs shared with every
// instance on the same database. Jobs running then are handed back to the
// queue (a scan cut short is released without counting as an attempt).
// Run returns nil after a cancellation.
func (s *Server) Run(ctx context.Context) error {
	if err := s.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("web: starting the job queue: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), storeGrace+5*time.Second)
	defer cancel()
	if err := s.queue.StopAndCancel(stopCtx); err != nil {
		return fmt.Errorf("web: stopping the job queue: %w", err)
	}
	return nil
}

// enqueue inserts the jobs of new scans and records that they are queued.
func (s *Server) enqueue(ctx context.Context, scans []store.Scan, priority int) error {
	if len(scans) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(scans))
	ids := make([]string, len(scans))
	for i, sc := range scans {
		params[i] = river.InsertManyParams{Args: scanArgs{ScanID: sc.ID}, InsertOpts: &river.InsertOpts{Priority: priority}}
		ids[i] = sc.ID
	}
	if _, err := s.queue.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("queueing scans: %w", err)
	}
	return s.store.MarkEnqueued(ctx, ids, s.cfg.now())
}

type scanWorker struct {
	river.WorkerDefaults[scanArgs]
	s *Server
}

// Work runs one scan. Every step can be repeated: River runs a job again
// when its process died, so a scan already finished is only followed up
// (its events' deliveries queued), never scanned or recorded twice.
//
// Cancelling ctx stops the scan, never a store call: a statement cut short
// on the client may still commit on the server, so the store calls run on a
// context of their own, and a scan cut short by a shutdown is given back.
func (w *scanWorker) Work(ctx context.Context, job *river.Job[scanArgs]) error {
	s := w.s
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeGrace)
	defer cancel()
	id := job.Args.ScanID
	before, err := s.store.Start(storeCtx, id, s.cfg.now())
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	log := s.log.With("scan", id, "url", before.URL, "job", job.ID, "attempt", job.Attempt)
	if before.State.Final() {
		return s.followUp(storeCtx, before)
	}
	sc := before
	sc.Attempts++
	var o store.Outcome
	var res *scan.Result
	if before.State == store.Running && before.Attempts >= maxInterruptions {
		// Its earlier workers died while scanning it.
		o = store.Outcome{State: store.Failed, Error: fmt.Sprintf("the scan was interrupted %d times (the server stopped while scanning)", before.Attempts)}
		log.Warn("failing a scan interrupted too often")
	} else {
		log.Info("scan started")
		scanCtx, cancelScan := context.WithTimeout(ctx, s.cfg.ScanTimeout)
		var panicked string
		res, panicked = s.scanSafely(scanCtx, sc.URL)
		cancelScan()
		if ctx.Err() != nil {
			// The server is stopping: the scan was cut short through no
			// fault of the target. Give it back for another worker.
			if err := s.store.Release(storeCtx, id); err != nil {
				return fmt.Errorf("releasing scan %s at shutdown: %w", id, err)
			}
			log.Info("scan released for another worker")
			return river.JobSnooze(0)
		}
		o = s.outcome(res, panicked, log)
	}
	var events []store.Event
	if sc.WatchID != "" {
		events, err = s.watchEvents(storeCtx, sc, o)
		if err != nil {
			return err
		}
	}
	if err := s.store.Finish(storeCtx, id, s.cfg.now(), o, events); errors.Is(err, store.ErrFinished) {
		log.Warn("scan already finished by another worker; its outcome stands")
	} else if err != nil {
		return err
	} else {
		log.Info("scan finished", "state", o.State, "grade", o.Grade, "events", len(events))
	}
	s.pages.dropSite(sc.Site)
	return s.followUp(storeCtx, sc)
}

// followUp queues the deliveries of the events a watch's scan showed, to
// every webhook of the watch. Deliveries are unique by (event, webhook), so
// following up twice queues them once.
func (s *Server) followUp(ctx context.Context, sc store.Scan) error {
	if sc.WatchID == "" {
		return nil
	}
	events, err := s.store.ScanEvents(ctx, sc.ID)
	if err != nil || len(events) == 0 {
		return err
	}
	w, err := s.store.GetWatch(ctx, sc.WatchID)
	if errors.Is(err, store.ErrWatchNotFound) {
		return nil // deleted meanwhile: nobody to tell
	}
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for _, e := range events {
		for _, h := range w.Webhooks {
			params = append(params, river.InsertManyParams{Args: deliverArgs{EventID: e.ID, WebhookID: h.ID}})
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := s.queue.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("queueing deliveries of scan %s: %w", sc.ID, err)
	}
	return nil
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

// outcome turns a scan result into what the store records. A result whose
// target could not be scanned at all is a failed scan, with no grade
// whatever the document says; its document is kept so the failure can be
// read in full. Error texts are made fit for the public first (see
// publicResult), the originals logged.
func (s *Server) outcome(res *scan.Result, panicked string, log *slog.Logger) store.Outcome {
	if res == nil {
		msg := "the scanner returned no result"
		if panicked != "" {
			msg = "internal error while scanning"
		}
		return store.Outcome{State: store.Failed, Error: msg}
	}
	if failed, msg := scanFailure(res); failed {
		log.Warn("scan failed", "err", msg)
	}
	pub := publicResult(res, log)
	doc, err := encodeResult(pub, s.cfg.Version)
	if err != nil {
		return store.Outcome{State: store.Failed, Error: "internal error: " + err.Error()}
	}
	if failed, msg := scanFailure(pub); failed {
		return store.Outcome{State: store.Failed, Error: msg, Result: doc}
	}
	return store.Outcome{State: store.Done, Score: pub.Score, Grade: pub.Grade, Result: doc}
}

// scanFailure reports whether res is a scan that could not be done (it
// has no grade: its page could not be fetched, or the target is invalid),
// and why, in one line with its fix.
func scanFailure(res *scan.Result) (bool, string) {
	if res.Graded() {
		return false, ""
	}
	e := res.Error
	if e == nil {
		return true, "no grade"
	}
	msg := fmt.Sprintf("No grade (%s): %s", e.Kind, e.Message)
	if e.Fix != "" {
		msg += " Fix: " + e.Fix
	}
	return true, msg
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

type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	s *Server
}

// scheduleBatch is how many due watches one transaction schedules.
const scheduleBatch = 200

// Work queues a re-check of every due watch, a batch at a time, then
// queues again the scans whose job was never inserted.
func (w *scheduleWorker) Work(ctx context.Context, job *river.Job[scheduleArgs]) error {
	s := w.s
	total := 0
	for range 10000 { // bounded: each round moves every watch it sees
		now := s.cfg.now()
		due, err := s.store.DueWatches(ctx, now, scheduleBatch)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			break
		}
		scans := make([]store.Scan, len(due))
		for i, wa := range due {
			scans[i] = store.Scan{ID: store.NewID(), Target: wa.Target, URL: wa.URL, Site: wa.Site,
				WatchID: wa.ID, CreatedAt: s.creationTime(now)}
		}
		created, err := s.store.ScheduleScans(ctx, due, scans)
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, created, priorityWatch); err != nil {
			return err
		}
		total += len(created)
		if len(due) < scheduleBatch {
			break
		}
	}
	orphans, err := s.store.Unenqueued(ctx, s.cfg.now().Add(-time.Minute), 1000)
	if err != nil {
		return err
	}
	if len(orphans) > 0 {
		scans := make([]store.Scan, len(orphans))
		for i, id := range orphans {
			scans[i] = store.Scan{ID: id}
		}
		if err := s.enqueue(ctx, scans, priorityUser); err != nil {
			return err
		}
		s.log.Warn("queued scans whose job had not been inserted", "scans", len(orphans))
	}
	if total > 0 {
		s.log.Info("queued watches' re-checks", "scans", total)
	}
	return nil
}

// levelAtLeast drops records below min: River logs every job at Info.
type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelAtLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return levelAtLeast{h.Handler.WithAttrs(as), h.min}
}

func (h levelAtLeast) WithGroup(name string) slog.Handler {
	return levelAtLeast{h.Handler.WithGroup(name), h.min}
}
