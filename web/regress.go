package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/store"
)

// A watch's events are the changes between its consecutive scans that its
// owner must hear about: regressions, and the recoveries that undo them.
// Each kind is one entry below; what a check's generic pass→fail would
// repeat is left to the specific kind (an HSTS header removed is one
// event, not one per HSTS check).
const (
	evScanFailed     = "scan_failed"    // the site could not be scanned (no grade)
	evScanRecovered  = "scan_recovered" // it could again
	evGradeDropped   = "grade_dropped"  // a worse grade than the previous scan's
	evGradeRose      = "grade_rose"     // a better one
	evCertExpiring   = "cert_expiring"  // the certificate expires within 21 or 7 days (subject: the threshold)
	evCertExpired    = "cert_expired"   // the certificate has expired
	evCertRenewed    = "cert_renewed"   // it has 21 days or more again
	evHSTSRemoved    = "hsts_removed"   // no HSTS header any more
	evHSTSShortened  = "hsts_shortened" // a shorter max-age
	evHSTSRestored   = "hsts_restored"  // an HSTS header again, or a longer max-age
	evRedirectLost   = "redirect_lost"  // plain HTTP no longer redirects to HTTPS
	evRedirectBack   = "redirect_restored"
	evLeakFound      = "leak_found" // a framework leak check that passed now fails (subject: check ID)
	evLeakFixed      = "leak_fixed"
	evCheckFailed    = "check_failed" // any other check that passed now fails (subject: check ID)
	evCheckRecovered = "check_recovered"
)

// Check IDs the specific kinds cover.
const (
	checkRedirect = "HGS-RED-001"
	checkExpiry   = "HGS-TLS-003"
)

// certThresholds are the days-left levels that raise an event when a
// certificate crosses them.
var certThresholds = []int{21, 7}

// change is one event before it is given its IDs.
type change struct {
	kind, subject string
	regression    bool
	summary       string
}

// watchEvents compares a watch's scan that just finished (outcome o, the
// public result doc in o.Result) with the watch's previous scans.
func (s *Server) watchEvents(ctx context.Context, sc store.Scan, o store.Outcome) ([]store.Event, error) {
	last, lastDone, err := s.store.PreviousInWatch(ctx, sc)
	if err != nil {
		return nil, err
	}
	var cur, prev *scan.Result
	if o.State == store.Done && o.Result != nil {
		if cur, err = decodeResult(o.Result); err != nil {
			return nil, err
		}
	}
	if lastDone != nil && lastDone.Result != nil {
		if prev, err = decodeResult(lastDone.Result); err != nil {
			return nil, err
		}
	}
	var lastState store.State
	if last != nil {
		lastState = last.State
	}
	now := s.cfg.now()
	var out []store.Event
	for _, c := range changes(lastState, prev, o, cur) {
		e := store.Event{
			ID:      store.EventID(sc.WatchID, sc.ID, c.kind, c.subject),
			WatchID: sc.WatchID, Site: sc.Site, ScanID: sc.ID,
			Kind: c.kind, Subject: c.subject, Regression: c.regression, Summary: c.summary, CreatedAt: now,
		}
		if lastDone != nil {
			e.PreviousScanID = lastDone.ID
		}
		out = append(out, e)
	}
	return out, nil
}

// changes lists the events between the previous scans of a watch (the
// state of the last one, and the result of the last done one, nil when
// none) and the current outcome (cur is its result when it is done).
func changes(lastState store.State, prev *scan.Result, o store.Outcome, cur *scan.Result) []change {
	if o.State == store.Failed {
		if lastState == store.Failed {
			return nil // still failing: already said
		}
		return []change{{evScanFailed, "", true, "The site could not be scanned: " + o.Error}}
	}
	if cur == nil {
		return nil
	}
	var out []change
	if lastState == store.Failed {
		out = append(out, change{evScanRecovered, "", false, "The site can be scanned again (grade " + cur.Grade + ")."})
	}
	out = append(out, certChanges(prev, cur)...)
	if prev == nil {
		return out
	}
	if a, b := scan.GradeRank(prev.Grade), scan.GradeRank(cur.Grade); b < a {
		out = append(out, change{evGradeDropped, "", true, fmt.Sprintf("The grade fell from %s to %s (score %d → %d).", prev.Grade, cur.Grade, prev.Score, cur.Score)})
	} else if b > a {
		out = append(out, change{evGradeRose, "", false, fmt.Sprintf("The grade rose from %s to %s (score %d → %d).", prev.Grade, cur.Grade, prev.Score, cur.Score)})
	}
	out = append(out, hstsChanges(prev, cur)...)
	before := map[string]scan.Check{}
	for _, c := range prev.Checks {
		before[c.ID] = c
	}
	for _, c := range cur.Checks {
		p, ok := before[c.ID]
		if !ok {
			continue
		}
		wasOK, isOK := passing(p.Status), passing(c.Status)
		broke, fixed := wasOK && c.Status == scan.StatusFail, p.Status == scan.StatusFail && isOK
		if !broke && !fixed {
			continue
		}
		switch {
		case c.ID == checkRedirect && broke:
			out = append(out, change{evRedirectLost, "", true, "Plain HTTP no longer redirects to HTTPS: " + c.Message})
		case c.ID == checkRedirect:
			out = append(out, change{evRedirectBack, "", false, "Plain HTTP redirects to HTTPS again."})
		case c.Category == scan.CategoryHSTS || c.ID == checkExpiry:
			// Covered by the HSTS and certificate events.
		case c.Category == scan.CategoryLeaks && broke:
			out = append(out, change{evLeakFound, c.ID, true, "New framework leak: " + c.Title + ": " + c.Message})
		case c.Category == scan.CategoryLeaks:
			out = append(out, change{evLeakFixed, c.ID, false, "Framework leak fixed: " + c.Title + "."})
		case broke:
			out = append(out, change{evCheckFailed, c.ID, true, "A check that passed now fails: " + c.Title + ": " + c.Message})
		default:
			out = append(out, change{evCheckRecovered, c.ID, false, "A check that failed now passes: " + c.Title + "."})
		}
	}
	return out
}

