// Command proxybench is the helper of bench/proxy/run.sh, the benchmark of
// "httpsguard serve" against Caddy, nginx and local-ssl-proxy. It has four
// jobs, one per subcommand, all on loopback only:
//
//	proxybench upstream -addr 127.0.0.1:PORT [-size 1024]
//	    the application behind every proxy: HTTP/1.1 with keep-alive,
//	    a fixed body of -size bytes with a Content-Length
//	proxybench ports -n N
//	    N free loopback TCP ports, one a line
//	proxybench wait -url https://127.0.0.1:PORT/ -ca ROOT.pem [-size 1024]
//	    waits until the URL answers 200 with the upstream's body over a
//	    TLS connection verified against ROOT.pem (so a proxy that answers
//	    by itself, with an empty page, is caught before it is measured);
//	    prints the protocol negotiated (HTTP/2.0 or HTTP/1.1) and whether
//	    the proxy keeps the connection ("keep-alive") or closes it ("close")
//	proxybench startup -ca ROOT.pem -addr 127.0.0.1:PORT [-n 20] -- CMD ARGS...
//	    starts CMD -n times and measures the time from the start of the
//	    process to the first completed, verified TLS handshake on -addr,
//	    dialling every 2 ms; prints the median and the maximum
//
// The upstream is net/http's server, the same small Go application a
// developer would put behind any of the proxies; its body is fixed so every
// proxy copies the same bytes.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: proxybench upstream|ports|wait|startup [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "upstream":
		err = upstream(ctx, args)
	case "ports":
		err = ports(args)
	case "wait":
		err = wait(ctx, args)
	case "startup":
		err = startup(ctx, args)
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "proxybench %s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
}

// body is the upstream's response: size bytes of printable text that end
// in a newline, the same on every request.
func body(size int) []byte {
	b := bytes.Repeat([]byte("httpsguard-bench "), size/17+1)[:size]
	if size > 0 {
		b[size-1] = '\n'
	}
	return b
}

// loopbackOnly refuses any address that is not on 127.0.0.0/8 or ::1: the
// benchmark must never send or accept traffic beyond this machine.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q: only loopback IP addresses are allowed", addr)
	}
	return nil
}

func upstream(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback `address` to listen on")
	size := fs.Int("size", 1024, "response body size in `bytes`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopbackOnly(*addr); err != nil {
		return err
	}
	b := body(*size)
	length := strconv.Itoa(len(b))
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Read whatever the proxy sends, so that connections stay
			// reusable for request bodies too.
			_, _ = io.Copy(io.Discard, r.Body)
			h := w.Header()
			h["Content-Type"] = []string{"text/plain; charset=utf-8"}
			h["Content-Length"] = []string{length}
			_, _ = w.Write(b)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		// Plain HTTP/1.1: what development servers speak to a proxy.
		Protocols: new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func ports(args []string) error {
	fs := flag.NewFlagSet("ports", flag.ContinueOnError)
	n := fs.Int("n", 1, "how many `ports`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Hold every listener until all are chosen, so the ports differ.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range *n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		lns = append(lns, ln)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// rootPool reads a PEM root certificate file into a pool.
func rootPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA root: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA root %s: no PEM certificate", file)
	}
	return pool, nil
}

func wait(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	url := fs.String("url", "", "HTTPS `URL` on 127.0.0.1 to fetch")
	caFile := fs.String("ca", "", "PEM `file` of the CA root the proxy's certificate chains to")
	size := fs.Int("size", 1024, "expected body size in `bytes`")
	timeout := fs.Duration("timeout", 15*time.Second, "how long to wait")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := rootPool(*caFile)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if err := loopbackOnly(req.URL.Host); err != nil {
		return err
	}
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			// The certificate names localhost; the connection goes to the
			// URL's loopback address.
			TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: "localhost"},
			ForceAttemptHTTP2: true,
		},
	}
	want := body(*size)
	deadline := time.Now().Add(*timeout)
	var last error
	for time.Now().Before(deadline) {
		var proto string
		proto, last = fetch(client, req, want)
		if last == nil {
			fmt.Println(proto)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after %v: %w", *url, *timeout, last)
}

// fetch makes one request and checks that the upstream's body came back; it
// returns the protocol the proxy negotiated ("HTTP/2.0" or "HTTP/1.1") and
// whether it keeps the connection open ("keep-alive") or not ("close").
func fetch(client *http.Client, req *http.Request, want []byte) (string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		return "", fmt.Errorf("status %d, %d-byte body: not the upstream's response", resp.StatusCode, len(got))
	}
	if resp.Close {
		return resp.Proto + " close", nil
	}
	return resp.Proto + " keep-alive", nil
}

func startup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	caFile := fs.String("ca", "", "PEM `file` of the CA root")
	addr := fs.String("addr", "", "loopback `address` the command listens on for HTTPS")
	n := fs.Int("n", 20, "number of `runs`")
	limit := fs.Duration("timeout", 10*time.Second, "give up on a run after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no command given after --")
	}
	if err := loopbackOnly(*addr); err != nil {
		return err
	}
	pool, err := rootPool(*caFile)
	if err != nil {
		return err
	}
	conf := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	var times []time.Duration
	for i := range *n {
		d, err := startOnce(ctx, conf, *addr, *limit, fs.Args())
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		times = append(times, d)
	}
	slices.Sort(times)
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }
	// Machine-readable: run.sh reads these fields.
	fmt.Printf("runs=%d median_ms=%s max_ms=%s min_ms=%s\n", len(times), ms(times[len(times)/2]), ms(times[len(times)-1]), ms(times[0]))
	return nil
}

// startOnce starts the command, dials addr every 2 ms until a verified TLS
// handshake completes, then stops the command with SIGINT (as Ctrl-C would)
// and waits for it to exit, so the port is free for the next run.
func startOnce(ctx context.Context, conf *tls.Config, addr string, limit time.Duration, argv []string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopCmd := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: conf}
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := dialer.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			d := time.Since(start)
			_ = c.Close()
			stopCmd()
			return d, nil
		}
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) {
			stopCmd()
			return 0, fmt.Errorf("handshake: %w", err)
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("command exited before serving (%v): %s", err, stderr.String())
		case <-ctx.Done():
			stopCmd()
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > limit {
			stopCmd()
			return 0, fmt.Errorf("no TLS handshake on %s after %v: %s", addr, limit, stderr.String())
		}
	}
}
