// Package bench holds comparative benchmarks and scripts that measure
// httpsguard against its peers. It is a separate module so the library's
// go.mod carries no benchmark-only dependency.
package bench
