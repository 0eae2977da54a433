// Package tlsoracle holds no code: its test checks httpsguard's TLS facts
// against testssl.sh, the reference TLS scanner, on the servers of
// package tlspeers: nginx in the six configurations of issue #12 and a Go
// server for 3DES, RC4 and static RSA.
//
// For each server it runs a whole scan (scan.Scanner.Scan, so the facts are
// checked as the Result carries them) and
//
//	testssl --quiet --nodns none --add-ca ROOT.pem --jsonfile out.json FLAGS https://127.0.0.1:PORT
//
// where FLAGS are the parts of "-p -s -f -E -S" the configuration varies
// in (testsslArgs), then compares fact by fact: the protocol versions
// offered (every server), the cipher suites accepted per version (-E),
// testssl's cipher categories (-s), forward secrecy and its suites (-f),
// the leaf's key, signature algorithm and its rating, the chain of trust,
// expiry and the name (-S). A full testssl.sh run costs two to three
// CPU-minutes, so each server is asked only what it varies in, the runs go
// side by side, and the test is skipped under -short; without testssl.sh it is skipped, and under
// HTTPSGUARD_TEST_STRICT=1 (CI) it fails. -tlsoracle.all adds nginx with
// ALL:@SECLEVEL=0 (CAMELLIA, ARIA, CCM, SEED, anonymous DH on TLS 1.0 to
// 1.3), too slow for go test's default -timeout on a busy machine.
package tlsoracle
