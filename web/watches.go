package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/web/store"
)

// maxWebhooks is how many webhooks one watch may have.
const maxWebhooks = 5

// maxWatchesPerToken bounds what one token may make the server do.
const maxWatchesPerToken = 1000

// WatchView is a watch as the JSON API shows it.
type WatchView struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	Site     string `json:"site"`
	Interval string `json:"interval"` // a Go duration: "24h0m0s"
	// IntervalSeconds is Interval in seconds.
	IntervalSeconds int64     `json:"interval_seconds"`
	Paused          bool      `json:"paused"`
	CreatedAt       time.Time `json:"created_at"`
	NextCheckAt     time.Time `json:"next_check_at"`
	LastScanID      string    `json:"last_scan_id,omitempty"`
	Webhooks        []string  `json:"webhooks"`
	// Secret signs the webhook deliveries; it is shown once, in the answer
	// to the creation.
	Secret string     `json:"secret,omitempty"`
	Links  WatchLinks `json:"links"`
}

// WatchLinks are the addresses of a watch's representations.
type WatchLinks struct {
	Self       string `json:"self"`
	Page       string `json:"page"`
	Events     string `json:"events"`
	Deliveries string `json:"deliveries"`
	Feed       string `json:"feed"`  // the site's Atom feed
	Badge      string `json:"badge"` // the site's SVG badge
}

func newWatchView(w store.Watch) WatchView {
	v := WatchView{
		ID: w.ID, URL: w.URL, Site: w.Site, Interval: w.Interval.String(), IntervalSeconds: int64(w.Interval / time.Second),
		Paused: w.Paused, CreatedAt: w.CreatedAt, NextCheckAt: w.NextDueAt, LastScanID: w.LastScanID,
		Webhooks: []string{},
		Links: WatchLinks{
			Self: "/api/v1/watches/" + w.ID, Page: "/watches/" + w.ID,
			Events: "/api/v1/watches/" + w.ID + "/events", Deliveries: "/api/v1/watches/" + w.ID + "/deliveries",
			Feed: sitePath(w.Site) + "/events.atom", Badge: sitePath(w.Site) + "/badge.svg",
		},
	}
	for _, h := range w.Webhooks {
		v.Webhooks = append(v.Webhooks, h.URL)
	}
	return v
}

// EventView is an event as the JSON API shows it: the webhook payload.
type EventView = EventPayload

