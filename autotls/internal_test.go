package autotls

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/mholt/acmez/v3/acme"
	"go.uber.org/zap"
)

func TestClassify(t *testing.T) {
	problem := func(typ string) error {
		return fmt.Errorf("[x.test] Obtain: solving challenges: %w (order=https://ca/order/1)", acme.Problem{Type: typ, Status: 400, Detail: "detail"})
	}
	for _, tc := range []struct {
		err  error
		want ErrorKind
	}{
		{problem(acme.ProblemTypeRateLimited), KindRateLimited},
		{errors.New("HTTP 429 urn:ietf:params:acme:error:rateLimited - too many"), KindRateLimited},
		{problem(acme.ProblemTypeConnection), KindChallengeFailed},
		{problem(acme.ProblemTypeUnauthorized), KindChallengeFailed},
		{problem(acme.ProblemTypeDNS), KindChallengeFailed},
		{problem(acme.ProblemTypeTLS), KindChallengeFailed},
		{problem(acme.ProblemTypeIncorrectResponse), KindChallengeFailed},
		{problem(acme.ProblemTypeRejectedIdentifier), KindRejected},
		{problem(acme.ProblemTypeCAA), KindRejected},
		{fmt.Errorf("new order: %w", acme.Problem{Type: acme.ProblemTypeCompound, Subproblems: []acme.Subproblem{
			{Problem: acme.Problem{Type: acme.ProblemTypeRejectedIdentifier}}}}), KindRejected},
		{problem(acme.ProblemTypeServerInternal), KindOther},
		{fmt.Errorf("provisioning client: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), KindCAUnreachable},
		{fmt.Errorf("performing request: %w", x509.UnknownAuthorityError{}), KindCAUnreachable},
		{fmt.Errorf("waiting: %w", context.DeadlineExceeded), KindCAUnreachable},
		{errors.New("storage: disk full"), KindOther},
	} {
		e := classify("x.test", true, tc.err)
		if e.Kind != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, e.Kind, tc.want)
		}
		if !errors.Is(e, tc.err) || !strings.HasPrefix(e.Error(), "autotls: renewing the certificate of x.test: ") {
			t.Errorf("%v: %q", tc.err, e.Error())
		}
	}
}

func TestHostName(t *testing.T) {
	valid := [][2]string{
		{"example.com", "example.com"}, {"Example.COM:8080", "Example.COM"}, {"example.com.", "example.com"},
		{"example.com.:80", "example.com"}, {"127.0.0.1:80", "127.0.0.1"}, {"[::1]:443", "::1"}, {"[::1]", "::1"},
		{"my_host.internal", "my_host.internal"},
	}
	for _, tc := range valid {
		if got, ok := hostName(tc[0]); !ok || got != tc[1] {
			t.Errorf("hostName(%q) = %q, %v; want %q", tc[0], got, ok, tc[1])
		}
	}
	for _, host := range []string{"", "a..b", "evil.com/x", "a b", "[fe80::1%eth0]", "user@host", ":80", strings.Repeat("a", 64) + ".com"} {
		if got, ok := hostName(host); ok {
			t.Errorf("hostName(%q) = %q, accepted", host, got)
		}
	}
}

// TestZapToSlog checks that certmagic's logs reach the slog handler, one
// level down for Info and Error, with their fields.
func TestZapToSlog(t *testing.T) {
	var b strings.Builder
	zl := newZapLogger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	zl.With(zap.String("identifier", "x.test")).Info("obtaining certificate")
	zl.Error("will retry", zap.String("error", "boom"))
	out := b.String()
	for _, want := range []string{
		`level=DEBUG msg="obtaining certificate" logger=certmagic identifier=x.test`,
		`level=WARN msg="will retry" logger=certmagic error=boom`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	var quiet strings.Builder
	newZapLogger(slog.New(slog.NewTextHandler(&quiet, nil))).Info("chatty")
	if quiet.Len() != 0 {
		t.Errorf("certmagic's Info reached an Info logger: %q", quiet.String())
	}
}
