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
	// runs it with the positional arguments left after parsing.
	flags func(fs *flag.FlagSet, st *stdio) func(ctx context.Context, args []string) int
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
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c, st)
				c.flags(fs, st)
				fs.SetOutput(st.out)
				fs.Usage()
				return exitOK
			}
		}
		printMainUsage(st.out)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(st.out, "httpsguard", version())
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(st.err, "httpsguard: unknown command %q\n\n", name)
		printMainUsage(st.err)
		return exitError
	}
	fs := newFlagSet(c, st)
	runFn := c.flags(fs, st)
	rest, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitError // the flag package has already printed the error and usage
	}
	return runFn(ctx, rest)
}

func newFlagSet(c *command, st *stdio) *flag.FlagSet {
	fs := flag.NewFlagSet("httpsguard "+c.name, flag.ContinueOnError)
	fs.SetOutput(st.err)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage:\n  %s\n\n", strings.ReplaceAll(strings.TrimSpace(c.usage), "\n", "\n  "))
		if c.help != "" {
			fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.help))
		}
		if hasFlags(fs) {
			fmt.Fprintln(w, "Flags:")
			printFlags(w, fs)
		}
	}
	return fs
}

// parseInterspersed parses flags wherever they appear among the arguments, as
// users of "git" or "go" expect ("check example.com --format json"). A lone
// "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
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

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags prints flags GNU-style ("--name VALUE") with their defaults;
// the flag package's own listing shows single dashes, which reads oddly next
// to the double-dash flags in the rest of the help.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
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
