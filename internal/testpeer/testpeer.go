// Package testpeer is how a test says it needs a peer program it cannot run
// without: PostgreSQL, Chromium and chromedriver, node with the MDN HTTP
// Observatory, Python and Django, certutil, keytool. A missing peer skips the
// test with a message that names the peer and the package to install, or
// fails it when HTTPSGUARD_TEST_STRICT=1, as CI runs, so a machine without
// the peer is never mistaken for a pass.
//
// The messages share one form, "missing test peer: NAME [install: HOW]:
// REASON", which internal/testsummary reads to list, at the end of a test
// run, what was skipped and what to install.
package testpeer

import (
	"fmt"
	"os"
	"regexp"
	"testing"
)

// StrictEnv names the variable that turns a missing peer into a failure.
const StrictEnv = "HTTPSGUARD_TEST_STRICT"

// Prefix starts the message of every skip or failure for a missing peer.
const Prefix = "missing test peer: "

// Peer is a program or service some tests need, and how to get it.
type Peer struct {
	// Name is what is missing, as a reader knows it ("chromium").
	Name string
	// Install says how to get it on Debian or Ubuntu, the platform CI
	// runs on; it must not contain ']'.
	Install string
}

// The peers of httpsguard's tests. .ci/run installs every one of them.
var (
	PostgreSQL   = Peer{"PostgreSQL", "apt-get install -y postgresql, then set HTTPSGUARD_TEST_POSTGRES_DSN as .ci/postgres.sh does"}
	Chromium     = Peer{"chromium", "apt-get install -y chromium"}
	Chromedriver = Peer{"chromium and chromedriver", "apt-get install -y chromium chromium-driver"}
	Observatory  = Peer{"node with @mdn/mdn-http-observatory", "apt-get install -y nodejs npm, then source .ci/observatory.sh, which sets HTTPSGUARD_OBSERVATORY_DIR"}
	Python       = Peer{"python3", "apt-get install -y python3"}
	Django       = Peer{"Django", "apt-get install -y python3-django"}
	Certutil     = Peer{"certutil", "apt-get install -y libnss3-tools"}
	Keytool      = Peer{"keytool", "apt-get install -y default-jre-headless"}
	Curl         = Peer{"curl", "apt-get install -y curl"}
	Jq           = Peer{"jq", "apt-get install -y jq"}
	Nginx        = Peer{"nginx", "apt-get install -y nginx"}
	OpenSSL      = Peer{"openssl", "apt-get install -y openssl"}
	Testssl      = Peer{"testssl.sh", "apt-get install -y testssl.sh"}
)

// Strict reports whether HTTPSGUARD_TEST_STRICT=1: missing peers fail tests.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// Message is the text Missing reports for p.
func Message(p Peer, reason string) string {
	return fmt.Sprintf("%s%s [install: %s]: %s", Prefix, p.Name, p.Install, reason)
}

var messageRE = regexp.MustCompile(regexp.QuoteMeta(Prefix) + `(.+?) \[install: ([^\]]+)\]`)

// Parse finds a Missing message in text and returns its peer.
func Parse(text string) (Peer, bool) {
	m := messageRE.FindStringSubmatch(text)
	if m == nil {
		return Peer{}, false
	}
	return Peer{Name: m[1], Install: m[2]}, true
}

// Missing ends the test because p is not available, for the reason given:
// a skip, or a failure under HTTPSGUARD_TEST_STRICT=1.
func Missing(tb testing.TB, p Peer, reason string) {
	tb.Helper()
	msg := Message(p, reason)
	if Strict() {
		tb.Fatal(msg + " (" + StrictEnv + "=1)")
	}
	tb.Skip(msg)
}
