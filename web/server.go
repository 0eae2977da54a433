package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/ratelimit"
	"github.com/httpsguard/httpsguard/web/store"
)

// Scanner runs one check. *scan.Scanner is the real one; tests may give
// another to control timing.
type Scanner interface {
	Scan(ctx context.Context, target string) *scan.Result
}

// Defaults for Config fields left zero.
const (
	// DefaultListen is the address Serve listens on.
	DefaultListen = "127.0.0.1:8088"
	// DefaultWorkers is how many scans run at once.
	DefaultWorkers = 4
	// DefaultMaxQueue is how many scans may wait.
	DefaultMaxQueue = 500
	// DefaultScanTimeout bounds one scan.
	DefaultScanTimeout = 60 * time.Second
	// DefaultRescanAfter is how long a finished scan is reused.
	DefaultRescanAfter = 2 * time.Minute
	// DefaultPollInterval is how often idle workers look at the queue
	// (River's fetch poll; PostgreSQL also wakes them at once).
	DefaultPollInterval = time.Second
	// DefaultMaxQueuedPerClient is how many unfinished scans one client
	// may have, its fair share of the queue.
	DefaultMaxQueuedPerClient = 5
	// DefaultDeliveryWorkers is how many webhook deliveries run at once.
	DefaultDeliveryWorkers = 4
	// DefaultDeliveryAttempts is how often a webhook delivery is tried
	// before it is given up.
	DefaultDeliveryAttempts = 12
	// DefaultRetryBase is the first retry delay of a failed job (a
	// webhook delivery); it doubles at each attempt, up to an hour.
	DefaultRetryBase = 30 * time.Second
	// DefaultScheduleInterval is how often due watches are looked for.
	DefaultScheduleInterval = time.Minute
	// DefaultRescueAfter is how long after its time limit a job whose
	// process died is handed to another worker.
	DefaultRescueAfter = 30 * time.Second
	// DefaultWatchInterval is a watch's re-check interval when none is
	// given; MinWatchInterval the shortest accepted.
	DefaultWatchInterval = 24 * time.Hour
	MinWatchInterval     = time.Hour
	// DefaultSubmitBurst is how many scans a client may start at once.
	DefaultSubmitBurst = 10
	// DefaultMaxClients bounds the rate limiter's memory.
	DefaultMaxClients = 10000
	// DefaultSubmitInterval is the sustained rate of scan submissions per
	// client after the burst: one every six seconds, ten a minute.
	DefaultSubmitInterval = 6 * time.Second
)

