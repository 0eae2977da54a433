package web

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/report"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web/store"
)

// maxFixFirst is how many findings the "fix these first" list shows, as
// many as the reports show.
const maxFixFirst = 5

// page is what every page template gets.
type page struct {
	Title string
	Nonce string
	// Refresh asks a browser without JavaScript to reload the page after
	// this many seconds (a <meta http-equiv=refresh> inside <noscript>).
	Refresh int
	// CSRF is the anti-CSRF token the page's forms carry.
	CSRF string
}

type startData struct {
	page
	URL   string
	Error string
}

type scanData struct {
	page
	Scan     store.Scan
	Position int
	Result   *scan.Result
	Groups   []checkGroup
	FixFirst []scan.Check
	Counts   scan.Counts
	Diff     *Diff
	Previous store.Scan
	// Regressed names the checks that got worse since Previous, so the
	// full list can mark them too.
	Regressed map[string]bool
	History   []store.Scan
}

type siteData struct {
	page
	Site   string
	Scans  []store.Scan
	Events []store.Event
}

type errorData struct {
	page
	Status  int
	Heading string
	Message string
}

// checkGroup is the checks of one category, with the ID its heading's
// anchor uses.
type checkGroup struct {
	scan.Group
	ID string
}

// groupChecks groups checks as the reports do. A category scan does not
// define could be any text, so its anchor is numbered instead of named.
func groupChecks(checks []scan.Check) []checkGroup {
	known := scan.Categories()
	var out []checkGroup
	others := 0
	for _, g := range scan.GroupChecks(checks) {
		id := g.Category
		if !slices.Contains(known, id) {
			// Numbered after the known categories, as they always were, so
			// links to a section keep working.
			id = "other-" + strconv.Itoa(len(known)+others)
			others++
		}
		out = append(out, checkGroup{Group: g, ID: id})
	}
	return out
}

func (s *Server) newPage(r *http.Request, title string) page {
	return page{
		Title: title,
		Nonce: httpsguard.Nonce(r.Context()),
		CSRF:  s.csrfToken(s.clientKey(r), s.cfg.now()),
	}
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.tmpl.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, buf.Bytes())
}

func (s *Server) writePage(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	s.render(w, status, "error", errorData{
		page:    s.newPage(r, heading),
		Status:  status,
		Heading: heading,
		Message: msg,
	})
}

func (s *Server) startPage(w http.ResponseWriter, r *http.Request) {
	d := startData{page: s.newPage(r, "Check a site's HTTPS"), URL: r.URL.Query().Get("url")}
	if len(d.URL) > maxTargetLen {
		d.URL = ""
	}
	s.render(w, http.StatusOK, "start", d)
}

