// Package peertest finds and runs the Debian programs that tests use as
// real peers: nginx, started on loopback with a configuration the test
// writes, and testssl.sh, the TLS oracle whose JSON findings the TLS facts
// are checked against.
//
// A missing program skips the test with internal/testpeer's message,
// naming the Debian package to install; with HTTPSGUARD_TEST_STRICT=1 (as
// in CI, whose .ci/run installs them) it fails the test instead.
package peertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/internal/testpeer"
)

// Need returns the path of program, looked up in PATH and then in
// /usr/sbin and /usr/bin (nginx lives in /usr/sbin, which a user's PATH
// may lack). When it is not installed the test is skipped, or failed
// under HTTPSGUARD_TEST_STRICT=1, with internal/testpeer's message naming
// peer and how to install it.
func Need(tb testing.TB, program string, peer testpeer.Peer) string {
	tb.Helper()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, program)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	testpeer.Missing(tb, peer, program+" is not on PATH, in /usr/sbin or in /usr/bin")
	return ""
}

// Nginx is an nginx started for one test, stopped when the test ends.
type Nginx struct {
	// Addr is "127.0.0.1:PORT", where the TLS server block listens.
	Addr string
	Port int
	// Dir is the nginx prefix: its configuration, the files given and
	// its logs.
	Dir string
}

// NginxConfig is the TLS server block of an nginx.
type NginxConfig struct {
	// Server is the body of the server block after the listen line:
	// ssl_certificate, ssl_protocols, ssl_ciphers and so on. Paths are
	// relative to the prefix directory, where Files are written.
	Server string
	// Files are written into the prefix directory before nginx starts.
	Files map[string][]byte
}

// StartNginx starts Debian's nginx (package nginx) on a loopback port with
// one TLS server block that answers every request with "ok", and stops it
// when the test ends. It runs in the foreground, one process, with every
// path inside a temporary prefix: it needs no root and touches nothing of
// the system's nginx.
func StartNginx(tb testing.TB, cfg NginxConfig) *Nginx {
	tb.Helper()
	bin := Need(tb, "nginx", testpeer.Nginx)
	dir := tb.TempDir()
	for name, data := range cfg.Files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	var lastErr error
	for range 5 {
		port, err := testnet.ClosedPort()
		if err != nil {
			tb.Fatal(err)
		}
		n, err := startNginx(tb, bin, dir, port, cfg.Server)
		if err == nil {
			return n
		}
		lastErr = err
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	tb.Fatalf("nginx did not start: %v", lastErr)
	return nil
}

const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path %[1]s/tmp;
	proxy_temp_path %[1]s/tmp;
	fastcgi_temp_path %[1]s/tmp;
	uwsgi_temp_path %[1]s/tmp;
	scgi_temp_path %[1]s/tmp;
	server {
		listen 127.0.0.1:%[2]d ssl;
		%[3]s
		location / { return 200 "ok\n"; }
	}
}
`

func startNginx(tb testing.TB, bin, dir string, port int, server string) (*Nginx, error) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, port, server), 0o600); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("nginx exited (%v): %s%s", err, out.String(), logs)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("nginx did not listen on %s within 15s: %s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	return &Nginx{Addr: addr, Port: port, Dir: dir}, nil
}

// Finding is one entry of testssl.sh's flat JSON output.
type Finding struct {
	ID       string `json:"id"`
	IP       string `json:"ip"`
	Port     string `json:"port"`
	Severity string `json:"severity"`
	Finding  string `json:"finding"`
}

// Testssl runs Debian's testssl.sh (package testssl.sh, command testssl)
// against uri with args, and returns its JSON findings. It never lets
// testssl look anything up in DNS or fetch revocation data (--nodns none;
// --phone-out is off by default): the target must be a loopback address.
func Testssl(ctx context.Context, tb testing.TB, uri string, args ...string) ([]Finding, error) {
	tb.Helper()
	bin := Need(tb, "testssl", testpeer.Testssl)
	if !isLoopbackURI(uri) {
		return nil, fmt.Errorf("testssl target %q is not a loopback address", uri)
	}
	dir := tb.TempDir()
	out := filepath.Join(dir, "out.json")
	full := append([]string{"--quiet", "--nodns", "none", "--color", "0", "--warnings", "off", "--jsonfile", out}, args...)
	full = append(full, uri)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Dir = dir
	// USLEEP_SND is how long testssl.sh waits after writing to a
	// socket, 0.1s by default, for networks slower than loopback.
	cmd.Env = append(os.Environ(), "HOME="+dir, "TMPDIR="+dir, "USLEEP_SND=0.01")
	cmd.WaitDelay = 5 * time.Second
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	err := cmd.Run()
	data, rerr := os.ReadFile(out)
	if rerr != nil {
		return nil, errors.Join(fmt.Errorf("testssl wrote no JSON: %w", rerr), err, errors.New(tail(log.String(), 2000)))
	}
	var fs []Finding
	if jerr := json.Unmarshal(data, &fs); jerr != nil {
		return nil, fmt.Errorf("testssl JSON: %w", jerr)
	}
	if err != nil && len(fs) == 0 {
		return nil, fmt.Errorf("testssl: %w: %s", err, tail(log.String(), 2000))
	}
	return fs, nil
}

func isLoopbackURI(uri string) bool {
	rest := strings.TrimPrefix(uri, "https://")
	host, _, err := net.SplitHostPort(strings.TrimSuffix(rest, "/"))
	if err != nil {
		host = rest
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
