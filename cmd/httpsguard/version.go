package main

import "runtime/debug"

// version reports the module version the binary was built from, as "go
// install" records it, or "devel" for a local build.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
