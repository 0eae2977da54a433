// Package datadir finds the user's data folder, where httpsguard keeps its
// local CA and its ACME certificates.
package datadir

import (
	"errors"
	"path/filepath"
)

// Base returns the user's data folder on goos, reading the environment with
// getenv:
//   - on Windows, %LocalAppData%;
//   - on macOS, ~/Library/Application Support;
//   - elsewhere, $XDG_DATA_HOME when it is an absolute path (the XDG
//     specification says to ignore relative ones), else ~/.local/share.
//
// The error says which variable is missing.
func Base(goos string, getenv func(string) string) (string, error) {
	home := func() (string, error) {
		if h := getenv("HOME"); h != "" {
			return h, nil
		}
		return "", errors.New("HOME is not set")
	}
	switch goos {
	case "windows":
		d := getenv("LocalAppData")
		if d == "" {
			return "", errors.New("%LocalAppData% is not set")
		}
		return d, nil
	case "darwin", "ios":
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "Library", "Application Support"), nil
	default:
		if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
			return d, nil
		}
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, ".local", "share"), nil
	}
}
