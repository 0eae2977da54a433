package report

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/httpsguard/httpsguard/scan"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"text", Text, false},
		{"JSON", JSON, false},
		{" jsonl ", JSONLines, false},
		{"sarif", SARIF, false},
		{"html", HTML, false},
		{"markdown", Markdown, false},
		{"md", Markdown, false},
		{"", "", true},
		{"xml", "", true},
		{"json lines", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil {
			for _, f := range Formats() {
				if !strings.Contains(err.Error(), string(f)) {
					t.Errorf("ParseFormat(%q) error %q does not list %q", tt.in, err, f)
				}
			}
		}
	}
}

func TestFormatFlag(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := Text
	fs.Var(&f, "format", "output format")
	if err := fs.Parse([]string{"--format", "sarif"}); err != nil || f != SARIF {
		t.Fatalf("--format sarif: got %q, %v", f, err)
	}
	if err := fs.Parse([]string{"--format", "yaml"}); err == nil || !strings.Contains(err.Error(), "valid formats are") {
		t.Fatalf("--format yaml: want a clear error, got %v", err)
	}
}

func TestNewStreamUnknownFormat(t *testing.T) {
	if _, err := NewStream(io.Discard, Format("pdf"), Options{}); err == nil {
		t.Fatal("NewStream accepted an unknown format")
	}
	if err := Write(io.Discard, Format("pdf"), nil, Options{}); err == nil {
		t.Fatal("Write accepted an unknown format")
	}
}

// TestStreamTiming checks which formats write on Add and which wait for
// Close, and that streaming gives the same bytes as Write.
func TestStreamTiming(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			s, err := NewStream(&buf, f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Add(fullResult()); err != nil {
				t.Fatal(err)
			}
			if got := buf.Len() > 0; got != f.Streams() {
				t.Fatalf("after the first Add, wrote %d bytes; Streams() = %v", buf.Len(), f.Streams())
			}
			if err := s.Add(nil); err != nil {
				t.Fatalf("Add(nil) = %v", err)
			}
			if err := s.Add(perfectResult()); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Add(fullResult()); !errors.Is(err, ErrClosed) {
				t.Fatalf("Add after Close = %v, want ErrClosed", err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close = %v", err)
			}
			var whole bytes.Buffer
			if err := Write(&whole, f, []*scan.Result{fullResult(), perfectResult()}, Options{}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), whole.Bytes()) {
				t.Errorf("streamed output differs from Write:\n%s", firstDiff(whole.Bytes(), buf.Bytes()))
			}
		})
	}
}

// TestStreamConcurrentAdd adds results from many goroutines, as the CLI
// does when scans finish; run with -race. Every result must come out whole.
func TestStreamConcurrentAdd(t *testing.T) {
	var buf bytes.Buffer
	s, err := NewStream(&buf, JSONLines, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := s.Add(fullResult()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != n {
		t.Fatalf("got %d lines, want %d", len(lines), n)
	}
	var one bytes.Buffer
	if err := Write(&one, JSONLines, []*scan.Result{fullResult()}, Options{}); err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		if l != strings.TrimSpace(one.String()) {
			t.Fatalf("line %d is not one whole result: %.100s…", i, l)
		}
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, errDiskFull
}

func TestWriteErrors(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			err := Write(&failWriter{n: 10}, f, []*scan.Result{fullResult(), failedResult()}, Options{})
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("Write to a failing writer = %v, want it to wrap the write error", err)
			}
			if !strings.Contains(err.Error(), string(f)) {
				t.Errorf("error %q does not name the format", err)
			}
		})
	}
	// After a failed write, the stream keeps reporting the failure.
	s, _ := NewStream(&failWriter{}, Text, Options{})
	if err := s.Add(fullResult()); !errors.Is(err, errDiskFull) {
		t.Fatalf("Add = %v", err)
	}
	if err := s.Add(fullResult()); !errors.Is(err, errDiskFull) {
		t.Fatalf("second Add = %v", err)
	}
	if err := s.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close = %v", err)
	}
}

// TestEmptyResults renders results with nothing in them: a zero Result, and
// no results at all. Nothing may panic, and each format still produces a
// well-formed document.
func TestEmptyResults(t *testing.T) {
	for _, f := range Formats() {
		for _, results := range [][]*scan.Result{nil, {{}}, {{}, {}}} {
			var buf bytes.Buffer
			if err := Write(&buf, f, results, Options{Verbose: true}); err != nil {
				t.Errorf("%s with %d empty results: %v", f, len(results), err)
			}
		}
	}
}

