package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/scan/scantest"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// helperEnv makes the test binary run one "httpsguard web" instance
// instead of the tests (see TestMain), so a test can kill it with SIGKILL.
const helperEnv = "HTTPSGUARD_TEST_WEB_INSTANCE"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runInstance())
	}
	os.Exit(m.Run())
}

// instanceConfig is what the test hands a helper instance, as JSON in
// helperEnv.
type instanceConfig struct {
	DSN     string
	CAFile  string
	Resolve map[string]string
}

// runInstance serves a web checker on loopback the way "httpsguard web"
// does (Server.Serve), with short limits so a killed instance's jobs are
// taken over within seconds, and prints its address.
func runInstance() int {
	var ic instanceConfig
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &ic); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := store.Open(ctx, ic.DSN)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	srv, err := web.New(ctx, web.Config{
		Store: db, Listen: "127.0.0.1:0", AllowPrivate: true, AllowPrivateWebhooks: true,
		ScanOptions: scan.Options{CAFiles: []string{ic.CAFile}, Resolve: ic.Resolve, Timeout: 4 * time.Second},
		Workers:     2, DeliveryWorkers: 2, ScanTimeout: 5 * time.Second, RescueAfter: time.Second,
		PollInterval: 50 * time.Millisecond, ScheduleInterval: 200 * time.Millisecond, RetryBase: 100 * time.Millisecond,
		MinWatchInterval: time.Second, RescanAfter: -1, Version: "test",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := srv.Listen(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("listening on", srv.URL())
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// instance is a helper process.
type instance struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

func startInstance(t *testing.T, ic instanceConfig) *instance {
	t.Helper()
	b, _ := json.Marshal(ic)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(b))
	logs := &syncBuffer{}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("instance did not start: %q %v\n%s", line, err, logs.String())
	}
	go io.Copy(io.Discard, out)
	return &instance{cmd: cmd, url: strings.TrimSpace(strings.TrimPrefix(line, "listening on ")), logs: logs}
}

// TestKillMidWork runs two instances on one PostgreSQL database, with
// watches whose site changes often enough to make events, and webhooks.
// One instance is killed with SIGKILL while both are scanning and
// delivering. Then: every scan is finished (none lost) with one outcome,
// each scan cut short by the kill ran again, every event is recorded once
// and delivered to its webhook, with one successful delivery recorded per
// event, and no job is left or given up.
func TestKillMidWork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes and waits for River to take over a dead one's jobs")
	}
	// A slow site (so scans are in flight at the kill) whose HSTS header
	// comes and goes (so watches record events).
	start := time.Now()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		if (time.Since(start)/(1500*time.Millisecond))%2 == 0 {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		}
		goodSite("").ServeHTTP(w, r)
	})
	site := scantest.NewSite(t, h, scantest.Config{Host: "busy.test"})
	dsn := storetest.DSN(t, "postgres")
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, token, err := db.CreateToken(ctx, "kill test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc := newMultiReceiver(t)
	ic := instanceConfig{DSN: dsn, CAFile: site.CA.RootFile(), Resolve: site.Options.Resolve}
	a, b := startInstance(t, ic), startInstance(t, ic)

	const watches = 12
	client := &http.Client{Timeout: 10 * time.Second}
	api := func(base, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out
	}
	var ids []string
	for i := range watches {
		code, body := api(a.url, "POST", "/api/v1/watches", fmt.Sprintf(`{"url": "https://busy.test/?w=%d", "interval": "1s", "webhooks": [%q]}`, i, rc.srv.URL+"/hook"))
		var wv web.WatchView
		if code != http.StatusCreated || json.Unmarshal(body, &wv) != nil {
			t.Fatalf("creating watch %d = %d %s", i, code, body)
		}
		rc.setSecret(wv.ID, wv.Secret)
		ids = append(ids, wv.ID)
	}

	// Kill A while scans run and deliveries have been made.
	waitFor(t, "scans running on both instances, and deliveries made", func() bool {
		running, _ := countScans(ctx, db, store.Running)
		return running >= 3 && rc.total() >= 3 && strings.Contains(a.logs.String(), "scan started") && strings.Contains(b.logs.String(), "scan started")
	})
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	killedAt := time.Now()
	t.Logf("killed instance A with %d scans running and %d deliveries received", mustCount(t, db, store.Running), rc.total())

	// Let B work a little longer, then stop scheduling new re-checks.
	time.Sleep(2 * time.Second)
	for _, id := range ids {
		if code, body := api(b.url, "PATCH", "/api/v1/watches/"+id, `{"paused": true}`); code != 200 {
			t.Fatalf("pausing = %d %s", code, body)
		}
	}
	deadline := time.Now().Add(150 * time.Second)
	for {
		unfinished := mustCount(t, db, store.Queued) + mustCount(t, db, store.Running)
		undelivered, events := undeliveredEvents(t, db, ids)
		jobs := riverJobs(t, db)
		settled := jobs[rivertype.JobStateRunning]+jobs[rivertype.JobStateRetryable]+jobs[rivertype.JobStateAvailable]+jobs[rivertype.JobStatePending] == 0
		if unfinished == 0 && undelivered == 0 && settled {
			t.Logf("all done %s after the kill: %d events", time.Since(killedAt).Round(time.Second), events)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d scans unfinished, %d events undelivered, jobs %v, %s after the kill\nB's log:\n%s", unfinished, undelivered, jobs, time.Since(killedAt), tail(b.logs.String(), 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Every scan finished once; the ones the kill cut short ran again.
	var total, retried int
	for _, id := range ids {
		scans, err := db.WatchScans(ctx, id, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scans {
			total++
			if !sc.State.Final() || sc.FinishedAt.IsZero() {
				t.Errorf("scan %s is %s", sc.ID, sc.State)
			}
			if sc.Attempts > 1 {
				retried++
			}
		}
	}
	if retried == 0 {
		t.Error("no scan was cut short by the kill and run again: the kill did not happen mid-scan")
	}
	t.Logf("%d scans, %d of them run again after the kill", total, retried)

	// Every event delivered; one successful delivery recorded per event.
	ds, err := db.AllDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	okPer := map[string]int{}
	for _, d := range ds {
		if d.OK {
			okPer[d.EventID+"/"+d.WebhookID]++
		}
	}
	for k, n := range okPer {
		if n != 1 {
			t.Errorf("delivery %s recorded as successful %d times", k, n)
		}
	}
	if bad := rc.badSignatures(); len(bad) > 0 {
		t.Errorf("the receiver refused %d deliveries: %q", len(bad), bad)
	}
	// The receiver deduplicates on the event ID; a delivery whose response
	// the killed instance never read is the only one it may see twice.
	if dup := rc.duplicates(); dup > 2 {
		t.Errorf("the receiver saw %d repeated deliveries; at most the 2 in flight at the kill may repeat", dup)
	}

	// No job left behind or given up.
	jobs := riverJobs(t, db)
	for state, n := range jobs {
		switch state {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled:
		default:
			t.Errorf("%d jobs %s", n, state)
		}
	}
	t.Logf("River jobs by state: %v", jobs)
}

func countScans(ctx context.Context, db *store.DB, st store.State) (int, error) {
	return db.CountState(ctx, st)
}

func mustCount(t *testing.T, db *store.DB, st store.State) int {
	n, err := countScans(context.Background(), db, st)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// undeliveredEvents counts events of the watches not yet delivered to
// every webhook of their watch.
func undeliveredEvents(t *testing.T, db *store.DB, watchIDs []string) (undelivered, total int) {
	ctx := context.Background()
	for _, id := range watchIDs {
		w, err := db.GetWatch(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.WatchEvents(ctx, id, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			total++
			for _, h := range w.Webhooks {
				if ok, err := db.Delivered(ctx, e.ID, h.ID); err != nil {
					t.Fatal(err)
				} else if !ok {
					undelivered++
				}
			}
		}
	}
	return undelivered, total
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// multiReceiver is a webhook receiver for many watches.
type multiReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	secrets map[string]string
	seen    map[string]int
	bad     []string
}

func newMultiReceiver(t *testing.T) *multiReceiver {
	mr := &multiReceiver{secrets: map[string]string{}, seen: map[string]int{}}
	mr.srv = httptest.NewServer(http.HandlerFunc(mr.serve))
	t.Cleanup(mr.srv.Close)
	return mr
}

func (mr *multiReceiver) setSecret(watch, secret string) {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	mr.secrets[watch] = secret
}

func (mr *multiReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p web.EventPayload
	_ = json.Unmarshal(body, &p)
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if err := verify(mr.secrets[p.WatchID], r.Header.Get("Httpsguard-Signature"), body); err != "" {
		mr.bad = append(mr.bad, err)
		http.Error(w, err, http.StatusBadRequest)
		return
	}
	mr.seen[p.ID]++
	w.WriteHeader(http.StatusNoContent)
}

func (mr *multiReceiver) total() int {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	return len(mr.seen)
}

func (mr *multiReceiver) duplicates() int {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	n := 0
	for _, c := range mr.seen {
		n += c - 1
	}
	return n
}

func (mr *multiReceiver) badSignatures() []string {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	return mr.bad
}

// riverJobs counts River's jobs by state.
func riverJobs(t *testing.T, db *store.DB) map[rivertype.JobState]int {
	q, err := db.NewQueue(&river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.JobList(context.Background(), river.NewJobListParams().Kinds("scan", "deliver").States(
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
		rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	).First(10000))
	if err != nil {
		t.Fatal(err)
	}
	out := map[rivertype.JobState]int{}
	for _, j := range res.Jobs {
		out[j.State]++
	}
	return out
}
