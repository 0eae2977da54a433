package tlsprobe

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxHandshakes = 400
	DefaultParallel      = 6
	DefaultTimeout       = 5 * time.Second
)

// ErrHandshakeLimit is wrapped by the errors of probes that were not sent
// because Config.MaxHandshakes was reached.
var ErrHandshakeLimit = errors.New("handshake limit reached")

// Config says what to probe and how hard.
type Config struct {
	// Addr is the "host:port" to connect to, through Dial.
	Addr string
	// ServerName is sent as SNI. Leave it empty for an IP address.
	ServerName string
	// Dial opens each TCP connection; nil uses a net.Dialer. Pass the
	// caller's guarded dialer so its address rules apply to every probe.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Versions are the versions asked about (default Versions).
	Versions []Version
	// MaxHandshakes bounds the ClientHellos sent by one Probe (default
	// DefaultMaxHandshakes). Listing the suites of a server that accepts
	// n of them for a version takes about n+Parallel hellos.
	MaxHandshakes int
	// Parallel bounds the connections open at once (default
	// DefaultParallel, as many as a browser opens to one host).
	Parallel int
	// Timeout bounds one probe: connect, send the hello, read the answer
	// (default DefaultTimeout).
	Timeout time.Duration
}

// Facts is what Probe learned about a server.
type Facts struct {
	// Protocols has one entry per version asked about, oldest first.
	Protocols []ProtocolFacts
	// Certificates is the chain, in DER as served, of the newest TLS 1.2
	// or older version offered (TLS 1.3 encrypts it); nil when there is
	// none.
	Certificates [][]byte
	// CertificatesVersion is the version whose hello carried
	// Certificates.
	CertificatesVersion Version
	// NoTLS is set when no probe drew a TLS or SSL answer at all (every
	// connection closed unanswered, failed or timed out): the facts
	// above then say nothing about the server.
	NoTLS error
	// Handshakes is the number of ClientHellos sent.
	Handshakes int
	// Elapsed is the wall time Probe took.
	Elapsed time.Duration
}

// ProtocolFacts is what was learned about one protocol version.
type ProtocolFacts struct {
	Version Version
	// Offered reports that the server answered a hello for this version
	// by choosing it.
	Offered bool
	// Err is set when it could not be told whether the version is
	// offered (the connection failed, no answer came in time, the answer
	// was no TLS); Offered is then false and means nothing.
	Err error
	// Refusal says how the server declined the version: "alert
	// protocol_version", "connection closed", "chose TLS 1.2".
	Refusal string
	// Suites are every suite the server chose with this version, ordered
	// by ID.
	Suites []Suite
	// SuitesErr is set when Suites may be incomplete: a probe failed or
	// a limit was reached before the server refused the rest.
	SuitesErr error
}

// Protocol returns the facts of version v, or nil if it was not probed.
func (f *Facts) Protocol(v Version) *ProtocolFacts {
	for i := range f.Protocols {
		if f.Protocols[i].Version == v {
			return &f.Protocols[i]
		}
	}
	return nil
}

// Complete reports whether every protocol was decided and every suite
// list finished, and if not, the first reason why.
func (f *Facts) Complete() error {
	if f.NoTLS != nil {
		return f.NoTLS
	}
	for _, p := range f.Protocols {
		if p.Err != nil {
			return fmt.Errorf("%s: %w", p.Version, p.Err)
		}
		if p.SuitesErr != nil {
			return fmt.Errorf("%s cipher suites: %w", p.Version, p.SuitesErr)
		}
	}
	return nil
}

// ForwardSecrecy is how many of the accepted suites have forward secrecy.
type ForwardSecrecy int

// The answers ForwardSecrecy gives.
const (
	// FSUnknown: the suite lists are incomplete and what was found does
	// not settle it.
	FSUnknown ForwardSecrecy = iota
	FSAll                    // every suite accepted has forward secrecy
	FSSome                   // some do, some do not
	FSNone                   // none does (or no suite was accepted)
)

// String is "all", "some", "none" or "unknown".
func (fs ForwardSecrecy) String() string {
	switch fs {
	case FSAll:
		return "all"
	case FSSome:
		return "some"
	case FSNone:
		return "none"
	}
	return "unknown"
}

// ForwardSecrecy judges the suites accepted on every version offered.
func (f *Facts) ForwardSecrecy() ForwardSecrecy {
	var suites []Suite
	for _, p := range f.Protocols {
		suites = append(suites, p.Suites...)
	}
	return JudgeForwardSecrecy(suites, f.Complete() == nil)
}

// JudgeForwardSecrecy judges a server's accepted suites; complete says the
// list holds every suite it accepts. A list with suites of both kinds
// settles it even when incomplete.
func JudgeForwardSecrecy(suites []Suite, complete bool) ForwardSecrecy {
	var fs, nofs int
	for _, s := range suites {
		if s.ForwardSecret() {
			fs++
		} else {
			nofs++
		}
	}
	switch {
	case fs > 0 && nofs > 0:
		return FSSome
	case !complete:
		return FSUnknown
	case fs > 0:
		return FSAll
	}
	return FSNone
}