// passing is a status that is not a finding.
func passing(s scan.Status) bool {
	return s == scan.StatusPass || s == scan.StatusInfo || s == scan.StatusSkip
}

// certLevel is how close a result's certificate is to expiry: 0 with 21
// days or more left, 1 under 21, 2 under 7, 3 expired; -1 without a
// certificate.
func certLevel(r *scan.Result) (level int, left time.Duration, notAfter time.Time) {
	if r == nil || r.TLS == nil || len(r.TLS.Chain) == 0 {
		return -1, 0, time.Time{}
	}
	notAfter = r.TLS.Chain[0].NotAfter
	left = notAfter.Sub(r.StartedAt)
	switch {
	case left <= 0:
		return 3, left, notAfter
	case left < time.Duration(certThresholds[1])*24*time.Hour:
		return 2, left, notAfter
	case left < time.Duration(certThresholds[0])*24*time.Hour:
		return 1, left, notAfter
	}
	return 0, left, notAfter
}

// certChanges compares certificate expiry. Without a previous result, a
// certificate already close to expiry is an event too: the owner should
// hear of it from the first scan of a new watch.
func certChanges(prev, cur *scan.Result) []change {
	lc, left, notAfter := certLevel(cur)
	if lc < 0 {
		return nil
	}
	lp := 0
	if prev != nil {
		if lp, _, _ = certLevel(prev); lp < 0 {
			lp = 0
		}
	}
	day := notAfter.UTC().Format(time.DateOnly)
	switch {
	case lc > lp && lc == 3:
		return []change{{evCertExpired, "", true, "The certificate expired on " + day + "."}}
	case lc > lp:
		th := strconv.Itoa(certThresholds[lc-1])
		days := int(left.Hours() / 24)
		return []change{{evCertExpiring, th, true, fmt.Sprintf("The certificate expires in %s (on %s), within %s days.", plural(days, "day", "days"), day, th)}}
	case lc == 0 && lp > 0:
		return []change{{evCertRenewed, "", false, "The certificate was renewed: it is valid until " + day + "."}}
	}
	return nil
}

// hstsMaxAge is the max-age of the HSTS header of the first HTTPS response
// (the one browsers heed), and whether there was one.
func hstsMaxAge(r *scan.Result) (int64, bool) {
	if len(r.HTTPSRedirects) == 0 || r.HTTPSRedirects[0].Error != "" {
		return 0, false
	}
	h := r.HTTPSRedirects[0].HSTS
	if h == "" {
		return 0, false
	}
	// Browsers heed the first header only.
	first, _, _ := strings.Cut(h, ",")
	for _, d := range strings.Split(first, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(strings.TrimSpace(k), "max-age") {
			n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(v), `"`), 10, 64)
			if err != nil || n < 0 {
				return 0, false
			}
			return n, n > 0
		}
	}
	return 0, false
}

func hstsChanges(prev, cur *scan.Result) []change {
	// Only compare responses that were both fetched.
	if len(prev.HTTPSRedirects) == 0 || len(cur.HTTPSRedirects) == 0 || cur.HTTPSRedirects[0].Error != "" || prev.HTTPSRedirects[0].Error != "" {
		return nil
	}
	pa, pok := hstsMaxAge(prev)
	ca, cok := hstsMaxAge(cur)
	switch {
	case pok && !cok:
		return []change{{evHSTSRemoved, "", true, fmt.Sprintf("The HSTS header is gone (it was max-age=%d).", pa)}}
	case pok && cok && ca < pa:
		return []change{{evHSTSShortened, "", true, fmt.Sprintf("HSTS max-age was shortened from %d to %d seconds.", pa, ca)}}
	case cok && (!pok || ca > pa):
		return []change{{evHSTSRestored, "", false, fmt.Sprintf("HSTS is sent again, with max-age=%d.", ca)}}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