// DeliveryView is one delivery attempt as the JSON API shows it.
type DeliveryView struct {
	EventID    string    `json:"event_id"`
	Webhook    string    `json:"webhook"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	Status     int       `json:"status,omitempty"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// watchRequest is the body of POST /api/v1/watches.
type watchRequest struct {
	URL      string   `json:"url"`
	Interval string   `json:"interval"` // a Go duration; default 24h, at least 1h
	Webhooks []string `json:"webhooks"`
}

// stateChanging guards every API request that changes state: it must be
// JSON when it has a body, and must not come from another site. A page on
// another origin can make a visitor's browser send a POST without a
// preflight only with a "simple" content type (form encoding, multipart or
// text/plain, or none at all, as fetch with no-cors and a Blob body or
// navigator.sendBeacon do); requiring application/json refuses those, and
// Sec-Fetch-Site or Origin refuses the rest.
func stateChanging(w http.ResponseWriter, r *http.Request) bool {
	if crossSite(r) {
		apiError(w, http.StatusForbidden, "cross-site requests are refused")
		return false
	}
	if r.Method == http.MethodDelete {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		apiError(w, http.StatusUnsupportedMediaType, `send the request as application/json`)
		return false
	}
	return true
}

// authenticate reads the request's bearer token, answering 401 when it is
// missing or not valid.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (store.Token, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="httpsguard"`)
		apiError(w, http.StatusUnauthorized, "watches need an API token: send Authorization: Bearer TOKEN (the operator issues tokens with httpsguard web token create)")
		return store.Token{}, false
	}
	t, err := s.store.Authenticate(r.Context(), strings.TrimSpace(tok), s.cfg.now())
	if err != nil {
		if !errors.Is(err, store.ErrBadToken) {
			s.log.Error("authenticating a token", "err", err)
			apiError(w, http.StatusInternalServerError, "internal error")
			return store.Token{}, false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="httpsguard", error="invalid_token"`)
		apiError(w, http.StatusUnauthorized, "the API token is not valid or was revoked")
		return store.Token{}, false
	}
	return t, true
}

// watchError is a refused watch request.
type watchError struct {
	status int
	msg    string
}

func (e *watchError) Error() string { return e.msg }

// createWatch validates a watch request for token and records it. The
// first re-check is due at once.
func (s *Server) createWatch(ctx context.Context, tok store.Token, req watchRequest) (store.Watch, error) {
	t, err := normalizeTarget(req.URL, s.cfg.AllowPrivate)
	if err != nil {
		return store.Watch{}, &watchError{http.StatusBadRequest, err.Error()}
	}
	interval := DefaultWatchInterval
	if strings.TrimSpace(req.Interval) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(req.Interval))
		if err != nil {
			return store.Watch{}, &watchError{http.StatusBadRequest, `interval must be a duration such as "1h" or "24h"`}
		}
		interval = d
	}
	if interval < s.cfg.MinWatchInterval {
		return store.Watch{}, &watchError{http.StatusBadRequest, "interval must be at least " + s.cfg.MinWatchInterval.String()}
	}
	if interval > 30*24*time.Hour {
		return store.Watch{}, &watchError{http.StatusBadRequest, "interval must be at most 720h (30 days)"}
	}
	if len(req.Webhooks) > maxWebhooks {
		return store.Watch{}, &watchError{http.StatusBadRequest, "at most " + strconv.Itoa(maxWebhooks) + " webhooks per watch"}
	}
	existing, err := s.store.Watches(ctx, tok.ID, maxWatchesPerToken)
	if err != nil {
		return store.Watch{}, err
	}
	if len(existing) >= maxWatchesPerToken {
		return store.Watch{}, &watchError{http.StatusTooManyRequests, "this token has " + strconv.Itoa(maxWatchesPerToken) + " watches already"}
	}
	now := s.cfg.now()
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	w := store.Watch{
		ID: store.NewID(), TokenID: tok.ID, Target: strings.TrimSpace(req.URL), URL: t.url, Site: t.site,
		Interval: interval, Secret: "whsec_" + hex.EncodeToString(secret[:]), CreatedAt: now, NextDueAt: now,
	}
	for _, raw := range req.Webhooks {
		u, err := checkWebhookURL(raw, s.cfg.AllowPrivateWebhooks)
		if err != nil {
			return store.Watch{}, &watchError{http.StatusBadRequest, err.Error()}
		}
		w.Webhooks = append(w.Webhooks, store.Webhook{ID: store.NewID(), WatchID: w.ID, URL: u})
	}
	if err := s.store.CreateWatch(ctx, w); err != nil {
		return store.Watch{}, err
	}
	// The first check runs at once rather than at the next scheduling
	// round: queue the scheduler now (unique, so at most one waits).
	if _, err := s.queue.Insert(ctx, scheduleArgs{}, nil); err != nil {
		s.log.Warn("queueing the scheduler", "err", err)
	}
	return w, nil
}

func (s *Server) apiCreateWatch(w http.ResponseWriter, r *http.Request) {
	if !stateChanging(w, r) {
		return
	}
	tok, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req watchRequest
	if !decodeBody(w, r, &req) {
		return
	}
	watch, err := s.createWatch(r.Context(), tok, req)
	if err != nil {
		s.apiWatchError(w, err)
		return
	}
	v := newWatchView(watch)
	v.Secret = watch.Secret
	w.Header().Set("Location", v.Links.Self)
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) apiWatchError(w http.ResponseWriter, err error) {
	var we *watchError
	if errors.As(err, &we) {
		apiError(w, we.status, we.msg)
		return
	}
	if errors.Is(err, store.ErrWatchNotFound) {
		apiError(w, http.StatusNotFound, "no watch of yours has this ID")
		return
	}
	s.log.Error("watch request", "err", err)
	apiError(w, http.StatusInternalServerError, "internal error")
}

// decodeBody reads one JSON object of at most maxBody bytes into v,
// answering 400 or 413 when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); errors.Is(err, io.EOF) {
			return true
		}
		if err == nil {
			err = errors.New("the body must hold one JSON object and nothing after it")
		}
	}
	if isBodyTooLarge(err) {
		apiError(w, http.StatusRequestEntityTooLarge, "the request body is larger than 8 KiB")
		return false
	}
	apiError(w, http.StatusBadRequest, "the body must be a JSON object: "+jsonErrorText(err))
	return false
}

// ownWatch authenticates the request and loads the watch named by {id} if
// the token owns it; another owner's watch is answered as missing.
func (s *Server) ownWatch(w http.ResponseWriter, r *http.Request) (store.Watch, bool) {
	tok, ok := s.authenticate(w, r)
	if !ok {
		return store.Watch{}, false
	}
	watch, err := s.store.GetWatch(r.Context(), r.PathValue("id"))
	if err == nil && watch.TokenID != tok.ID {
		err = store.ErrWatchNotFound
	}
	if err != nil {
		s.apiWatchError(w, err)
		return store.Watch{}, false
	}
	return watch, true
}

func (s *Server) apiListWatches(w http.ResponseWriter, r *http.Request) {
	tok, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	ws, err := s.store.Watches(r.Context(), tok.ID, maxWatchesPerToken)
	if err != nil {
		s.apiWatchError(w, err)
		return
	}
	out := struct {
		Watches []WatchView `json:"watches"`
	}{Watches: []WatchView{}}
	for _, wa := range ws {
		out.Watches = append(out.Watches, newWatchView(wa))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiGetWatch(w http.ResponseWriter, r *http.Request) {
	if watch, ok := s.ownWatch(w, r); ok {
		writeJSON(w, http.StatusOK, newWatchView(watch))
	}
}

// apiPatchWatch is PATCH /api/v1/watches/{id} with {"paused": bool}.
func (s *Server) apiPatchWatch(w http.ResponseWriter, r *http.Request) {
	if !stateChanging(w, r) {
		return
	}
	watch, ok := s.ownWatch(w, r)
	if !ok {
		return
	}
	var req struct {
		Paused *bool `json:"paused"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Paused == nil {
		apiError(w, http.StatusBadRequest, `send {"paused": true} or {"paused": false}`)
		return
	}
	watch, err := s.setPaused(r.Context(), watch, *req.Paused)
	if err != nil {
		s.apiWatchError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, newWatchView(watch))
}

// setPaused pauses or resumes a watch; a resumed watch is checked at its
// next due time, or at once when that has passed.
func (s *Server) setPaused(ctx context.Context, watch store.Watch, paused bool) (store.Watch, error) {
	next := watch.NextDueAt
	if now := s.cfg.now(); !paused && next.Before(now) {
		next = now
	}
	if err := s.store.SetPaused(ctx, watch.ID, paused, next); err != nil {
		return store.Watch{}, err
	}
	watch.Paused, watch.NextDueAt = paused, next
	return watch, nil
}

func (s *Server) apiDeleteWatch(w http.ResponseWriter, r *http.Request) {
	if !stateChanging(w, r) {
		return
	}
	watch, ok := s.ownWatch(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteWatch(r.Context(), watch.ID); err != nil {
		s.apiWatchError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxEvents is how many events and deliveries the API and pages list.
const maxEvents = 100

func (s *Server) apiWatchEvents(w http.ResponseWriter, r *http.Request) {
	watch, ok := s.ownWatch(w, r)
	if !ok {
		return
	}
	evs, err := s.store.WatchEvents(r.Context(), watch.ID, maxEvents)
	if err != nil {
		s.apiWatchError(w, err)
		return
	}
	out := struct {
		Events []EventView `json:"events"`
	}{Events: []EventView{}}
	for _, e := range evs {
		out.Events = append(out.Events, s.eventPayload(e))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiWatchDeliveries(w http.ResponseWriter, r *http.Request) {
	watch, ok := s.ownWatch(w, r)
	if !ok {
		return
	}
	ds, err := s.deliveryViews(r.Context(), watch)
	if err != nil {
		s.apiWatchError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []DeliveryView `json:"deliveries"`
	}{ds})
}

func (s *Server) deliveryViews(ctx context.Context, watch store.Watch) ([]DeliveryView, error) {
	ds, err := s.store.WatchDeliveries(ctx, watch.ID, maxEvents)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", watch.ID, err)
	}
	urls := map[string]string{}
	for _, h := range watch.Webhooks {
		urls[h.ID] = h.URL
	}
	out := []DeliveryView{}
	for _, d := range ds {
		out = append(out, DeliveryView{EventID: d.EventID, Webhook: urls[d.WebhookID], Attempt: d.Attempt, At: d.At,
			Status: d.Status, OK: d.OK, Error: d.Error, DurationMS: d.Duration.Milliseconds()})
	}
	return out, nil
}
