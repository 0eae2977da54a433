// Package ratelimit keeps one token bucket (golang.org/x/time/rate) per
// client key, such as an IP address, in a map of bounded size: when it is
// full, the client seen least recently is forgotten, so a flood of distinct
// addresses costs bounded memory instead of growing the map without end.
package ratelimit

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits events per key. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int

	mu    sync.Mutex
	keys  map[string]*list.Element
	order *list.List // front: most recently used
}

type entry struct {
	key string
	lim *rate.Limiter
}

// New returns a Limiter allowing each key burst events at once and then
// limit events per second, remembering at most maxKeys keys.
func New(limit rate.Limit, burst, maxKeys int) *Limiter {
	if maxKeys < 1 {
		maxKeys = 1
	}
	return &Limiter{
		limit:   limit,
		burst:   burst,
		maxKeys: maxKeys,
		keys:    make(map[string]*list.Element),
		order:   list.New(),
	}
}

// Allow reports whether key may have one more event at now. When it may
// not, retryAfter says how long until it may.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	ok, retryAfter, _ = l.Reserve(key, now)
	return ok, retryAfter
}

// Reserve is Allow for an event that may still not happen: when ok, undo
// gives the event back (as if it had never been allowed), for a caller that
// refuses the request after all and must not count it.
func (l *Limiter) Reserve(key string, now time.Time) (ok bool, retryAfter time.Duration, undo func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lim *rate.Limiter
	if el, found := l.keys[key]; found {
		l.order.MoveToFront(el)
		lim = el.Value.(*entry).lim
	} else {
		// A forgotten key starts again with a full bucket. That is the price
		// of bounded memory; it only matters when more than maxKeys clients
		// are active at once.
		if l.order.Len() >= l.maxKeys {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.keys, oldest.Value.(*entry).key)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.keys[key] = l.order.PushFront(&entry{key: key, lim: lim})
	}
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Hour, nil // burst is 0: never allowed
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, func() { r.CancelAt(now) }
}

// Len returns how many keys are remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