// submitForm is the start page's POST: it queues the scan and answers 303
// See Other to the result page, which works without JavaScript.
func (s *Server) submitForm(w http.ResponseWriter, r *http.Request) {
	// A form on another site must not spend this visitor's scan budget.
	if crossSite(r) {
		s.errorPage(w, r, http.StatusForbidden, "Submission refused", "Scans can only be started from this site's own form.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		status, msg := http.StatusBadRequest, "The form could not be read."
		if isBodyTooLarge(err) {
			status, msg = http.StatusRequestEntityTooLarge, "The form is larger than 8 KiB."
		}
		s.render(w, status, "start", startData{page: s.newPage(r, "Check a site's HTTPS"), Error: msg})
		return
	}
	raw := r.PostForm.Get("url")
	client := s.clientKey(r)
	if !s.csrfValid(r.PostForm.Get(csrfField), client, s.cfg.now()) {
		if len(raw) > maxTargetLen {
			raw = ""
		}
		s.render(w, http.StatusForbidden, "start", startData{page: s.newPage(r, "Check a site's HTTPS"), URL: raw,
			Error: "This form has expired. Check the address and submit it again."})
		return
	}
	sc, err := s.submit(r.Context(), raw, client, r.PostForm.Get("rescan") == "1")
	if err != nil {
		status, msg := http.StatusInternalServerError, "The scan could not be queued. Try again in a moment."
		var se *submitError
		if errors.As(err, &se) {
			status, msg = se.status, se.msg
			if se.retryAfter > 0 {
				w.Header().Set("Retry-After", retryAfterSeconds(se.retryAfter))
			}
		} else {
			s.log.Error("submitting a scan", "err", err)
		}
		if len(raw) > maxTargetLen {
			raw = ""
		}
		s.render(w, status, "start", startData{page: s.newPage(r, "Check a site's HTTPS"), URL: raw, Error: msg})
		return
	}
	http.Redirect(w, r, "/scans/"+sc.ID, http.StatusSeeOther)
}

// resultPage shows a scan: its progress while it is queued or running, its
// result with the site's history and changes once it is done. Finished
// scans' pages come from the page cache (see pagecache.go).
func (s *Server) resultPage(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.now()
	if p := s.pages.get(r.PathValue("id"), now); p != nil {
		pg := s.newPage(r, "")
		p.serve(w, pg.Nonce, pg.CSRF)
		return
	}
	sc, ok := s.loadScan(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	d := scanData{page: s.newPage(r, "Checking "+sc.Site), Scan: sc}
	if !sc.State.Final() {
		pos, err := s.store.QueuePosition(ctx, sc)
		if err != nil {
			s.log.Error("queue position", "err", err)
		}
		d.Position = pos
		d.Refresh = 2
		s.render(w, http.StatusOK, "scan", d)
		return
	}
	if sc.Result != nil {
		res, err := decodeResult(sc.Result)
		if err != nil {
			s.log.Error("reading a result", "id", sc.ID, "err", err)
			s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "This scan's result could not be read.")
			return
		}
		d.Result = res
		d.Groups = groupChecks(res.Checks)
		d.FixFirst = scan.FixFirst(res.Checks)
		d.FixFirst = d.FixFirst[:min(len(d.FixFirst), maxFixFirst)]
		d.Counts = res.Counts()
	}
	if sc.State == store.Done {
		d.Title = sc.Site + ": " + sc.Grade
		if prev, ok, err := s.store.Previous(ctx, sc); err != nil {
			s.log.Error("previous scan", "id", sc.ID, "err", err)
		} else if ok {
			if pr, err := decodeResult(prev.Result); err == nil && d.Result != nil {
				d.Previous = prev
				d.Diff = diffResults(pr, d.Result)
				d.Regressed = map[string]bool{}
				for _, c := range d.Diff.Regressed {
					d.Regressed[c.ID] = true
				}
			}
		}
	} else {
		d.Title = sc.Site + ": scan failed"
	}
	hist, err := s.store.History(ctx, sc.Site, maxHistory)
	if err != nil {
		s.log.Error("site history", "site", sc.Site, "err", err)
	}
	d.History = hist
	// Render with markers for the per-request values, keep, and serve.
	nonce, csrf := d.Nonce, d.CSRF
	d.Nonce, d.CSRF = nonceMarker, csrfMarker
	var buf bytes.Buffer
	if err := s.tmpl.pages["scan"].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("rendering a page", "page", "scan", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := splitPage(buf.Bytes(), now.Add(pageTTL))
	p.site = sc.Site
	s.pages.put(sc.ID, p)
	p.serve(w, nonce, csrf)
}

// downloadHTML serves the report "httpsguard check --format html" writes,
// as a file to save.
func (s *Server) downloadHTML(w http.ResponseWriter, r *http.Request) {
	s.download(w, r, report.HTML, "text/html; charset=utf-8", "html")
}

// downloadJSON serves the document "httpsguard check --format json" writes.
func (s *Server) downloadJSON(w http.ResponseWriter, r *http.Request) {
	s.download(w, r, report.JSON, "application/json; charset=utf-8", "json")
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, f report.Format, ctype, ext string) {
	sc, ok := s.loadScan(w, r, false)
	if !ok {
		return
	}
	if sc.Result == nil {
		s.errorPage(w, r, http.StatusNotFound, "No report yet", "The report can be downloaded once the scan has finished.")
		return
	}
	res, err := decodeResult(sc.Result)
	if err != nil {
		s.log.Error("reading a result", "id", sc.ID, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "This scan's result could not be read.")
		return
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, f, []*scan.Result{res}, report.Options{ToolVersion: res.Tool.Version}); err != nil {
		s.log.Error("rendering a report", "id", sc.ID, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The report could not be rendered.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+reportFileName(sc, ext)+`"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(buf.Bytes())
}

// reportFileName is "httpsguard-example.com-2026-11-25.html": only
// characters safe in a quoted header parameter and on every file system.
func reportFileName(sc store.Scan, ext string) string {
	site := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, sc.Site)
	return "httpsguard-" + site + "-" + sc.CreatedAt.UTC().Format(time.DateOnly) + "." + ext
}

// sitePage lists a site's scans.
func (s *Server) sitePage(w http.ResponseWriter, r *http.Request) {
	site := r.PathValue("site")
	if !validSite(site) {
		s.errorPage(w, r, http.StatusNotFound, "Site not found", "That is not the name of a site.")
		return
	}
	scans, err := s.store.History(r.Context(), site, maxHistory)
	if err != nil {
		s.log.Error("site history", "site", site, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The history could not be read.")
		return
	}
	if len(scans) == 0 {
		s.errorPage(w, r, http.StatusNotFound, "No scans of "+site, "Nobody has checked this site here yet.")
		return
	}
	evs, err := s.store.SiteEvents(r.Context(), site, maxFeedEntries)
	if err != nil {
		s.log.Error("site events", "site", site, "err", err)
	}
	s.render(w, http.StatusOK, "site", siteData{page: s.newPage(r, "History of "+site), Site: site, Scans: scans, Events: evs})
}
