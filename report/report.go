package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/httpsguard/httpsguard/scan"
)

// Format names an output format.
type Format string

// The output formats. JSONLines is the streaming form of JSON: one result
// document per line, written as soon as the result is added.
const (
	Text      Format = "text"
	JSON      Format = "json"
	JSONLines Format = "jsonl"
	SARIF     Format = "sarif"
	HTML      Format = "html"
	Markdown  Format = "markdown"
)

// Formats lists every format ParseFormat accepts, in the order help text
// should show them.
func Formats() []Format {
	return []Format{Text, JSON, JSONLines, SARIF, HTML, Markdown}
}

// ParseFormat returns the format named s. Case and surrounding space are
// ignored, and "md" is accepted for Markdown. An unknown name is an error
// that lists the valid ones.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "md" {
		return Markdown, nil
	}
	for _, f := range Formats() {
		if name == string(f) {
			return f, nil
		}
	}
	valid := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		valid = append(valid, string(f))
	}
	return "", fmt.Errorf("unknown report format %q: valid formats are %s", s, strings.Join(valid, ", "))
}

// FormatForFile returns the format a file name's extension asks for: .txt,
// .json, .jsonl or .ndjson, .sarif, .html or .htm, .md or .markdown, in any
// case. Any other extension gives false.
func FormatForFile(name string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".txt":
		return Text, true
	case ".json":
		return JSON, true
	case ".jsonl", ".ndjson":
		return JSONLines, true
	case ".sarif":
		return SARIF, true
	case ".html", ".htm":
		return HTML, true
	case ".md", ".markdown":
		return Markdown, true
	}
	return "", false
}

// String returns the format's name.
func (f Format) String() string { return string(f) }

// Set parses s into f, so that a *Format can be used with flag.Var.
func (f *Format) Set(s string) error {
	v, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Streams reports whether results in format f are written as they are added
// to a Stream. The other formats need the whole set and are written by Close.
func (f Format) Streams() bool { return f == Text || f == JSONLines }

// Options change how results are rendered. The zero value renders plain,
// uncoloured, summary output.
type Options struct {
	// Color adds ANSI colour to text output. The caller decides, usually with
	// internal/termcolor, so that pipes and NO_COLOR get plain text.
	Color bool
	// ASCII replaces the Unicode status marks of text output (✓ ! ✗), its
	// arrows and the minus sign of score effects with ASCII ones, for
	// consoles that cannot show them.
	ASCII bool
	// Verbose makes text output show every check's message, evidence, fix
	// and references, and every certificate of the chain; without it, text
	// output shows details only for checks that did not pass.
	Verbose bool
	// ToolVersion is the version of the program writing the report: the
	// SARIF driver version, the HTML and Markdown footers, the JSON
	// envelope, and the tool version of a result that recorded none. When
	// empty, the version recorded in the first result is used.
	ToolVersion string
}

// ErrClosed is returned by Stream.Add after Close.
var ErrClosed = errors.New("report: stream is closed")

// Write renders results in format f to w. One result gives one document
// (for JSON, a single result object); several give one document covering
// them all (for JSON, an envelope with a "results" array). Nil results are
// skipped.
func Write(w io.Writer, f Format, results []*scan.Result, opts Options) error {
	s, err := NewStream(w, f, opts)
	if err != nil {
		return err
	}
	for _, r := range results {
		if err := s.Add(r); err != nil {
			return err
		}
	}
	return s.Close()
}

// Stream renders results as they are added. Text and JSON Lines are written
// on each Add, so a person or a pipeline sees each target as soon as it
// finishes; the other formats describe the whole set and are written by
// Close. Add and Close may be called from several goroutines.
type Stream struct {
	mu      sync.Mutex
	w       io.Writer
	format  Format
	opts    Options
	results []*scan.Result // every result added, in order
	closed  bool
	err     error // the first write error; later calls return it
}

// NewStream returns a Stream that writes format f to w. It fails only for an
// unknown format.
func NewStream(w io.Writer, f Format, opts Options) (*Stream, error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return nil, err
	}
	return &Stream{w: w, format: f, opts: opts}, nil
}

// Add records r and, for streaming formats, writes it at once. A nil r is
// ignored. After a write error every later call returns that error.
func (s *Stream) Add(r *scan.Result) error {
	if r == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	s.results = append(s.results, r)
	switch s.format {
	case Text:
		s.err = s.render(func(w io.Writer) error {
			if len(s.results) > 1 {
				if _, err := io.WriteString(w, "\n\n"); err != nil {
					return err
				}
			}
			return writeText(w, r, s.opts)
		})
	case JSONLines:
		s.err = s.render(func(w io.Writer) error { return writeJSONLine(w, r, s.opts) })
	}
	return s.err
}

// Close writes what the format still needs (the whole document, or for text
// a summary table when there were several targets) and marks the stream
// closed. It does not close the underlying writer.
func (s *Stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err
	}
	s.closed = true
	if s.err != nil {
		return s.err
	}
	switch s.format {
	case Text:
		if len(s.results) > 1 {
			s.err = s.render(func(w io.Writer) error { return writeTextSummary(w, s.results, s.opts) })
		}
	case JSON:
		s.err = s.render(func(w io.Writer) error { return writeJSON(w, s.results, s.opts) })
	case SARIF:
		s.err = s.render(func(w io.Writer) error { return writeSARIF(w, s.results, s.opts) })
	case HTML:
		s.err = s.render(func(w io.Writer) error { return WriteHTML(w, s.results, s.opts) })
	case Markdown:
		s.err = s.render(func(w io.Writer) error { return writeMarkdown(w, s.results, s.opts) })
	}
	return s.err
}

// render runs fn on a buffered writer and flushes it, so each result or
// document reaches w in few large writes, and wraps any error with the
// format's name.
func (s *Stream) render(fn func(io.Writer) error) error {
	bw := bufio.NewWriterSize(s.w, 32<<10)
	err := fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("writing %s report: %w", s.format, err)
	}
	return nil
}
