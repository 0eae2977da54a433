package scan

// The finding catalogue in docs/check.md is generated from Catalog():
// "go generate ./scan" rewrites it, and TestDocsCatalog fails when it is
// out of date.
//go:generate go test -run ^TestDocsCatalog$ -update .
