//go:build !linux

package devproxy

// portHolder names the process listening on addr where the system says;
// here it does not, so the error from the operating system stands alone.
func portHolder(addr string) string { return "" }
