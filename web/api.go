package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/httpsguard/httpsguard/web/store"
)

// ScanView is a scan as the JSON API shows it.
type ScanView struct {
	ID    string `json:"id"`
	URL   string `json:"url"`  // the normalised URL scanned
	Site  string `json:"site"` // host, with ":port" when not the default
	State string `json:"state"`
	// QueuePosition is the scan's 1-based place in the queue while it is
	// queued (1: next to run).
	QueuePosition int        `json:"queue_position,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	Score         *int       `json:"score,omitempty"` // when done
	Grade         string     `json:"grade,omitempty"` // when done
	Error         string     `json:"error,omitempty"` // when failed
	Links         Links      `json:"links"`
	// Result is, once the scan finished, the same document
	// "httpsguard check --format json" writes for the target.
	Result json.RawMessage `json:"result,omitempty"`
}

// Links are the addresses of a scan's representations.
type Links struct {
	Self   string `json:"self"`   // this JSON
	Page   string `json:"page"`   // the result page
	Report string `json:"report"` // the HTML report download
}

// SiteScans is the answer of GET /api/v1/sites/{site}/scans.
type SiteScans struct {
	Site  string     `json:"site"`
	Scans []ScanView `json:"scans"`
}

func newScanView(sc store.Scan, pos int) ScanView {
	v := ScanView{
		ID:            sc.ID,
		URL:           sc.URL,
		Site:          sc.Site,
		State:         string(sc.State),
		QueuePosition: pos,
		CreatedAt:     sc.CreatedAt,
		Links:         scanLinks(sc.ID),
	}
	if !sc.StartedAt.IsZero() {
		v.StartedAt = &sc.StartedAt
	}
	if !sc.FinishedAt.IsZero() {
		v.FinishedAt = &sc.FinishedAt
	}
	switch sc.State {
	case store.Done:
		score := sc.Score
		v.Score, v.Grade = &score, sc.Grade
	case store.Failed:
		v.Error = sc.Error
	}
	return v
}

// ParsePublicURL checks a site's public address (Config.PublicURL) and
// returns it as links are built on it: scheme and host, without a
// trailing slash. A path, query, fragment or user name is refused, as
// every page of the site is served from its root.
func ParsePublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q: give an absolute http or https URL, such as https://checker.example.org", raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("%q carries a user name: give the scheme and host only", raw)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.ForceQuery:
		return "", fmt.Errorf("%q has a path, query or fragment: the site is served from its root, so give the scheme and host only", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// absolute makes a path on this site absolute with Config.PublicURL, or
// leaves it as it is when none is set.
func (s *Server) absolute(path string) string {
	return s.cfg.PublicURL + path
}

// absoluteLinks is scanLinks made absolute, for what is read away from
// this site: webhook payloads.
func (s *Server) absoluteLinks(id string) Links {
	l := scanLinks(id)
	return Links{Self: s.absolute(l.Self), Page: s.absolute(l.Page), Report: s.absolute(l.Report)}
}

func scanLinks(id string) Links {
	return Links{
		Self:   "/api/v1/scans/" + id,
		Page:   "/scans/" + id,
		Report: "/scans/" + id + "/report.html",
	}
}

type apiErrorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiErrorBody{Error: msg, Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		http.Error(w, `{"error":"internal error","status":500}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// encodeJSON is the API's JSON: indented for people reading it with curl.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// apiSubmit is POST /api/v1/scans with {"url": "..."}.
func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	if !stateChanging(w, r) {
		return
	}
	var req struct {
		URL    string `json:"url"`
		Rescan bool   `json:"rescan"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sc, err := s.submit(r.Context(), req.URL, s.clientKey(r), req.Rescan)
	if err != nil {
		s.apiSubmitError(w, err)
		return
	}
	pos, err := s.store.QueuePosition(r.Context(), sc)
	if err != nil {
		s.log.Error("queue position", "err", err)
	}
	w.Header().Set("Location", "/api/v1/scans/"+sc.ID)
	writeJSON(w, http.StatusAccepted, newScanView(sc, pos))
}

func (s *Server) apiSubmitError(w http.ResponseWriter, err error) {
	var se *submitError
	if errors.As(err, &se) {
		if se.retryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(se.retryAfter))
		}
		apiError(w, se.status, se.msg)
		return
	}
	s.log.Error("submitting a scan", "err", err)
	apiError(w, http.StatusInternalServerError, "internal error: the scan could not be queued")
}

func jsonErrorText(err error) string {
	if errors.Is(err, io.EOF) {
		return "the body is empty"
	}
	return err.Error()
}

// finishedTTL is how long the JSON of a finished scan is kept in memory:
// it never changes, so only memory bounds it.
const finishedTTL = 10 * time.Minute

// apiScan is GET /api/v1/scans/{id}.
func (s *Server) apiScan(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.now()
	key := "api:" + r.PathValue("id")
	if p := s.pages.get(key, now); p != nil {
		p.serve(w, "", "")
		return
	}
	sc, ok := s.loadScan(w, r, true)
	if !ok {
		return
	}
	pos, err := s.store.QueuePosition(r.Context(), sc)
	if err != nil {
		s.log.Error("queue position", "err", err)
	}
	v := newScanView(sc, pos)
	if !sc.State.Final() {
		writeJSON(w, http.StatusOK, v)
		return
	}
	v.Result = sc.Result
	b, err := encodeJSON(v)
	if err != nil {
		s.log.Error("encoding a scan", "id", sc.ID, "err", err)
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	// A finished scan never changes.
	p := jsonPage(b, "public, max-age=300", now.Add(finishedTTL))
	s.pages.put(key, p)
	p.serve(w, "", "")
}

// loadScan reads the scan named by the request's {id}, answering 404 (as
// JSON for the API, as a page otherwise) when there is none.
func (s *Server) loadScan(w http.ResponseWriter, r *http.Request, api bool) (store.Scan, bool) {
	id := r.PathValue("id")
	sc, err := s.store.Get(r.Context(), id)
	if err == nil {
		return sc, true
	}
	if errors.Is(err, store.ErrNotFound) {
		if api {
			apiError(w, http.StatusNotFound, "no scan has this ID")
		} else {
			s.errorPage(w, r, http.StatusNotFound, "Scan not found", "No scan has this address. Links to scans never expire, so check that it was copied whole.")
		}
		return store.Scan{}, false
	}
	s.log.Error("reading a scan", "id", id, "err", err)
	if api {
		apiError(w, http.StatusInternalServerError, "internal error")
	} else {
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The scan could not be read. Try again in a moment.")
	}
	return store.Scan{}, false
}

// maxHistory is how many scans a site's history shows.
const maxHistory = 50

// apiSiteScans is GET /api/v1/sites/{site}/scans[?limit=N].
func (s *Server) apiSiteScans(w http.ResponseWriter, r *http.Request) {
	site := r.PathValue("site")
	if !validSite(site) {
		apiError(w, http.StatusBadRequest, "the site must be a host name, with :port when the port is not the default")
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistory {
			apiError(w, http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(maxHistory))
			return
		}
		limit = n
	}
	now := s.cfg.now()
	key := "site:" + strconv.Itoa(limit) + ":" + site
	if p := s.pages.get(key, now); p != nil {
		p.serve(w, "", "")
		return
	}
	scans, err := s.store.History(r.Context(), site, limit)
	if err != nil {
		s.log.Error("site history", "site", site, "err", err)
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	out := SiteScans{Site: site, Scans: make([]ScanView, 0, len(scans))}
	for _, sc := range scans {
		out.Scans = append(out.Scans, newScanView(sc, 0))
	}
	b, err := encodeJSON(out)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal error")
		return
	}
	// Kept as briefly as a result page: a history may be pageTTL stale.
	p := jsonPage(b, "no-cache", now.Add(pageTTL))
	p.site = site
	s.pages.put(key, p)
	p.serve(w, "", "")
}

// sitePath is the site history page of site.
func sitePath(site string) string { return "/sites/" + url.PathEscape(site) }
