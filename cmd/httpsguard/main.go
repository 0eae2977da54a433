// Command httpsguard enforces, develops and verifies HTTPS for web
// applications: "httpsguard policy" reviews a Policy before deployment,
// "httpsguard check" grades a live site, "httpsguard serve" gives a local app
// trusted HTTPS, "httpsguard ca" and "httpsguard cert" manage the local CA,
// and "httpsguard web" runs the checker as a web site.
//
// This package holds flags and wiring only; the work is done by the library
// packages it imports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK       = 0 // nothing to report
	exitFindings = 1 // the command worked and found something to fix
	exitError    = 2 // bad usage or a runtime error
)

// command is one "httpsguard NAME" subcommand. Each lives in its own file and
// registers itself from init, so commands can be added without touching main.
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // "httpsguard NAME [flags] ARGS" line(s)
	help    string // paragraphs printed after the usage line, before the flags
	// flags declares the command's flags on fs and returns the function that
	// runs it with the positional arguments left after parsing. That
	// function returns the exit code, or an error, which run reports
	// through fail (exit code 2).
	flags func(fs *flagSet, st *stdio) func(ctx context.Context, args []string) (int, error)
}

// stdio is what a command may touch of the outside world, so tests can run a
// command in-process.
type stdio struct {
	in     io.Reader
	out    io.Writer // machine output
	err    io.Writer // diagnostics, progress, logs
	getenv func(string) string
	// environ lists the environment as "NAME=value" lines (os.Environ);
	// nil means an empty one.
	environ func() []string
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("httpsguard: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv, environ: os.Environ})
	stop()
	os.Exit(code)
}

// run executes the command line args (without the program name) and returns
// the exit code.
func run(ctx context.Context, args []string, st *stdio) int {
	if len(args) == 0 {
		printMainUsage(st.err)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				return fail(st.err, "", usagef("help: unknown command %q", args[1]))
			}
			fs := newFlagSet(c)
			c.flags(fs, st)
			printUsage(st.out, c, fs)
			return exitOK
		}
		printMainUsage(st.out)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(st.out, "httpsguard", version())
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		return fail(st.err, "", usagef("unknown command %q", name))
	}
	fs := newFlagSet(c)
	runFn := c.flags(fs, st)
	rest, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printUsage(st.out, c, fs)
		return exitOK
	}
	if err != nil {
		return fail(st.err, c.name, usageError{err})
	}
	for _, w := range fs.usedDeprecated() {
		warn(st.err, c.name, "%s", w)
	}
	code, err := runFn(ctx, rest)
	if err != nil {
		return fail(st.err, c.name, err)
	}
	return code
}

// usageError is a mistake in the command line: fail follows its message
// with where to read the command's usage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// subError names the subcommand an error comes from ("bundle", "token"),
// so that fail says "httpsguard ca bundle: ...".
type subError struct {
	sub string
	err error
}

func (e subError) Error() string { return e.err.Error() }
func (e subError) Unwrap() error { return e.err }

// inSub marks err as coming from subcommand sub; nil stays nil.
func inSub(sub string, err error) error {
	if err == nil {
		return nil
	}
	return subError{sub, err}
}

// fail is the one way the CLI reports an error: "httpsguard COMMAND:
// message" on stderr (with the subcommand when err names one), followed for
// a usage error by where to read the usage. It returns exitError, the exit
// code of every error.
func fail(w io.Writer, name string, err error) int {
	prefix := "httpsguard"
	if name != "" {
		prefix += " " + name
	}
	if se := (subError{}); errors.As(err, &se) {
		prefix += " " + se.sub
	}
	fmt.Fprintf(w, "%s: %v\n", prefix, err)
	if ue := (usageError{}); errors.As(err, &ue) {
		if name == "" {
			fmt.Fprintln(w, `Run "httpsguard --help" for the commands.`)
		} else {
			fmt.Fprintf(w, "Run \"httpsguard %s --help\" for usage.\n", name)
		}
	}
	return exitError
}

// say prints one diagnostic line in the form of fail's messages,
// "httpsguard COMMAND: message", and goes on: check names each target
// without a grade with it.
func say(w io.Writer, name, format string, a ...any) {
	fmt.Fprintf(w, "httpsguard %s: %s\n", name, fmt.Sprintf(format, a...))
}

// warn is say for a warning.
func warn(w io.Writer, name, format string, a ...any) {
	say(w, name, "warning: "+format, a...)
}

// newFlagSet makes a command's flag set. Parsing prints nothing: run
// reports a bad flag through fail, and prints the usage on --help.
func newFlagSet(c *command) *flagSet {
	fs := newFlags("httpsguard " + c.name)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// printUsage prints a command's --help: usage, help text and its flags,
// without the deprecated names.
func printUsage(w io.Writer, c *command, fs *flagSet) {
	fmt.Fprintf(w, "Usage:\n  %s\n\n", strings.ReplaceAll(strings.TrimSpace(c.usage), "\n", "\n  "))
	if c.help != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.help))
	}
	if hasFlags(fs) {
		fmt.Fprintln(w, "Flags:")
		printFlags(w, fs)
	}
}

// parseInterspersed parses flags wherever they appear among the arguments, as
// users of "git" or "go" expect ("check example.com --format json"). A lone
// "--" ends flag parsing.
func parseInterspersed(fs *flagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, doubleDash(err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// flag stops at the first non-flag argument, or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagErrors rewrites the flag package's messages, which name a flag with
// one dash, in the CLI's grammar, where every flag has two.
var flagErrors = strings.NewReplacer(
	"flag provided but not defined: -", "unknown flag --",
	"flag needs an argument: -", "flag needs a value: --",
	" for flag -", " for flag --",
	" for -", " for --",
)

// doubleDash is a flag parsing error in the CLI's grammar; flag.ErrHelp
// passes through as it is.
func doubleDash(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errors.New(flagErrors.Replace(err.Error()))
}

func hasFlags(fs *flagSet) bool {
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if !fs.hidden(f.Name) {
			n++
		}
	})
	return n > 0
}

// printFlags prints flags GNU-style ("--name VALUE") with their defaults;
// the flag package's own listing shows single dashes, which reads oddly next
// to the double-dash flags in the rest of the help.
func printFlags(w io.Writer, fs *flagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if fs.hidden(f.Name) {
			return
		}
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintln(w, line)
		usage = strings.ReplaceAll(usage, "\n", "\n        ")
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			def := f.DefValue
			if typ == "string" || strings.ContainsAny(def, " \t") {
				def = fmt.Sprintf("%q", def)
			}
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(w, "        %s\n", usage)
	})
}

func printMainUsage(w io.Writer) {
	fmt.Fprint(w, `httpsguard makes HTTPS everywhere real for web applications, and proves it.

Usage:
  httpsguard <command> [flags] [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run "httpsguard <command> --help" for a command's flags and examples.
Exit codes: 0 ok, 1 findings, 2 usage or runtime error.
`)
}
