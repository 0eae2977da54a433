package httpsguard

// The tables of HTTPSGUARD_* variables and of deployment checks in
// docs/enforce.md are generated from the code: "go generate ." rewrites
// them, and TestEnvDocumented and TestChecksDocumented fail when they are
// out of date.
//go:generate go test -run ^(TestEnvDocumented|TestChecksDocumented)$ -update-docs .
