// Package ascii holds the one ASCII test that several parsers share.
package ascii

import "unicode/utf8"

// Is reports whether s consists of ASCII bytes only (0x00–0x7F). Invalid
// UTF-8 is not ASCII, so a false answer also covers malformed input.
func Is(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
