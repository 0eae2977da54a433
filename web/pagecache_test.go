package web

import (
	"testing"
	"time"
)

// TestPageCacheOneRefresh: a stale page is rendered again by one request;
// the others are served the stale page meanwhile, and a render that never
// comes back is taken on by another request later.
func TestPageCacheOneRefresh(t *testing.T) {
	c := newPageCache()
	t0 := time.Unix(1_800_000_000, 0)
	old := jsonPage([]byte("old"), "no-cache", t0.Add(pageTTL))
	old.site = "a.example"
	c.put("k", old)
	if c.get("k", t0) != old {
		t.Fatal("a fresh page is not served")
	}
	later := t0.Add(pageTTL + time.Second)
	if c.get("k", later) != nil {
		t.Fatal("the first request to see the page stale should render it")
	}
	for range 3 {
		if c.get("k", later) != old {
			t.Fatal("requests during the render should get the stale page")
		}
	}
	if c.get("k", later.Add(refreshClaim+time.Second)) != nil {
		t.Error("a render that never finished is not taken on again")
	}
	c.put("k", jsonPage([]byte("new"), "no-cache", later.Add(pageTTL)))
	if p := c.get("k", later); p == nil || string(p.parts[0]) != "new" {
		t.Error("the new page is not served")
	}
	// A new scan of the site makes its pages stale at once.
	c.pages["k"].site = "a.example"
	c.dropSite("a.example")
	if c.get("k", later) != nil {
		t.Error("a dropped page is served fresh")
	}
}