// Probe asks the server at cfg.Addr, one ClientHello per connection,
// which protocol versions and cipher suites it accepts. It never completes
// a handshake: the ServerHello names the version and suite chosen. To list
// the suites of a version it offers everything this package knows, takes
// the chosen suite out of the offer and asks again until the server
// refuses, in up to Parallel disjoint parts of the offer at once.
//
// Probe returns an error only for a bad Config; what could not be learned
// from the server is recorded in the Facts (ProtocolFacts.Err, SuitesErr,
// NoTLS), never guessed.
func Probe(ctx context.Context, cfg Config) (*Facts, error) {
	start := time.Now()
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("tlsprobe: address %q: %w", cfg.Addr, err)
	}
	if len(cfg.ServerName) > 255 {
		return nil, errors.New("tlsprobe: server name longer than 255 bytes")
	}
	if cfg.Dial == nil {
		d := &net.Dialer{}
		cfg.Dial = d.DialContext
	}
	if cfg.Versions == nil {
		cfg.Versions = Versions
	}
	for _, v := range cfg.Versions {
		if !slices.Contains(Versions, v) {
			return nil, fmt.Errorf("tlsprobe: unknown version %s", v)
		}
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = DefaultMaxHandshakes
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	p := &prober{cfg: cfg, sem: make(chan struct{}, cfg.Parallel)}
	p.budget.Store(int64(cfg.MaxHandshakes))
	if err := p.makeKeyShares(); err != nil {
		return nil, err
	}

	f := &Facts{Protocols: make([]ProtocolFacts, len(cfg.Versions))}
	certs := make([]serverReply, len(cfg.Versions))
	var wg sync.WaitGroup
	for i, v := range cfg.Versions {
		wg.Go(func() { f.Protocols[i], certs[i] = p.version(ctx, v) })
	}
	wg.Wait()
	for i, pf := range slices.Backward(f.Protocols) {
		if pf.Offered && pf.Version >= SSL30 && pf.Version <= TLS12 && len(certs[i].certs) > 0 {
			f.Certificates, f.CertificatesVersion = certs[i].certs, pf.Version
			break
		}
	}
	if !p.answered.Load() {
		f.NoTLS = errors.New("no TLS answer to any ClientHello")
		if first := p.firstErr(); first != nil {
			f.NoTLS = fmt.Errorf("no TLS answer to any ClientHello: %w", first)
		}
	}
	f.Handshakes = int(p.sent.Load())
	f.Elapsed = time.Since(start)
	return f, nil
}

// prober is one Probe's shared state.
type prober struct {
	cfg      Config
	sem      chan struct{}
	budget   atomic.Int64
	sent     atomic.Int64
	answered atomic.Bool // some probe got a TLS or SSL answer

	x25519, p256 []byte

	mu    sync.Mutex
	first error
}

func (p *prober) makeKeyShares() error {
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("tlsprobe: key share: %w", err)
	}
	e, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("tlsprobe: key share: %w", err)
	}
	p.x25519, p.p256 = x.PublicKey().Bytes(), e.PublicKey().Bytes()
	return nil
}

func (p *prober) noteErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == nil {
		p.first = err
	}
}

func (p *prober) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}

// version finds whether v is offered and, if so, every suite it accepts.
// The second result carries the certificates of the first hello.
func (p *prober) version(ctx context.Context, v Version) (ProtocolFacts, serverReply) {
	pf := ProtocolFacts{Version: v}
	offer := offerFor(v)
	rep, err := p.hello(ctx, v, offer, v != TLS13 && v != SSL20)
	if err != nil {
		pf.Err = err
		return pf, rep
	}
	if !accepts(rep, v) {
		pf.Refusal = refusal(rep)
		return pf, rep
	}
	pf.Offered = true
	if v == SSL20 {
		// An SSL 2.0 SERVER-HELLO lists every cipher kind it accepts
		// that the client offered.
		for _, k := range rep.ssl2Kinds {
			s, _ := Lookup(k)
			pf.Suites = append(pf.Suites, s)
		}
		sortSuites(pf.Suites)
		return pf, rep
	}
	if !slices.Contains(offer, rep.suite) {
		pf.Suites = []Suite{lookup16(rep.suite)}
		pf.SuitesErr = fmt.Errorf("the server chose %s, which was not offered", SuiteName(uint32(rep.suite)))
		return pf, rep
	}
	found := []uint16{rep.suite}
	rest := slices.DeleteFunc(slices.Clone(offer), func(id uint16) bool { return id == rep.suite })
	parts := split(rest, p.cfg.Parallel)
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		partErr error
	)
	for _, part := range parts {
		wg.Go(func() {
			ids, err := p.enumerate(ctx, v, part)
			mu.Lock()
			defer mu.Unlock()
			found = append(found, ids...)
			if err != nil && partErr == nil {
				partErr = err
			}
		})
	}
	wg.Wait()
	for _, id := range found {
		pf.Suites = append(pf.Suites, lookup16(id))
	}
	sortSuites(pf.Suites)
	pf.SuitesErr = partErr
	return pf, rep
}

