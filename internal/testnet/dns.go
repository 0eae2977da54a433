package testnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSServer is a DNS server on loopback UDP for tests: it answers every
// question with the same response code and, for NOERROR, the address
// records of Answers (a name not listed gets an empty answer, "no data").
// A test points a resolver at it (Resolver), so that a name that does not
// resolve, or a resolver that fails, is tested without asking a real DNS
// server anything.
type DNSServer struct {
	// Addr is the server's "127.0.0.1:PORT".
	Addr string

	conn    net.PacketConn
	rcode   dnsmessage.RCode
	answers map[string]netip.Addr
	wg      sync.WaitGroup
}

// NewDNSServer starts a server answering rcode to every question
// (dnsmessage.RCodeNameError for NXDOMAIN, RCodeServerFailure for
// SERVFAIL, RCodeSuccess to answer from answers, a map from a fully
// qualified name such as "app.test." to its IPv4 address). Close stops it.
func NewDNSServer(rcode dnsmessage.RCode, answers map[string]netip.Addr) (*DNSServer, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &DNSServer{Addr: conn.LocalAddr().String(), conn: conn, rcode: rcode, answers: answers}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Resolver returns a resolver that sends every query to s, whatever the
// system's configuration names.
func (s *DNSServer) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", s.Addr)
		},
	}
}

// Close stops the server.
func (s *DNSServer) Close() error {
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

func (s *DNSServer) serve() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if out, err := s.answer(buf[:n]); err == nil {
			_, _ = s.conn.WriteTo(out, from)
		}
	}
}

func (s *DNSServer) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{
		ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired,
		RecursionAvailable: true, RCode: s.rcode,
	})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if addr, ok := s.answers[q.Name.String()]; ok && s.rcode == dnsmessage.RCodeSuccess && q.Type == dnsmessage.TypeA && addr.Is4() {
		rh := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60}
		if err := b.AResource(rh, dnsmessage.AResource{A: addr.As4()}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}
