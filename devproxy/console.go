package devproxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/httpsguard/httpsguard/internal/termcolor"
)

// ConsoleOptions configures NewConsoleHandler.
type ConsoleOptions struct {
	// Color turns on ANSI colour. Turn it on only for a terminal, and
	// never when NO_COLOR is set.
	Color bool
	// Level is the minimum level printed; nil means slog.LevelInfo.
	Level slog.Leveler
	// Now is the clock for the time stamps; nil means time.Now.
	Now func() time.Time
}

// NewConsoleHandler returns a slog.Handler that writes the server's log for
// a person at a terminal: access-log records as
//
//	14:03:07  GET /login?next=%2F  302  3.4ms
//
// and other records as their message (which may span lines) followed by any
// attributes that are not already in it.
func NewConsoleHandler(w io.Writer, opts ConsoleOptions) slog.Handler {
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &consoleHandler{mu: new(sync.Mutex), w: w, p: termcolor.Painter{On: opts.Color}, level: level, now: now}
}

type consoleHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	p     termcolor.Painter
	level slog.Leveler
	now   func() time.Time
	attrs []slog.Attr
	group string
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *consoleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *consoleHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = h.now()
	}
	var b strings.Builder
	b.WriteString(h.p.Paint(t.Format("15:04:05"), termcolor.Dim))
	b.WriteString("  ")
	if r.Message == AccessMessage && r.Level == slog.LevelInfo {
		h.access(&b, r)
	} else {
		h.message(&b, r)
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *consoleHandler) access(b *strings.Builder, r slog.Record) {
	var method, path, proto string
	var status int64
	var dur time.Duration
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		case "status":
			status = a.Value.Int64()
		case "duration":
			dur = a.Value.Duration()
		case "proto":
			proto = a.Value.String()
		}
		return true
	})
	color := termcolor.Green
	switch {
	case status >= 500:
		color = termcolor.Red
	case status >= 400:
		color = termcolor.Yellow
	case status >= 300:
		color = termcolor.Cyan
	case status < 200:
		color = termcolor.Blue
	}
	fmt.Fprintf(b, "%s %s  %s  %s", method, path, h.p.Paint(fmt.Sprint(status), color, termcolor.Bold), h.p.Paint(roundDuration(dur).String(), termcolor.Dim))
	if proto != "" && proto != "HTTP/2.0" && proto != "HTTP/1.1" {
		b.WriteString("  " + proto)
	}
}

func (h *consoleHandler) message(b *strings.Builder, r slog.Record) {
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString(h.p.Paint("error: ", termcolor.Red, termcolor.Bold))
	case r.Level >= slog.LevelWarn:
		b.WriteString(h.p.Paint("warning: ", termcolor.Yellow, termcolor.Bold))
	case r.Level < slog.LevelInfo:
		b.WriteString(h.p.Paint("debug: ", termcolor.Dim))
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) {
		// Attributes repeat what the message says for people; show only
		// those the message does not already contain.
		v := a.Value.Resolve().String()
		if strings.Contains(r.Message, v) {
			return
		}
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		b.WriteString(h.p.Paint(" "+key+"="+quoteIfNeeded(v), termcolor.Dim))
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(func(a slog.Attr) bool { write(a); return true })
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// roundDuration keeps three significant figures or so: "3.4ms", "120ms",
// "2.5s".
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