// enumerate offers part, takes out each suite the server chooses and asks
// again, until the server refuses what is left.
func (p *prober) enumerate(ctx context.Context, v Version, part []uint16) ([]uint16, error) {
	var found []uint16
	for len(part) > 0 {
		rep, err := p.hello(ctx, v, part, false)
		if err != nil {
			return found, err
		}
		if !accepts(rep, v) {
			return found, nil
		}
		if !slices.Contains(part, rep.suite) {
			return found, fmt.Errorf("the server chose %s, which was not offered", SuiteName(uint32(rep.suite)))
		}
		found = append(found, rep.suite)
		part = slices.DeleteFunc(part, func(id uint16) bool { return id == rep.suite })
	}
	return found, nil
}

// hello sends one ClientHello for version v offering suites on a new
// connection and reads the answer.
func (p *prober) hello(ctx context.Context, v Version, suites []uint16, wantCerts bool) (serverReply, error) {
	notProbed := func(err error) (serverReply, error) {
		err = fmt.Errorf("not probed: %w", err)
		p.noteErr(err)
		return serverReply{}, err
	}
	if err := ctx.Err(); err != nil {
		return notProbed(err)
	}
	if p.budget.Add(-1) < 0 {
		return notProbed(fmt.Errorf("%w (%d)", ErrHandshakeLimit, p.cfg.MaxHandshakes))
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return notProbed(ctx.Err())
	}
	defer func() { <-p.sem }()
	p.sent.Add(1)

	msg, err := p.marshal(v, suites)
	if err != nil {
		return serverReply{}, err
	}
	pctx := ctx
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	conn, err := p.cfg.Dial(ctx, "tcp", p.cfg.Addr)
	if err != nil {
		err = fmt.Errorf("connect %s: %w", p.cfg.Addr, err)
		p.noteErr(err)
		return serverReply{}, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(msg); err != nil && !isClosed(err) {
		err = p.wrapIOErr(pctx, err)
		p.noteErr(err)
		return serverReply{}, err
	}
	rep, err := readReply(conn, wantCerts)
	if err != nil {
		err = p.wrapIOErr(pctx, err)
		p.noteErr(err)
		return serverReply{}, err
	}
	if rep.kind != replyClosed {
		p.answered.Store(true)
	}
	return rep, nil
}

// wrapIOErr names a timeout as such: the probe's own, or the caller's
// context ending (parent).
func (p *prober) wrapIOErr(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("stopped before the answer: %w", perr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %s: %w", p.cfg.Timeout, err)
	}
	return err
}

func (p *prober) marshal(v Version, suites []uint16) ([]byte, error) {
	if v == SSL20 {
		var ch [16]byte
		_, _ = rand.Read(ch[:])
		return marshalSSLv2(ch), nil
	}
	h := helloSpec{version: v, suites: suites, serverName: p.cfg.ServerName}
	_, _ = rand.Read(h.random[:])
	if v == TLS13 {
		h.sessionID = make([]byte, 32)
		_, _ = rand.Read(h.sessionID)
		h.x25519, h.p256 = p.x25519, p.p256
	}
	return h.marshal()
}

// offerFor is every suite a hello for v offers.
func offerFor(v Version) []uint16 {
	switch v {
	case SSL20:
		return nil
	case TLS13:
		return tls13Offer
	}
	return tls12Offer
}

// accepts reports whether rep is the server choosing version v.
func accepts(rep serverReply, v Version) bool {
	switch rep.kind {
	case replySSL2Hello:
		return v == SSL20 && rep.version == SSL20 && len(rep.ssl2Kinds) > 0
	case replyHello:
		return v != SSL20 && rep.version == v
	case replyRetry:
		return v == TLS13 && rep.version == TLS13
	}
	return false
}

// refusal describes a reply that did not accept the version asked for.
func refusal(rep serverReply) string {
	switch rep.kind {
	case replyAlert:
		return "alert " + AlertName(byte(rep.alert))
	case replyClosed:
		return "connection closed"
	case replySSL2Error:
		return fmt.Sprintf("SSL 2.0 error %d", rep.alert)
	case replySSL2Hello:
		if len(rep.ssl2Kinds) == 0 {
			return "SSL 2.0 answered with no cipher in common"
		}
		return fmt.Sprintf("SSL 2.0 answered with version %s", rep.version)
	case replyHello, replyRetry:
		return "chose " + rep.version.String()
	}
	return "no answer"
}

// split deals ids into at most n parts, round robin, so that neighbours in
// the table (a family of suites a server tends to accept together) land
// in different parts and the parts finish at about the same time.
func split(ids []uint16, n int) [][]uint16 {
	n = min(n, len(ids))
	parts := make([][]uint16, n)
	for i, id := range ids {
		parts[i%n] = append(parts[i%n], id)
	}
	return parts
}

func lookup16(id uint16) Suite {
	s, _ := Lookup(uint32(id))
	return s
}

func sortSuites(s []Suite) {
	slices.SortFunc(s, func(a, b Suite) int { return int(a.ID) - int(b.ID) })
}