// Config configures a Server. Store is required; everything else has a
// default.
type Config struct {
	// Store keeps scans and is the queue.
	Store *store.DB

	// Scanner runs the checks. When nil, New builds a *scan.Scanner from
	// ScanOptions.
	Scanner Scanner
	// ScanOptions configures the scanner New builds. DenyPrivate is
	// forced on unless AllowPrivate is set, whatever the field says.
	ScanOptions scan.Options
	// AllowPrivate lets users check sites on loopback, private, link-local
	// and other non-public addresses: for use inside a company network and
	// for tests. Off, such targets are refused before and during the scan.
	AllowPrivate bool

	// Workers is how many scans run at once (default 4).
	Workers int
	// MaxQueue is how many submitted scans may wait; more submissions are
	// answered 503 with Retry-After (default 500). Watches' re-checks do
	// not count.
	MaxQueue int
	// MaxQueuedPerClient is how many unfinished scans one client may have
	// (default 5): its fair share, so a few clients cannot fill the queue
	// for everyone.
	MaxQueuedPerClient int
	// ScanTimeout bounds one scan (default 60s). A scan's job may run
	// ScanTimeout plus a few seconds for the store; a job still running
	// RescueAfter later belonged to a dead process and is run again.
	ScanTimeout time.Duration
	// RescueAfter is how long past its time limit a job whose process
	// died waits before another worker takes it (default 30s).
	RescueAfter time.Duration
	// RescanAfter is how long a finished scan of a URL is reused for a new
	// submission of the same URL, so a burst of submissions scans a site
	// once (default 2 minutes; negative turns reuse off). A queued or
	// running scan of the URL is always reused.
	RescanAfter time.Duration
	// PollInterval is how often idle workers look for jobs (default 1s).
	// On PostgreSQL River is also woken by LISTEN/NOTIFY.
	PollInterval time.Duration

	// DeliveryWorkers is how many webhook deliveries run at once (default
	// 4); DeliveryAttempts how often one is tried (default 12); RetryBase
	// the first retry delay, doubled at each attempt up to an hour
	// (default 30s).
	DeliveryWorkers  int
	DeliveryAttempts int
	RetryBase        time.Duration
	// ScheduleInterval is how often due watches are looked for (default
	// 1 minute).
	ScheduleInterval time.Duration
	// MinWatchInterval is the shortest re-check interval a watch may ask
	// for (default MinWatchInterval, hourly). Tests lower it.
	MinWatchInterval time.Duration

	// SubmitInterval and SubmitBurst limit scan submissions per client: a
	// client may submit SubmitBurst scans at once, then one per
	// SubmitInterval (defaults 10 and 6s). Reused scans are free.
	SubmitInterval time.Duration
	SubmitBurst    int
	// MaxClients bounds the rate limiter's memory (default 10000 clients).
	MaxClients int
	// TrustedProxies are the networks of reverse proxies in front of the
	// server. For a request from one of them, the client is the last
	// untrusted address of X-Forwarded-For, and X-Forwarded-Proto says
	// whether the client used HTTPS.
	TrustedProxies []netip.Prefix

	// Secure says the site is reached over HTTPS (served with TLS, or
	// behind a trusted TLS-terminating proxy): plain HTTP requests are
	// redirected and responses carry HSTS.
	Secure bool
	// SSLHost is the host (and port) plain HTTP requests are redirected
	// to when Secure; empty means the request's own host.
	SSLHost string
	// HSTSPreload adds "preload" to the HSTS header: only set it for a
	// domain whose every subdomain is ready for HTTPS-only.
	HSTSPreload bool

	// Listen is the address Serve listens on (default 127.0.0.1:8088).
	Listen string
	// TLSConfig, when set, makes Serve speak HTTPS on Listen.
	TLSConfig *tls.Config
	// RedirectListen, with TLSConfig, is a second address where Serve
	// answers plain HTTP with a redirect to HTTPS.
	RedirectListen string

	// PublicURL is where people reach this site, such as
	// "https://checker.example.org": the scheme and host (and port) only.
	// Webhook payloads and Atom feeds leave this server and are read
	// where its address is unknown, so their links are made absolute
	// with it; when empty they stay relative ("/scans/ID"), which a feed
	// reader resolves against the feed's own address but a webhook
	// receiver cannot.
	PublicURL string

	// AllowPrivateWebhooks lets webhooks be delivered to loopback, private
	// and other non-public addresses: for a company network and for
	// tests. Off, such targets are refused when a watch is created and on
	// every connection a delivery dials.
	AllowPrivateWebhooks bool

	// Version is the program version shown in reports.
	Version string
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger

	now func() time.Time // tests may set a clock
}

// Server is the web checker. Create it with New and run it with Serve; or
// serve Handler yourself and run the workers with Run.
type Server struct {
	cfg     Config
	store   *store.DB
	scanner Scanner
	log     *slog.Logger
	limiter *ratelimit.Limiter
	guard   *httpsguard.Guard
	handler http.Handler
	tmpl    *templates
	queue   store.Queue
	csrfKey []byte
	// clientHashKey keys the hash under which a scan's submitter is
	// stored.
	clientHashKey []byte
	// webhooks posts deliveries, refusing non-public addresses unless
	// AllowPrivateWebhooks.
	webhooks   *http.Client
	pages      *pageCache
	mu         sync.Mutex
	ln         net.Listener // bound by Listen
	redirectLn net.Listener
	// lastCreated is the creation time (Unix µs) of the newest scan
	// submitted here.
	lastCreated atomic.Int64
}

