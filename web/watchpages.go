package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/httpsguard/httpsguard/web/store"
)

// The watch pages work without JavaScript, like the rest of the site. The
// API token is typed into each form (a password field) instead of being
// kept in a cookie: the site sets no cookies and keeps no sessions. Forms
// carry the anti-CSRF token, and cross-site posts are refused outright.

type watchesData struct {
	page
	Error   string
	URL     string
	Watches []store.Watch
	// Created is the watch just created, shown with its secret once.
	Created *store.Watch
	Listed  bool
}

type watchData struct {
	page
	Watch      store.Watch
	Scans      []store.Scan
	Events     []store.Event
	Deliveries []DeliveryView
	Message    string
	Error      string
}

// watchIntervals are the choices the form offers.
var watchIntervals = []struct{ Value, Label string }{
	{"1h", "Every hour"}, {"6h", "Every 6 hours"}, {"24h", "Every day"}, {"168h", "Every week"},
}

func (s *Server) watchesPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "watches", watchesData{page: s.newPage(r, "Watch a site")})
}

// formAuth checks a watch form: same site, a valid form token, and the
// API token typed into it. It renders the refusal itself.
func (s *Server) formAuth(w http.ResponseWriter, r *http.Request, refuse func(status int, msg string)) (store.Token, bool) {
	if crossSite(r) {
		refuse(http.StatusForbidden, "Watches can only be changed from this site's own forms.")
		return store.Token{}, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		refuse(http.StatusBadRequest, "The form could not be read.")
		return store.Token{}, false
	}
	if !s.csrfValid(r.PostForm.Get(csrfField), s.clientKey(r), s.cfg.now()) {
		refuse(http.StatusForbidden, "This form has expired. Submit it again.")
		return store.Token{}, false
	}
	tok, err := s.store.Authenticate(r.Context(), strings.TrimSpace(r.PostForm.Get("token")), s.cfg.now())
	if err != nil {
		if !errors.Is(err, store.ErrBadToken) {
			s.log.Error("authenticating a token", "err", err)
		}
		refuse(http.StatusUnauthorized, "That API token is not valid. Ask the operator of this site for one.")
		return store.Token{}, false
	}
	return tok, true
}

// watchForm is POST /watches: create a watch (action=create) or list the
// token's watches (action=list).
func (s *Server) watchForm(w http.ResponseWriter, r *http.Request) {
	d := watchesData{page: s.newPage(r, "Watch a site")}
	refuse := func(status int, msg string) {
		d.Error = msg
		s.render(w, status, "watches", d)
	}
	tok, ok := s.formAuth(w, r, refuse)
	if !ok {
		return
	}
	d.URL = truncate(r.PostForm.Get("url"), maxTargetLen)
	if r.PostForm.Get("action") == "list" {
		ws, err := s.store.Watches(r.Context(), tok.ID, maxWatchesPerToken)
		if err != nil {
			s.log.Error("listing watches", "err", err)
			refuse(http.StatusInternalServerError, "The watches could not be read.")
			return
		}
		d.Watches, d.Listed = ws, true
		s.render(w, http.StatusOK, "watches", d)
		return
	}
	req := watchRequest{URL: r.PostForm.Get("url"), Interval: r.PostForm.Get("interval")}
	if hook := strings.TrimSpace(r.PostForm.Get("webhook")); hook != "" {
		req.Webhooks = []string{hook}
	}
	watch, err := s.createWatch(r.Context(), tok, req)
	if err != nil {
		var we *watchError
		if errors.As(err, &we) {
			refuse(we.status, we.msg)
			return
		}
		s.log.Error("creating a watch", "err", err)
		refuse(http.StatusInternalServerError, "The watch could not be created.")
		return
	}
	d.Created = &watch
	d.Title = "Watching " + watch.Site
	s.render(w, http.StatusCreated, "watches", d)
}

// watchPage shows a watch: its schedule, scans, events and deliveries. Its
// address is the watch's 128-bit ID, a capability like a result page's;
// changing the watch needs the owner's API token as well.
func (s *Server) watchPage(w http.ResponseWriter, r *http.Request) {
	s.renderWatch(w, r, http.StatusOK, "", "")
}

func (s *Server) renderWatch(w http.ResponseWriter, r *http.Request, status int, msg, errMsg string) {
	watch, err := s.store.GetWatch(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrWatchNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "Watch not found", "No watch has this address; it may have been deleted.")
		return
	}
	if err != nil {
		s.log.Error("reading a watch", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The watch could not be read.")
		return
	}
	ctx := r.Context()
	d := watchData{page: s.newPage(r, "Watch of "+watch.Site), Watch: watch, Message: msg, Error: errMsg}
	var errs []error
	var e error
	d.Scans, e = s.store.WatchScans(ctx, watch.ID, maxHistory)
	errs = append(errs, e)
	d.Events, e = s.store.WatchEvents(ctx, watch.ID, maxEvents)
	errs = append(errs, e)
	d.Deliveries, e = s.deliveryViews(ctx, watch)
	errs = append(errs, e)
	if err := errors.Join(errs...); err != nil {
		s.log.Error("reading a watch's history", "err", err)
	}
	s.render(w, status, "watch", d)
}

// watchAction is POST /watches/{id}: pause, resume or delete.
func (s *Server) watchAction(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, msg string) { s.renderWatch(w, r, status, "", msg) }
	tok, ok := s.formAuth(w, r, refuse)
	if !ok {
		return
	}
	watch, err := s.store.GetWatch(r.Context(), r.PathValue("id"))
	if err == nil && watch.TokenID != tok.ID {
		refuse(http.StatusForbidden, "This watch belongs to another API token.")
		return
	}
	if err != nil {
		s.renderWatch(w, r, http.StatusNotFound, "", "")
		return
	}
	switch r.PostForm.Get("action") {
	case "pause", "resume":
		pause := r.PostForm.Get("action") == "pause"
		if _, err := s.setPaused(r.Context(), watch, pause); err != nil {
			s.log.Error("pausing a watch", "err", err)
			refuse(http.StatusInternalServerError, "The watch could not be changed.")
			return
		}
		state := "running"
		if pause {
			state = "paused"
		}
		s.renderWatch(w, r, http.StatusOK, "Done: the watch is "+state+".", "")
	case "delete":
		if err := s.store.DeleteWatch(r.Context(), watch.ID); err != nil {
			s.log.Error("deleting a watch", "err", err)
			refuse(http.StatusInternalServerError, "The watch could not be deleted.")
			return
		}
		http.Redirect(w, r, "/watches", http.StatusSeeOther)
	default:
		refuse(http.StatusBadRequest, "Unknown action.")
	}
}