// A report labels the statuses scan defines as scan does, and capitalises
// any other like a heading.
func TestStatusLabel(t *testing.T) {
	tests := []struct {
		status scan.Status
		want   string
	}{
		{scan.StatusPass, "Pass"},
		{scan.StatusWarn, "Warning"},
		{scan.StatusSkip, "Skipped"},
		{"pending", "Pending"},
		{"élan", "Élan"},
		{"", "Other"},
	}
	for _, tt := range tests {
		if got := StatusLabel(tt.status); got != tt.want {
			t.Errorf("StatusLabel(%q) = %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"line one\r\nline two\ttab", "line one\nline two\ttab"},
		{"\x1b[2Jclear", `\x1b[2Jclear`},
		{"bell\x07", `bell\x07`},
		{"c1\u009bx", `c1\x9bx`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"lone\rcr", `lone\x0dcr`},
		{"ünïcødé ✓", "ünïcødé ✓"},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`}, // invisible formatting (Cf)
		{"soft\u00adhyphen", `soft\xadhyphen`},
		{"emoji 👍🏽 ok", "emoji 👍🏽 ok"},
	}
	for _, tt := range tests {
		if got := CleanText(tt.in); got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSanitizedDoesNotTouchInput checks that rendering never changes the
// caller's result: the web application renders the same value many times.
func TestSanitizedDoesNotTouchInput(t *testing.T) {
	r := hostileResult()
	before := mustJSON(t, r)
	for _, f := range Formats() {
		if err := Write(io.Discard, f, []*scan.Result{r}, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if after := mustJSON(t, r); after != before {
		t.Fatal("rendering changed the result")
	}
	s := sanitized(r)
	if s.TLS == r.TLS || &s.Checks[0] == &r.Checks[0] {
		t.Fatal("sanitized shares memory with its input")
	}
}

func TestTextNoTerminalEscapes(t *testing.T) {
	for _, opts := range []Options{{}, {Verbose: true}, {Color: true, Verbose: true}} {
		var buf bytes.Buffer
		if err := Write(&buf, Text, []*scan.Result{hostileResult(), hostileResult()}, opts); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !opts.Color && strings.ContainsRune(out, 0x1b) {
			t.Errorf("uncoloured text output contains ESC")
		}
		// With colour, the only escapes are the SGR sequences we write.
		rest := out
		for {
			i := strings.IndexByte(rest, 0x1b)
			if i < 0 {
				break
			}
			j := i + 1
			if j < len(rest) && rest[j] == '[' {
				j++
				for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == ';') {
					j++
				}
			}
			if j >= len(rest) || rest[j] != 'm' {
				t.Fatalf("output contains a non-SGR escape: %q", rest[i:min(len(rest), i+12)])
			}
			rest = rest[j+1:]
		}
		for _, r := range []rune{0x07, 0x202e, 0x9b} {
			if strings.ContainsRune(out, r) {
				t.Errorf("text output contains %U", r)
			}
		}
		if !strings.Contains(out, `\x1b]0;owned`) {
			t.Errorf("the escape sequence should be shown, escaped, so the reader sees what the site sent")
		}
	}
}

func TestTextShowsWhatMatters(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Text, []*scan.Result{fullResult(), failedResult()}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"shop.example.com  C+  62/100  INCOMPLETE",
		"incomplete: 1 check could not observe what it judges",
		"HGS-TLS-006 No weak TLS 1.2 cipher suites (timeout: 127.0.0.1:443: no completed TLS handshake within 5s)",
		"What to fix first",
		"1. ✗ Content-Security-Policy (−25)",
		"fix: Send a Content-Security-Policy",
		"Redirect chain from http://shop.example.com/",
		"302  http://shop.example.com/ → https://shop.example.com/",
		"(12 days left)",
		"down.example.net  NO GRADE: GET https://down.example.net/: connection refused",
		"  fix: Start the web server or load balancer on port 443",
		"cause: refused",
		"Summary of 2 targets",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	// Summary output keeps passing checks to one line.
	if strings.Contains(out, "TLS 1.3 handshake succeeded") {
		t.Errorf("summary output shows a passing check's message")
	}
}

// TestTextASCII checks that ASCII mode writes nothing but ASCII of its own
// (site data is shown as the site sent it).
func TestTextASCII(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Text, []*scan.Result{fullResult(), failedResult()}, Options{ASCII: true, Verbose: true}); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "sessionid=…") { // the fixture's own evidence
			continue
		}
		for _, r := range line {
			if r > 0x7e {
				t.Errorf("line %d has %q: %s", i+1, r, line)
				break
			}
		}
	}
}
