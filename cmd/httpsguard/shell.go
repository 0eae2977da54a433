package main

import "strings"

// shellQuote returns s unchanged when a POSIX shell reads it as one word
// with no expansion, and single-quoted otherwise, so the commands and
// "export" lines the CLI prints can be pasted or eval'd as they are (the
// macOS CA directory has a space in it). The empty string is quoted too.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.,:/=+@%", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
