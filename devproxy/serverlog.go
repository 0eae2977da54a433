package devproxy

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"
)

// serverLog turns net/http's own error log into slog records. Most of it is
// noise for a developer (a client hanging up mid-handshake) and goes to
// Debug, but a client that rejects the certificate is the most common
// set-up mistake of all, so it becomes one clear warning.
type serverLog struct {
	log    *slog.Logger
	root   string
	warned *onceSet
}

func newServerLog(l *slog.Logger, rootFile string) *log.Logger {
	return log.New(&serverLog{log: l, root: rootFile, warned: newOnceSet(8)}, "", 0)
}

// untrustedAlerts are the TLS alerts clients send when they do not trust
// the certificate's issuer: curl and Go send "unknown certificate
// authority", browsers "bad certificate" or "certificate unknown".
var untrustedAlerts = []string{
	"remote error: tls: unknown certificate authority",
	"remote error: tls: bad certificate",
	"remote error: tls: certificate unknown",
}

func (w *serverLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	for _, a := range untrustedAlerts {
		if strings.Contains(msg, "TLS handshake error") && strings.Contains(msg, a) {
			if !w.warned.first("untrusted") {
				w.log.Debug("a client rejected the certificate again", "err", msg)
			} else {
				w.log.Warn(fmt.Sprintf("a client rejected the certificate (%s): it does not trust the local CA yet. Run \"httpsguard ca install\" and restart the browser; for Node.js set NODE_EXTRA_CA_CERTS=%s, for curl use --cacert %s", strings.TrimPrefix(a, "remote error: tls: "), w.root, w.root))
			}
			return len(p), nil
		}
	}
	w.log.Log(context.Background(), slog.LevelDebug, msg)
	return len(p), nil
}
