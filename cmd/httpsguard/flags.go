package main

// The flag grammar every command shares (docs/design/cli.md): list flags,
// durations, formats, listen addresses, and hidden deprecated names.

import (
	"flag"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/report"
)

// flagSet is a command's flag.FlagSet with the grammar's extras: old names
// kept as hidden, deprecated aliases.
type flagSet struct {
	*flag.FlagSet
	// deprecated maps a hidden old name to the advice printed when it is
	// used ("use --output").
	deprecated map[string]string
	// aliasOf maps a hidden old name to the flag it sets, so isSet sees
	// the flag set under either name.
	aliasOf map[string]string
}

func newFlags(name string) *flagSet {
	return &flagSet{
		FlagSet:    flag.NewFlagSet(name, flag.ContinueOnError),
		deprecated: map[string]string{},
		aliasOf:    map[string]string{},
	}
}

// alias makes old a hidden, deprecated name of the flag named to: it sets
// the same value, and using it prints one warning.
func (f *flagSet) alias(old, to string) {
	target := f.Lookup(to)
	if target == nil {
		panic("httpsguard: alias of an undefined flag --" + to)
	}
	f.Var(aliasValue{target.Value}, old, "")
	f.deprecated[old] = "use --" + to
	f.aliasOf[old] = to
}

// deprecate defines old as a hidden, deprecated flag with its own value,
// for an old name whose meaning moved elsewhere; instead is the advice
// printed when it is used. When it sets another flag's value, to names that
// flag (for isSet), else "".
func (f *flagSet) deprecate(old string, v flag.Value, instead, to string) {
	f.Var(v, old, "")
	f.deprecated[old] = instead
	if to != "" {
		f.aliasOf[old] = to
	}
}

// hidden reports whether a flag is a deprecated name, left out of --help.
func (f *flagSet) hidden(name string) bool {
	_, ok := f.deprecated[name]
	return ok
}

// isSet reports whether the command line set the flag, under its name or
// a deprecated one.
func (f *flagSet) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		set = set || fl.Name == name || f.aliasOf[fl.Name] == name
	})
	return set
}

// usedDeprecated returns the deprecated names the command line used, with
// the advice for each, in the order of the flag names.
func (f *flagSet) usedDeprecated() []string {
	var out []string
	f.Visit(func(fl *flag.Flag) {
		if advice, ok := f.deprecated[fl.Name]; ok {
			out = append(out, fmt.Sprintf("--%s is deprecated; %s", fl.Name, advice))
		}
	})
	return out
}

// list defines a repeatable flag. With commas, a comma also separates
// items ("--store nss,java" is "--store nss --store java"): for items that
// never hold one, such as names, IDs and CIDRs. File names and NAME=VALUE
// settings may hold commas, so their flags are repeatable only.
func (f *flagSet) list(name, usage string, commas bool) *[]string {
	l := &listValue{commas: commas}
	f.Var(l, name, usage)
	return &l.items
}

// aliasValue is the value of a deprecated alias: the target flag's value.
type aliasValue struct{ flag.Value }

// IsBoolFlag makes an alias of a boolean flag a boolean too.
func (a aliasValue) IsBoolFlag() bool {
	b, ok := a.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// listValue collects a repeatable flag's items.
type listValue struct {
	items  []string
	commas bool
}

func (l *listValue) String() string { return strings.Join(l.items, ",") }

func (l *listValue) Set(s string) error {
	if !l.commas {
		l.items = append(l.items, s)
		return nil
	}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			l.items = append(l.items, item)
		}
	}
	return nil
}

// durationValue is a duration flag: Go's syntax (20s, 1m30s, 24h), and
// whole days with d (820d, or 1d12h).
type durationValue time.Duration

func (f *flagSet) duration(name string, def time.Duration, usage string) *time.Duration {
	d := durationValue(def)
	f.Var(&d, name, usage)
	return (*time.Duration)(&d)
}

func (d *durationValue) String() string { return formatDuration(time.Duration(*d)) }

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// parseDuration reads a duration: time.ParseDuration's syntax, optionally
// after a number of days ("30d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	in := s
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q: want a duration such as 20s, 1m30s, 24h or 30d", in)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 20s, 1m30s, 24h or 30d", in)
	}
	return days + d, nil
}

// formatDuration writes a duration as parseDuration reads it, whole days
// as days (820d) and without Go's trailing zero units (1m, not 1m0s).
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// parseFormat is the one parser of every --format value: case and
// surrounding space are ignored, the short names report.ParseFormat takes
// ("md") are taken everywhere, and an unknown name is an error listing the
// command's formats. valid lists the names the command writes; the result
// is one of them.
func parseFormat(s string, valid []string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if f, err := report.ParseFormat(name); err == nil {
		name = f.String()
	}
	if slices.Contains(valid, name) {
		return name, nil
	}
	return "", fmt.Errorf("unknown format %q: want %s", s, orList(valid))
}

// reportFormats lists the names of report's formats, for parseFormat.
func reportFormats() []string {
	var names []string
	for _, f := range report.Formats() {
		names = append(names, f.String())
	}
	return names
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// listenAddr reads a listen address of the grammar, as serve does: PORT,
// :PORT, localhost:PORT or IP:PORT, where a bare port, an empty host and
// localhost all mean loopback (127.0.0.1), so that nothing is reachable
// from the network unless asked for with 0.0.0.0:PORT or [::]:PORT. It
// returns the address for net.Listen.
func listenAddr(s string) (string, error) {
	in := s
	s = strings.TrimSpace(s)
	host, port := "", s
	if _, err := strconv.Atoi(s); err != nil {
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("%q is not PORT, :PORT or HOST:PORT", in)
		}
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535", in, port)
	}
	port = strconv.FormatUint(n, 10)
	switch {
	case host == "" || strings.EqualFold(host, "localhost"):
		host = "127.0.0.1"
	case net.ParseIP(host) == nil || strings.Contains(host, "%"):
		return "", fmt.Errorf("%q: the host must be localhost or an IP address such as 127.0.0.1, [::1] or 0.0.0.0", in)
	}
	return net.JoinHostPort(host, port), nil
}
