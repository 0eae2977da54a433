//go:build !linux

package localca

import "runtime"

// systemStoreNote says where the root went, for the install report.
func systemStoreNote() string {
	switch runtime.GOOS {
	case "darwin":
		return " (System keychain)"
	case "windows":
		return " (ROOT store of the current user)"
	}
	return ""
}