// New validates cfg and returns a Server. It reads (or creates) the key
// that signs form tokens from the store.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: Config.Store is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = DefaultScanTimeout
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	if cfg.MaxQueuedPerClient <= 0 {
		cfg.MaxQueuedPerClient = DefaultMaxQueuedPerClient
	}
	if cfg.DeliveryWorkers <= 0 {
		cfg.DeliveryWorkers = DefaultDeliveryWorkers
	}
	if cfg.DeliveryAttempts <= 0 {
		cfg.DeliveryAttempts = DefaultDeliveryAttempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.MinWatchInterval <= 0 {
		cfg.MinWatchInterval = MinWatchInterval
	}
	if cfg.ScheduleInterval <= 0 {
		cfg.ScheduleInterval = DefaultScheduleInterval
	}
	if cfg.RescanAfter == 0 {
		cfg.RescanAfter = DefaultRescanAfter
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.SubmitInterval <= 0 {
		cfg.SubmitInterval = DefaultSubmitInterval
	}
	if cfg.SubmitBurst <= 0 {
		cfg.SubmitBurst = DefaultSubmitBurst
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.PublicURL != "" {
		base, err := ParsePublicURL(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("web: Config.PublicURL: %w", err)
		}
		cfg.PublicURL = base
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = "devel"
	}
	s := &Server{
		cfg:     cfg,
		store:   cfg.Store,
		scanner: cfg.Scanner,
		log:     cfg.Logger,
		limiter: ratelimit.New(rate.Every(cfg.SubmitInterval), cfg.SubmitBurst, cfg.MaxClients),
		pages:   newPageCache(),
	}
	if s.scanner == nil {
		opts := cfg.ScanOptions
		opts.DenyPrivate = !cfg.AllowPrivate
		if opts.Timeout <= 0 || opts.Timeout > cfg.ScanTimeout {
			opts.Timeout = cfg.ScanTimeout
		}
		sc, err := scan.New(opts)
		if err != nil {
			return nil, fmt.Errorf("web: configuring the scanner: %w", err)
		}
		sc.SetVersion(cfg.Version)
		s.scanner = sc
	}
	key, err := cfg.Store.Secret(ctx, "csrf")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.csrfKey = key
	if s.clientHashKey, err = cfg.Store.Secret(ctx, "client-hash"); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.webhooks = newWebhookClient(cfg.AllowPrivateWebhooks)
	if s.queue, err = s.newQueue(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	guard, err := httpsguard.New(Policy(cfg))
	if err != nil {
		return nil, fmt.Errorf("web: compiling the site's own policy: %w", err)
	}
	s.guard = guard
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s.tmpl = tmpl
	s.handler = guard.Handler(s.routes())
	return s, nil
}

// Handler returns the site: pages, API and static files, wrapped in the
// httpsguard middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an *http.Server for addr serving Handler, with the
// timeouts and header limit a server facing the internet needs.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.startPage)
	mux.HandleFunc("POST /scans", s.submitForm)
	mux.HandleFunc("GET /scans/{id}", s.resultPage)
	mux.HandleFunc("GET /scans/{id}/report.html", s.downloadHTML)
	mux.HandleFunc("GET /scans/{id}/report.json", s.downloadJSON)
	mux.HandleFunc("GET /sites/{site}", s.sitePage)
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /healthz", s.healthz)

	mux.HandleFunc("POST /api/v1/scans", s.apiSubmit)
	mux.HandleFunc("GET /api/v1/scans/{id}", s.apiScan)
	mux.HandleFunc("GET /api/v1/sites/{site}/scans", s.apiSiteScans)
	mux.HandleFunc("POST /api/v1/watches", s.apiCreateWatch)
	mux.HandleFunc("GET /api/v1/watches", s.apiListWatches)
	mux.HandleFunc("GET /api/v1/watches/{id}", s.apiGetWatch)
	mux.HandleFunc("PATCH /api/v1/watches/{id}", s.apiPatchWatch)
	mux.HandleFunc("DELETE /api/v1/watches/{id}", s.apiDeleteWatch)
	mux.HandleFunc("GET /api/v1/watches/{id}/events", s.apiWatchEvents)
	mux.HandleFunc("GET /api/v1/watches/{id}/deliveries", s.apiWatchDeliveries)

	mux.HandleFunc("GET /sites/{site}/events.atom", s.siteFeed)
	mux.HandleFunc("GET /sites/{site}/badge.svg", s.siteBadge)
	mux.HandleFunc("GET /watches", s.watchesPage)
	mux.HandleFunc("POST /watches", s.watchForm)
	mux.HandleFunc("GET /watches/{id}", s.watchPage)
	mux.HandleFunc("POST /watches/{id}", s.watchAction)
	// The API's addresses answer other methods with a JSON 405.
	for path, allow := range map[string]string{
		"/api/v1/scans":                   "POST",
		"/api/v1/scans/{id}":              "GET, HEAD",
		"/api/v1/sites/{site}/scans":      "GET, HEAD",
		"/api/v1/watches":                 "GET, HEAD, POST",
		"/api/v1/watches/{id}":            "GET, HEAD, PATCH, DELETE",
		"/api/v1/watches/{id}/events":     "GET, HEAD",
		"/api/v1/watches/{id}/deliveries": "GET, HEAD",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			apiError(w, http.StatusMethodNotAllowed, "use "+allow+" here")
		})
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API endpoint: see the API reference")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.")
	})
	return commonHeaders(mux)
}

// commonHeaders sets what the middleware's Policy has no field for.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Nothing here is meant to be embedded by other sites.
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.QueueLength(ctx); err != nil {
		s.log.Error("health check", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}
