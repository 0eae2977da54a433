package localca

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/httpsguard/httpsguard/internal/datadir"
)

// EnvCARoot names the environment variable that overrides the CA directory.
const EnvCARoot = "HTTPSGUARD_CAROOT"

// DefaultDir returns the directory that holds the local CA: $HTTPSGUARD_CAROOT
// when set, else the user's data directory for the platform (see DirFromEnv).
func DefaultDir() (string, error) {
	return DirFromEnv(os.Getenv)
}

// RootFileFromEnv returns the root certificate file of the local CA in the
// directory DirFromEnv names, for a program that trusts that CA (such as
// "httpsguard check --local-ca"). It never creates a CA: when there is none,
// the error names the directory and wraps fs.ErrNotExist; a file that holds
// no certificate is an error too, rather than a pool that trusts nothing.
func RootFileFromEnv(getenv func(string) string) (string, error) {
	dir, err := DirFromEnv(getenv)
	if err != nil {
		return "", err
	}
	root := filepath.Join(dir, RootCertFile)
	data, err := os.ReadFile(root)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no local CA in %s: %w", dir, err)
	}
	if err != nil {
		return "", fmt.Errorf("reading the local CA root: %w", err)
	}
	if _, err := parseRootPEM(data); err != nil {
		return "", fmt.Errorf("the local CA root %s: %w", root, err)
	}
	return root, nil
}

// DirFromEnv is DefaultDir reading the environment through getenv, so
// commands and tests can supply their own environment. The directory is:
//
//   - $HTTPSGUARD_CAROOT, made absolute, when set;
//   - on Windows, %LocalAppData%\httpsguard;
//   - on macOS, ~/Library/Application Support/httpsguard;
//   - elsewhere, $XDG_DATA_HOME/httpsguard when XDG_DATA_HOME is an absolute
//     path (the XDG specification says to ignore relative ones), else
//     ~/.local/share/httpsguard.
func DirFromEnv(getenv func(string) string) (string, error) {
	return dirFor(runtime.GOOS, getenv)
}

func dirFor(goos string, getenv func(string) string) (string, error) {
	if d := getenv(EnvCARoot); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvCARoot, d, err)
		}
		return abs, nil
	}
	base, err := datadir.Base(goos, getenv)
	if err != nil {
		return "", errors.New("cannot find the CA directory: " + err.Error() + "; set " + EnvCARoot + " to choose one")
	}
	return filepath.Join(base, "httpsguard"), nil
}
