package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/web/store"
)

// maxBody bounds a submission: a JSON object or form with one URL of at
// most maxTargetLen bytes, and room for encoding.
const maxBody = 8 << 10

// submitError is a refused submission: the HTTP status to answer, the
// message for the user, and for 429 and 503 when to try again.
type submitError struct {
	status     int
	msg        string
	retryAfter time.Duration
}

func (e *submitError) Error() string { return e.msg }

// submit validates raw, then reuses a recent scan of the same URL or queues
// a new one for client. With rescan, only an unfinished scan is reused:
// the user asked for a fresh result.
func (s *Server) submit(ctx context.Context, raw, client string, rescan bool) (store.Scan, error) {
	t, err := normalizeTarget(raw, s.cfg.AllowPrivate)
	if err != nil {
		return store.Scan{}, &submitError{status: http.StatusBadRequest, msg: err.Error()}
	}
	now := s.cfg.now()
	since := now.Add(-s.cfg.RescanAfter)
	if s.cfg.RescanAfter < 0 || rescan {
		since = now.Add(time.Hour) // only unfinished scans are reused
	}
	if sc, ok, err := s.store.Reusable(ctx, t.url, since); err != nil {
		return store.Scan{}, err
	} else if ok {
		return sc, nil
	}
	// Only accepted scans count against the client's rate: every refusal
	// below comes before the rate limit, or gives its token back.
	clientID := s.hashClient(client)
	if n, err := s.store.QueuedByClient(ctx, clientID); err != nil {
		return store.Scan{}, err
	} else if n >= s.cfg.MaxQueuedPerClient {
		return store.Scan{}, &submitError{
			status:     http.StatusTooManyRequests,
			msg:        fmt.Sprintf("you already have %d scans waiting; try again when one has finished", n),
			retryAfter: 10 * time.Second,
		}
	}
	if n, err := s.store.QueueLength(ctx); err != nil {
		return store.Scan{}, err
	} else if n >= s.cfg.MaxQueue {
		return store.Scan{}, &submitError{
			status:     http.StatusServiceUnavailable,
			msg:        "the scan queue is full; try again in a minute",
			retryAfter: time.Minute,
		}
	}
	ok, retry, undo := s.limiter.Reserve(client, now)
	if !ok {
		return store.Scan{}, &submitError{
			status:     http.StatusTooManyRequests,
			msg:        fmt.Sprintf("too many scans from your address; try again in %s", roundUp(retry)),
			retryAfter: retry,
		}
	}
	sc := store.Scan{
		ID:        store.NewID(),
		Target:    strings.TrimSpace(raw),
		URL:       t.url,
		Site:      t.site,
		State:     store.Queued,
		Client:    clientID,
		CreatedAt: s.creationTime(now),
	}
	if err := s.store.Create(ctx, sc); err != nil {
		undo()
		return store.Scan{}, err
	}
	// Should this fail, the scheduling job queues the scan later (see
	// store.Unenqueued); the user is told it is queued either way.
	if err := s.enqueue(ctx, []store.Scan{sc}, priorityUser); err != nil {
		s.log.Error("queueing a scan; it will be queued again by the scheduler", "scan", sc.ID, "err", err)
	}
	s.pages.dropSite(sc.Site)
	return sc, nil
}

// hashClient is the client key as stored with a scan: a keyed hash, so the
// database holds no visitor's address.
func (s *Server) hashClient(client string) string {
	m := hmac.New(sha256.New, s.clientHashKey)
	m.Write([]byte(client))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// creationTime returns now to the microsecond the store keeps, but always
// after the previous scan this process created, so that scans submitted in
// the same microsecond still queue in submission order.
func (s *Server) creationTime(now time.Time) time.Time {
	us := now.UnixMicro()
	for {
		last := s.lastCreated.Load()
		if us <= last {
			us = last + 1
		}
		if s.lastCreated.CompareAndSwap(last, us) {
			return time.UnixMicro(us).UTC()
		}
	}
}

// roundUp shows a wait in whole seconds, never "0s".
func roundUp(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}

// retryAfterSeconds is the Retry-After value for d: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return fmt.Sprint(int64(roundUp(d) / time.Second))
}

// clientKey names the client a request comes from, for rate limiting: its
// IP address, or for IPv6 its /64 network, which one user usually holds
// whole. Behind a trusted proxy, it is the last address in
// X-Forwarded-For that is not itself a trusted proxy.
func (s *Server) clientKey(r *http.Request) string {
	ip := remoteIP(r.RemoteAddr)
	if ip.IsValid() && s.trusted(ip) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled list: trust nothing further left
			}
			ip = hop
			if !s.trusted(hop) {
				break
			}
		}
	}
	if !ip.IsValid() {
		return r.RemoteAddr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func remoteIP(addr string) netip.Addr {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.WithZone("")
}

// isBodyTooLarge reports whether err came from http.MaxBytesReader.
func isBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
