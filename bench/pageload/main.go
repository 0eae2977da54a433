// Command pageload is the benchmark of what a developer feels with
// "httpsguard serve": headless Chromium, with a fresh profile and so an
// empty cache for every load, loads a development page of 300 small ES
// modules (as Vite's dev server sends them: one request per module, in an
// import graph three levels deep) from a plain-HTTP application directly,
// and through serve, Caddy and nginx (both with HTTP/2 and TLS). Rounds are
// interleaved, each in a new order, so that a change in the machine's load
// hits every target; the table gives medians and ratios.
//
//	pageload run -httpsguard BIN [-rounds 7] [-out FILE]
//	pageload shutdown -httpsguard BIN [-runs 5] [-out FILE]
//
// The shutdown subcommand measures how long serve takes to exit after
// SIGINT (Ctrl-C) with nothing connected, with a Chromium tab open (an idle
// HTTP/2 connection), with Go's HTTP/2 and HTTP/1.1 clients holding idle
// connections, and with a request in flight that never ends.
//
// Everything listens on 127.0.0.1 and every request goes there. Chromium is
// driven through chromedriver's WebDriver API; it trusts each proxy's
// certificate key alone (--ignore-certificate-errors-spki-list), with every
// other certificate check on. bench/pageload/run.sh installs what is missing
// and builds httpsguard.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pageload run|shutdown -httpsguard BIN [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = runLoads(ctx, os.Args[2:])
	case "shutdown":
		err = runShutdown(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pageload %s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// env is what every target needs: a working directory, the application,
// the local CA and the programs.
type env struct {
	dir          string
	httpsguard   string
	chromium     string
	chromedriver string
	appAddr      string // 127.0.0.1:PORT
	caRoot       string // the local CA's root (serve, nginx)
	leaf, key    string // a leaf from the local CA for nginx
	procs        []*exec.Cmd
}

func newEnv(ctx context.Context, dir, httpsguard, chromium, chromedriver string) (*env, error) {
	e := &env{dir: dir, httpsguard: httpsguard, chromium: chromium, chromedriver: chromedriver}
	for _, p := range []string{httpsguard, chromium, chromedriver} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	os.Setenv("HTTPSGUARD_CAROOT", filepath.Join(dir, "ca"))
	// Caddy keeps its state (its own local CA) under these.
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg", "data"))
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg", "config"))
	out, err := exec.CommandContext(ctx, httpsguard, "cert", "--dir", filepath.Join(dir, "certs"),
		"--cert-file", "leaf.pem", "--key-file", "leaf-key.pem", "localhost", "127.0.0.1", "::1").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("httpsguard cert: %v: %s", err, out)
	}
	e.leaf, e.key = filepath.Join(dir, "certs", "leaf.pem"), filepath.Join(dir, "certs", "leaf-key.pem")
	root, err := exec.CommandContext(ctx, httpsguard, "ca", "root").Output()
	if err != nil {
		return nil, fmt.Errorf("httpsguard ca root: %w", err)
	}
	e.caRoot = strings.TrimSpace(string(root))
	return e, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs a program in the background with its output in a log file,
// and remembers it so that stopAll ends it.
func (e *env) start(name string, argv ...string) (*exec.Cmd, error) {
	logFile, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	e.procs = append(e.procs, cmd)
	go func() { cmd.Wait(); logFile.Close() }()
	return cmd, nil
}

// stopAll stops every program this process started, by its own PID.
func (e *env) stopAll() {
	for _, cmd := range e.procs {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, cmd := range e.procs {
		for cmd.ProcessState == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}
}

// target is one way to reach the application.
type target struct {
	name   string
	url    string // the page
	caFile string // root that verifies the proxy's certificate; "" for plain HTTP
	proto  string // the protocol the page must load over
	pid    int    // the proxy's process; 0 for none
}

func (e *env) startServe(ctx context.Context) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	// serve as a developer runs it: its defaults, access log included
	// (written to a file here), HTTP redirect listener off only because
	// nothing uses it.
	cmd, err := e.start("serve", e.httpsguard, "serve", "--to", "http://"+e.appAddr,
		"--https", fmt.Sprintf("127.0.0.1:%d", port), "--http", "off")
	if err != nil {
		return target{}, err
	}
	t := target{name: "httpsguard serve", url: fmt.Sprintf("https://127.0.0.1:%d/", port), caFile: e.caRoot, proto: "h2", pid: cmd.Process.Pid}
	return t, waitReady(ctx, t)
}

func (e *env) startCaddy(ctx context.Context) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	dir := filepath.Join(e.dir, "caddy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return target{}, err
	}
	// What "caddy reverse-proxy --from https://127.0.0.1:PORT --to APP
	// --internal-certs" configures (HTTP/2 and TLS with Caddy's own local
	// CA), with its state in the work directory and without installing its
	// root into this machine's trust stores (skip_install_trust), which
	// "caddy reverse-proxy" would do as root.
	conf := fmt.Sprintf(`{
	admin off
	skip_install_trust
	auto_https disable_redirects
	storage file_system %s
}
https://127.0.0.1:%d {
	bind 127.0.0.1
	tls internal
	reverse_proxy %s
}
`, filepath.Join(dir, "data"), port, e.appAddr)
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return target{}, err
	}
	cmd, err := e.start("caddy", "caddy", "run", "--adapter", "caddyfile", "--config", file)
	if err != nil {
		return target{}, err
	}
	root := filepath.Join(dir, "data", "pki", "authorities", "local", "root.crt")
	t := target{name: "Caddy", url: fmt.Sprintf("https://127.0.0.1:%d/", port), caFile: root, proto: "h2", pid: cmd.Process.Pid}
	return t, waitReady(ctx, t)
}

