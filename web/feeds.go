package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/web/store"
)

// A site's history is also published where people already look: an Atom
// feed of its watches' events for feed readers and chat integrations, an
// SVG badge with its latest grade for READMEs, and a chart of its grade
// over time on its page. A failed scan is shown as an error in all three,
// never as a grade.

// maxFeedEntries is how many events a feed holds.
const maxFeedEntries = 50

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID       string       `xml:"id"`
	Title    string       `xml:"title"`
	Updated  string       `xml:"updated"`
	Link     atomLink     `xml:"link"`
	Summary  string       `xml:"summary"`
	Category atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// eventTitle is an event's one-line title.
func eventTitle(e store.Event) string {
	word := "Recovery"
	if e.Regression {
		word = "Regression"
	}
	return word + ": " + strings.ReplaceAll(e.Kind, "_", " ")
}

// siteFeed is GET /sites/{site}/events.atom.
func (s *Server) siteFeed(w http.ResponseWriter, r *http.Request) {
	site := r.PathValue("site")
	if !validSite(site) {
		http.NotFound(w, r)
		return
	}
	evs, err := s.store.SiteEvents(r.Context(), site, maxFeedEntries)
	if err != nil {
		s.log.Error("site events", "site", site, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if len(evs) == 0 {
		// A watched site without events yet has an empty feed; any other
		// site has none.
		watched, err := s.store.SiteWatched(r.Context(), site)
		if err != nil {
			s.log.Error("site watches", "site", site, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if !watched {
			http.Error(w, "nobody watches this site here", http.StatusNotFound)
			return
		}
	}
	f := atomFeed{
		ID:     "urn:httpsguard:site:" + site,
		Title:  "httpsguard: " + site,
		Author: atomPerson{Name: "httpsguard"},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: s.absolute(sitePath(site) + "/events.atom")},
			{Rel: "alternate", Type: "text/html", Href: s.absolute(sitePath(site))},
		},
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
	}
	if len(evs) > 0 {
		f.Updated = evs[0].CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	for _, e := range evs {
		f.Entries = append(f.Entries, atomEntry{
			ID: "urn:httpsguard:event:" + e.ID, Title: eventTitle(e), Updated: e.CreatedAt.UTC().Format(time.RFC3339Nano),
			Link: atomLink{Href: s.absolute("/scans/" + e.ScanID)}, Summary: e.Summary, Category: atomCategory{Term: e.Kind},
		})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		s.log.Error("encoding a feed", "site", site, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	serveTagged(w, r, "application/atom+xml; charset=utf-8", buf.Bytes())
}

// serveTagged writes body with an ETag, answering 304 to a request that
// has it already.
func serveTagged(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && slices.Contains(strings.Split(strings.ReplaceAll(inm, " ", ""), ","), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// badgeColours colours a grade by its report.GradeClass, as the pages do;
// what is not a grade is grey, never the red of an F.
var badgeColours = map[string]string{
	"a": "#2e7d32", "b": "#558b2f", "c": "#f9a825", "d": "#ef6c00", "f": "#c62828", "none": "#616161",
}

// siteBadge is GET /sites/{site}/badge.svg: the latest finished scan's
// grade and date, "error" when it failed, "not scanned" when there is none.
func (s *Server) siteBadge(w http.ResponseWriter, r *http.Request) {
	site := r.PathValue("site")
	if !validSite(site) {
		http.NotFound(w, r)
		return
	}
	sc, ok, err := s.store.LatestFinished(r.Context(), site)
	if err != nil {
		s.log.Error("latest scan", "site", site, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	value, colour := "not scanned", "#757575"
	switch {
	case ok && sc.State == store.Done && sc.Grade != "":
		value = sc.Grade + " · " + sc.CreatedAt.UTC().Format(time.DateOnly)
		colour = badgeColours[report.GradeClass(sc.Grade)]
	case ok:
		value, colour = "error · "+sc.CreatedAt.UTC().Format(time.DateOnly), "#616161"
	}
	h := w.Header()
	// Meant to be embedded by other sites (a README), unlike the rest.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Cache-Control", "public, max-age=300")
	serveTagged(w, r, "image/svg+xml; charset=utf-8", badgeSVG("https", value, colour))
}

// badgeSVG draws a two-part badge. Text widths are estimated (7 px a
// character in 11 px Verdana, a little more for capitals), enough for the
// short labels it carries.
func badgeSVG(label, value, colour string) []byte {
	width := func(s string) int { return 10 + 7*len([]rune(s)) }
	lw, vw := width(label), width(value)
	t := html.EscapeString
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, lw+vw, t(label), t(value))
	fmt.Fprintf(&b, `<title>%s: %s</title>`, t(label), t(value))
	fmt.Fprintf(&b, `<rect width="%d" height="20" rx="3" fill="#555"/><rect x="%d" width="%d" height="20" rx="3" fill="%s"/><rect x="%d" width="4" height="20" fill="%s"/>`,
		lw+vw, lw, vw, colour, lw, colour)
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`, lw/2, t(label), lw+vw/2, t(value))
	return b.Bytes()
}

// gradeChart draws a site's scores over time as an inline SVG: one point
// per done scan (its grade in the point's title), a cross at the bottom
// for each failed scan. It is described by its title and desc, and the
// history table after it holds the same data as text.
func gradeChart(scans []store.Scan) template.HTML {
	var pts []store.Scan
	for _, sc := range scans {
		if sc.State.Final() {
			pts = append(pts, sc)
		}
	}
	if len(pts) == 0 {
		return ""
	}
	slices.SortFunc(pts, func(a, b store.Scan) int { return a.CreatedAt.Compare(b.CreatedAt) })
	const (
		w, h             = 640, 220
		left, right, top = 40, 16, 12
		bottom           = 36
	)
	t0, t1 := pts[0].CreatedAt, pts[len(pts)-1].CreatedAt
	x := func(i int, t time.Time) float64 {
		if !t1.After(t0) {
			if len(pts) == 1 {
				return left + (w-left-right)/2
			}
			return left + float64(i)*(w-left-right)/float64(len(pts)-1)
		}
		return left + float64(t.Sub(t0))/float64(t1.Sub(t0))*(w-left-right)
	}
	y := func(score int) float64 {
		return top + (100-float64(max(0, min(score, 100))))/100*(h-top-bottom)
	}
	e := html.EscapeString
	var done, failed int
	var latest string
	for _, p := range pts {
		if p.State == store.Done {
			done++
			latest = fmt.Sprintf("%s (score %d) on %s", p.Grade, p.Score, report.FormatTime(p.CreatedAt))
		} else {
			failed++
		}
	}
	desc := fmt.Sprintf("%d scans from %s to %s: %d graded, %d failed (shown as crosses marked error).", len(pts), report.FormatTime(t0), report.FormatTime(t1), done, failed)
	if latest != "" {
		desc += " Latest grade: " + latest + "."
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">`, w, h)
	fmt.Fprintf(&b, `<title id="chart-title">Score and grade over time</title><desc id="chart-desc">%s</desc>`, e(desc))
	for _, g := range []int{0, 25, 50, 75, 100} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" font-size="11" fill="#555" text-anchor="end">%d</text>`,
			left, w-right, y(g), y(g), left-6, y(g)+4, g)
	}
	var line []string
	for i, p := range pts {
		if p.State == store.Done {
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(i, p.CreatedAt), y(p.Score)))
		}
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#1565c0" stroke-width="2"/>`, strings.Join(line, " "))
	}
	for i, p := range pts {
		cx := x(i, p.CreatedAt)
		if p.State == store.Done {
			colour := badgeColours[report.GradeClass(p.Grade)]
			fmt.Fprintf(&b, `<g><title>%s: grade %s, score %d</title><circle cx="%.1f" cy="%.1f" r="5" fill="%s"/><text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#222">%s</text></g>`,
				e(report.FormatTime(p.CreatedAt)), e(p.Grade), p.Score, cx, y(p.Score), colour, cx, y(p.Score)-8, e(p.Grade))
		} else {
			by := float64(h - bottom)
			fmt.Fprintf(&b, `<g><title>%s: scan failed, no grade</title><path d="M%.1f %.1fl8 8m0 -8l-8 8" stroke="#c62828" stroke-width="2"/><text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#c62828">error</text></g>`,
				e(report.FormatTime(p.CreatedAt)), cx-4, by-4, cx, by+16)
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#555">%s</text><text x="%d" y="%d" font-size="11" fill="#555" text-anchor="end">%s</text>`,
		left, h-4, e(t0.UTC().Format(time.DateOnly)), w-right, h-4, e(t1.UTC().Format(time.DateOnly)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above with every text escaped
}
