package devproxy

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestConsoleHandler(t *testing.T) {
	at := time.Date(2026, 1, 2, 14, 3, 7, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		color bool
		with  []any
		level slog.Level
		msg   string
		attrs []any
		want  string
	}{
		{"access", false, nil, slog.LevelInfo, AccessMessage,
			[]any{"method", "GET", "path", "/login?next=%2F", "status", 302, "duration", 3412 * time.Microsecond, "bytes", int64(0), "proto", "HTTP/2.0"},
			"14:03:07  GET /login?next=%2F  302  3.41ms\n"},
		{"access colour", true, nil, slog.LevelInfo, AccessMessage,
			[]any{"method", "POST", "path", "/", "status", 502, "duration", 2 * time.Second, "proto", "HTTP/1.1"},
			"\x1b[2m14:03:07\x1b[0m  POST /  \x1b[31m\x1b[1m502\x1b[0m  \x1b[2m2s\x1b[0m\n"},
		{"warning shows only new attributes", false, nil, slog.LevelWarn, `the application set cookie "sid" without Secure`,
			[]any{"cookie", "sid", "extra", "a b"},
			"14:03:07  warning: the application set cookie \"sid\" without Secure extra=\"a b\"\n"},
		{"debug hidden", false, nil, slog.LevelDebug, "noise", nil, ""},
		{"error with attrs", false, []any{"k", "v"}, slog.LevelError, "boom", nil, "14:03:07  error: boom k=v\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = NewConsoleHandler(&buf, ConsoleOptions{Color: tc.color})
			if tc.with != nil {
				h = slog.New(h).With(tc.with...).Handler()
			}
			if h.Enabled(context.Background(), tc.level) {
				r := slog.NewRecord(at, tc.level, tc.msg, 0)
				r.Add(tc.attrs...)
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
			}
			if got := buf.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestRoundDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		1234 * time.Nanosecond:      "1µs",
		3412 * time.Microsecond:     "3.41ms",
		123456 * time.Microsecond:   "123.5ms",
		2345678 * time.Microsecond:  "2.35s",
		12345678 * time.Microsecond: "12.3s",
	} {
		if got := roundDuration(in).String(); got != want {
			t.Errorf("roundDuration(%v) = %s, want %s", in, got, want)
		}
	}
}