func (e *env) startNginx(ctx context.Context) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	dir := filepath.Join(e.dir, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return target{}, err
	}
	// HTTP/2 and TLS with a leaf from the local CA, keep-alive to the
	// application, the forwarded headers serve and Caddy send; as in
	// bench/proxy/run.sh.
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/tmp/body;
	proxy_temp_path %[1]s/tmp/proxy;
	fastcgi_temp_path %[1]s/tmp/fastcgi;
	uwsgi_temp_path %[1]s/tmp/uwsgi;
	scgi_temp_path %[1]s/tmp/scgi;
	upstream app {
		server %[2]s;
		keepalive 256;
	}
	server {
		listen 127.0.0.1:%[3]d ssl http2;
		ssl_certificate %[4]s;
		ssl_certificate_key %[5]s;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $http_host;
		}
	}
}
`, dir, e.appAddr, port, e.leaf, e.key)
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return target{}, err
	}
	cmd, err := e.start("nginx", nginxBin(), "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", file)
	if err != nil {
		return target{}, err
	}
	t := target{name: "nginx", url: fmt.Sprintf("https://127.0.0.1:%d/", port), caFile: e.caRoot, proto: "h2", pid: cmd.Process.Pid}
	return t, waitReady(ctx, t)
}

// client returns an HTTP client that trusts t's CA.
func (t target) client() (*http.Client, error) {
	tr := &http.Transport{Proxy: nil, ForceAttemptHTTP2: true}
	if t.caFile != "" {
		pem, err := os.ReadFile(t.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", t.caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}, nil
}

// waitReady waits until t serves the application's page.
func waitReady(ctx context.Context, t target) error {
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c, err := t.client()
		if err == nil {
			var resp *http.Response
			if resp, err = c.Get(t.url); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && strings.Contains(string(body), pageMark) {
					c.CloseIdleConnections()
					return nil
				}
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			c.CloseIdleConnections()
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not serve the page at %s: %v", t.name, t.url, last)
}

// spkiPin returns what --ignore-certificate-errors-spki-list takes for t's
// certificate, from a handshake verified against t's CA.
func spkiPin(t target) (string, error) {
	c, err := t.client()
	if err != nil {
		return "", err
	}
	host := strings.TrimSuffix(strings.TrimPrefix(t.url, "https://"), "/")
	conf := c.Transport.(*http.Transport).TLSClientConfig.Clone()
	conf.ServerName = "127.0.0.1"
	conn, err := tls.Dial("tcp", host, conf)
	if err != nil {
		return "", fmt.Errorf("%s: verified handshake: %w", t.name, err)
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// load is one page load, as the page saw it.
type load struct {
	LoadMS  float64 `json:"load"`    // navigation start to the end of the load event
	DoneMS  float64 `json:"done"`    // navigation start to the last module's run
	Modules int     `json:"modules"` // modules that ran
	Proto   string  `json:"proto"`   // nextHopProtocol of the page
	CPUMS   float64 `json:"-"`       // CPU time the proxy used during the load
}

const loadScript = `const n = performance.getEntriesByType("navigation")[0];
return {load: n.loadEventEnd, done: window.__done || 0, modules: window.__modules || 0, proto: n.nextHopProtocol};`

func runLoads(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	opts := commonFlags(fs)
	rounds := fs.Int("rounds", 7, "interleaved `rounds`; each loads the page once through every target")
	only := fs.String("targets", "direct,serve,caddy,nginx", "comma-separated `targets`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, _, cleanup, err := opts.setup(ctx, "pageload.")
	if err != nil {
		return err
	}
	defer cleanup()

	var targets []target
	for _, name := range strings.Split(*only, ",") {
		var t target
		var err error
		switch name {
		case "direct":
			t = target{name: "the app directly (HTTP/1.1)", url: "http://" + e.appAddr + "/", proto: "http/1.1"}
			err = waitReady(ctx, t)
		case "serve":
			t, err = e.startServe(ctx)
		case "caddy":
			t, err = e.startCaddy(ctx)
		case "nginx":
			t, err = e.startNginx(ctx)
		default:
			err = fmt.Errorf("unknown target %q", name)
		}
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	var pins []string
	for _, t := range targets {
		if t.caFile != "" {
			pin, err := spkiPin(t)
			if err != nil {
				return err
			}
			pins = append(pins, pin)
		}
	}
	wd, err := startWebDriver(ctx, e)
	if err != nil {
		return err
	}
	defer wd.stop()

	loadBefore := loadAverage()
	started := time.Now().UTC()
	results := map[string][]load{}
	// A warm-up load through each target, not counted: the first Chromium
	// start of a run pays for the disk cache of its own files.
	for _, t := range targets {
		if _, err := wd.loadOnce(ctx, t, pins); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	for round := range *rounds {
		order := slices.Clone(targets)
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, t := range order {
			l, err := wd.loadOnce(ctx, t, pins)
			if err != nil {
				return fmt.Errorf("round %d: %w", round+1, err)
			}
			results[t.name] = append(results[t.name], l)
			logf("round %d  %-28s %6.0f ms  (%s, %d modules)", round+1, t.name, l.LoadMS, l.Proto, l.Modules)
		}
	}
	return opts.report(loadTable(targets, results, *rounds, started, loadBefore, loadAverage()))
}

// commonOpts are the flags both measurements take.
type commonOpts struct {
	httpsguard, out, chromium, chromedriver *string
}

func commonFlags(fs *flag.FlagSet) commonOpts {
	return commonOpts{
		httpsguard:   fs.String("httpsguard", "", "the httpsguard `binary` to measure"),
		out:          fs.String("out", "", "also write the Markdown table to this `file`"),
		chromium:     fs.String("chromium", "/usr/bin/chromium", "Chromium `binary`"),
		chromedriver: fs.String("chromedriver", "/usr/bin/chromedriver", "chromedriver `binary`"),
	}
}

// setup makes a temporary directory (named from prefix), the environment
// and the app; cleanup stops and removes them, in reverse.
func (o commonOpts) setup(ctx context.Context, prefix string) (e *env, app *appServer, cleanup func(), err error) {
	if *o.httpsguard == "" {
		return nil, nil, nil, errors.New("-httpsguard is required")
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, nil, err
	}
	if e, err = newEnv(ctx, dir, *o.httpsguard, *o.chromium, *o.chromedriver); err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	if app, err = startApp(); err != nil {
		e.stopAll()
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	e.appAddr = app.Addr
	return e, app, func() {
		app.Close()
		e.stopAll()
		os.RemoveAll(dir)
	}, nil
}

// report prints a table, and writes it to -out when given.
func (o commonOpts) report(table string) error {
	fmt.Print(table)
	if *o.out == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(*o.out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(*o.out, []byte(table), 0o644)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadTable(targets []target, results map[string][]load, rounds int, started time.Time, before, after string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d cores (%s), %s; load average %s before, %s after.\n", started.Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuModel(), kernel(), before, after)
	fmt.Fprintf(&b, "%s, %s, %s, %s. Median of %d interleaved rounds, each target in a new order per round; a fresh profile (empty cache) for every load.\n\n",
		version("chromium", "--version"), version("caddy", "version"), nginxVersion(), goVersion(), rounds)
	b.WriteString("| target | page load, median ms | min–max ms | vs direct | vs Caddy | protocol | proxy CPU ms per load |\n|---|--:|--:|--:|--:|---|--:|\n")
	med := map[string]float64{}
	loads := map[string][]float64{}
	for _, t := range targets {
		for _, l := range results[t.name] {
			loads[t.name] = append(loads[t.name], l.LoadMS)
		}
		med[t.name] = median(loads[t.name])
	}
	ratio := func(a, b float64) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", a/b)
	}
	direct, caddy := med["the app directly (HTTP/1.1)"], med["Caddy"]
	for _, t := range targets {
		ms := loads[t.name]
		cpu := "–"
		if t.pid != 0 {
			var c []float64
			for _, l := range results[t.name] {
				c = append(c, l.CPUMS)
			}
			cpu = fmt.Sprintf("%.0f", median(c))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f–%.0f | %s | %s | %s | %s |\n", t.name, med[t.name], slices.Min(ms), slices.Max(ms), ratio(med[t.name], direct), ratio(med[t.name], caddy), t.proto, cpu)
	}
	if s, ok := med["httpsguard serve"]; ok && direct > 0 && caddy > 0 {
		verdict := func(ok bool) string {
			if ok {
				return "met"
			}
			return "**not met**"
		}
		fmt.Fprintf(&b, "\nGoals: serve ≤ 1.10× direct: %s — %s; serve ≤ Caddy: %s — %s.\n", ratio(s, direct), verdict(s <= 1.10*direct), ratio(s, caddy), verdict(s <= caddy))
	}
	return b.String()
}

// cpuMS returns the user and system CPU time, in milliseconds, used so far
// by the process pid and its children (nginx's workers).
func cpuMS(pid int) float64 {
	if pid == 0 {
		return 0
	}
	ticks := func(stat string) (ppid int, t float64) {
		// The command name, in parentheses, may hold spaces: fields
		// count from after it.
		i := strings.LastIndexByte(stat, ')')
		if i < 0 {
			return 0, 0
		}
		f := strings.Fields(stat[i+1:])
		if len(f) < 13 {
			return 0, 0
		}
		var p, u, s int
		fmt.Sscan(f[1], &p)
		fmt.Sscan(f[11], &u)
		fmt.Sscan(f[12], &s)
		return p, float64(u + s)
	}
	var total float64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		ppid, t := ticks(string(b))
		if e.Name() == fmt.Sprint(pid) || ppid == pid {
			total += t
		}
	}
	return total * 1000 / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux.
const clockTicks = 100

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

func version(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return bin + " ?"
	}
	s := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	if bin == "caddy" {
		return "Caddy " + strings.Fields(s)[0]
	}
	return s
}

// nginxBin is nginx on PATH, or Debian's, which is not on a user's PATH.
func nginxBin() string {
	if _, err := exec.LookPath("nginx"); err != nil {
		return "/usr/sbin/nginx"
	}
	return "nginx"
}

func nginxVersion() string {
	out, _ := exec.Command(nginxBin(), "-v").CombinedOutput()
	return strings.Replace(strings.TrimSpace(string(out)), "nginx version: nginx/", "nginx ", 1)
}

func goVersion() string { return runtime.Version() }
