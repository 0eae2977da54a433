package web

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The JSON answers for finished scans and for sites' histories are kept
// the same way, without markers.
//
// The result page of a finished scan is the most requested page (links are
// shared) and the most expensive one (a stored document decoded, a diff, a
// history, some 50 KB of template output). A finished scan never changes;
// only its site's history around it does. So the page is rendered once, kept
// for pageTTL, and served with the two per-request values spliced in: the
// CSP nonce and the visitor's anti-CSRF token. The page is rendered with
// marker strings where they go, and split there.

const (
	pageTTL     = 2 * time.Second // how stale a site's history may be
	maxCached   = 512             // pages kept at most
	nonceMarker = "HGNONCEMARKERc6f1a0d2e9b8"
	csrfMarker  = "HGCSRFMARKER4d7e2b9a1c3f"
)

// cachedPage is a rendered page split at the markers: parts[i] is followed
// by the value of slots[i].
type cachedPage struct {
	ctype        string
	cacheControl string
	// site is set when the page shows that site's history, so a new scan
	// of the site drops it at once (on this instance; others catch up
	// within pageTTL).
	site    string
	parts   [][]byte
	slots   []byte // 'n' (nonce) or 'c' (CSRF token), one fewer than parts
	size    int    // bytes of parts
	expires time.Time
	// refreshing is when a request took on rendering the page again after
	// it went stale; zero when none has.
	refreshing time.Time
}

// refreshClaim is how long the other requests serve a stale page while one
// renders it again: long enough for a render on a busy machine, short
// enough that a render that failed is taken on by another request.
const refreshClaim = 5 * time.Second

type pageCache struct {
	mu    sync.Mutex
	pages map[string]*cachedPage
}

func newPageCache() *pageCache { return &pageCache{pages: make(map[string]*cachedPage)} }

// get returns the page kept under key, or nil when the caller is to render
// it (and put it). A page past its expiry is rendered again by one request
// only: the first to see it stale gets nil, and the others are served the
// stale page meanwhile, so a popular page that expires every pageTTL does
// not make every request in flight render it at once.
func (c *pageCache) get(key string, now time.Time) *cachedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pages[key]
	if p == nil {
		return nil
	}
	if !now.After(p.expires) {
		return p
	}
	if !p.refreshing.IsZero() && now.Sub(p.refreshing) < refreshClaim {
		return p
	}
	p.refreshing = now
	return nil
}

func (c *pageCache) put(key string, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) >= maxCached {
		// Dropping everything is crude but bounded and cheap; the entries
		// only live for pageTTL anyway.
		clear(c.pages)
	}
	c.pages[key] = p
}

// dropSite makes every page that shows site's history stale: the next
// request renders it again (see get).
func (c *pageCache) dropSite(site string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pages {
		if p.site == site {
			p.expires = time.Time{}
		}
	}
}

// splitPage cuts an HTML page rendered with the markers into a cachedPage.
func splitPage(b []byte, expires time.Time) *cachedPage {
	p := &cachedPage{ctype: "text/html; charset=utf-8", cacheControl: "no-cache", expires: expires, size: len(b)}
	for {
		n := bytes.Index(b, []byte(nonceMarker))
		c := bytes.Index(b, []byte(csrfMarker))
		i, slot, mlen := n, byte('n'), len(nonceMarker)
		if n < 0 || (c >= 0 && c < n) {
			i, slot, mlen = c, 'c', len(csrfMarker)
		}
		if i < 0 {
			p.parts = append(p.parts, b)
			return p
		}
		p.parts = append(p.parts, b[:i])
		p.slots = append(p.slots, slot)
		p.size -= mlen
		b = b[i+mlen:]
	}
}

// jsonPage is a JSON answer kept as it is.
func jsonPage(b []byte, cacheControl string, expires time.Time) *cachedPage {
	return &cachedPage{ctype: "application/json; charset=utf-8", cacheControl: cacheControl,
		parts: [][]byte{b}, size: len(b), expires: expires}
}

// serve writes the page with this request's nonce and token.
func (p *cachedPage) serve(w http.ResponseWriter, nonce, csrf string) {
	size := p.size
	for _, s := range p.slots {
		if s == 'n' {
			size += len(nonce)
		} else {
			size += len(csrf)
		}
	}
	h := w.Header()
	h.Set("Content-Type", p.ctype)
	h.Set("Content-Length", strconv.Itoa(size))
	h.Set("Cache-Control", p.cacheControl)
	w.WriteHeader(http.StatusOK)
	for i, part := range p.parts {
		_, _ = w.Write(part)
		if i < len(p.slots) {
			v := csrf
			if p.slots[i] == 'n' {
				v = nonce
			}
			_, _ = w.Write([]byte(v))
		}
	}
}
