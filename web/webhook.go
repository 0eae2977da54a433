package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"github.com/httpsguard/httpsguard/internal/publicip"
	"github.com/httpsguard/httpsguard/web/store"
)

// Webhook deliveries are signed the way Stripe signs its own: the header
//
//	Httpsguard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// carries the time of the attempt and the HMAC-SHA256, under the watch's
// secret, of "<t>.<body>". A receiver recomputes it over the raw body,
// compares in constant time, and refuses a t more than a few minutes old,
// so a captured delivery cannot be replayed later. Every attempt of one
// event carries the same Httpsguard-Event-Id (and "id" in the body): a
// receiver that saw it already has nothing more to do.
const (
	signatureHeader = "Httpsguard-Signature"
	eventIDHeader   = "Httpsguard-Event-Id"
	// webhookTimeout bounds one delivery attempt.
	webhookTimeout = 10 * time.Second
	// signatureTolerance is how old a signature VerifySignature accepts.
	signatureTolerance = 5 * time.Minute
)

// Sign returns the Httpsguard-Signature header value for body, sent at t,
// under secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a delivery as a receiver should: header is the
// Httpsguard-Signature value, body the raw request body, now the
// receiver's clock. It fails for a wrong signature and for one older (or
// newer) than five minutes.
func VerifySignature(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("webhook signature: malformed header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureTolerance || d < -signatureTolerance {
		return errors.New("webhook signature: timestamp outside the tolerance (a replay?)")
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return errors.New("webhook signature: does not match")
}

// EventPayload is the JSON body of a webhook delivery.
type EventPayload struct {
	ID         string `json:"id"`   // the same for every attempt: deduplicate on it
	Type       string `json:"type"` // the event's kind, such as "hsts_removed"
	Subject    string `json:"subject,omitempty"`
	Regression bool   `json:"regression"` // false for a recovery
	Summary    string `json:"summary"`
	Site       string `json:"site"`
	WatchID    string `json:"watch_id"`
	ScanID     string `json:"scan_id"`
	// PreviousScanID is the scan the change is measured against.
	PreviousScanID string    `json:"previous_scan_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	Links          Links     `json:"links"` // the scan's
}

// eventPayload is an event as webhooks and the API carry it, its links
// absolute when Config.PublicURL is set.
func (s *Server) eventPayload(e store.Event) EventPayload {
	return EventPayload{
		ID: e.ID, Type: e.Kind, Subject: e.Subject, Regression: e.Regression, Summary: e.Summary,
		Site: e.Site, WatchID: e.WatchID, ScanID: e.ScanID, PreviousScanID: e.PreviousScanID,
		CreatedAt: e.CreatedAt, Links: s.absoluteLinks(e.ScanID),
	}
}

// errPrivateWebhook is the dial error for a webhook target that is not a
// public address.
var errPrivateWebhook = errors.New(refusedText)

// newWebhookClient returns the client deliveries are posted with: no
// proxy, no redirects followed (a receiver cannot bounce a delivery to an
// internal address), and, unless allowPrivate, a dialer that refuses every
// address that is not public, checked on the address actually dialled.
func newWebhookClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicip.IsPublic(ap.Addr()) {
				return errPrivateWebhook
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: webhookTimeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            d.DialContext,
			TLSHandshakeTimeout:    5 * time.Second,
			ResponseHeaderTimeout:  webhookTimeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConnsPerHost:    2,
			IdleConnTimeout:        30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkWebhookURL validates a webhook address when a watch is created:
// http or https, a host, no user information, and a public address unless
// allowPrivate (the dialer checks again what the name resolves to).
func checkWebhookURL(raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > maxTargetLen {
		return "", fmt.Errorf("webhook %q: give an http:// or https:// address", truncate(raw, 80))
	}
	if u.User != nil {
		return "", errors.New("webhook: addresses with a user name or password are not accepted")
	}
	u.Fragment = ""
	host := u.Hostname()
	if !allowPrivate {
		if ip, err := netip.ParseAddr(host); err == nil && !publicip.IsPublic(ip) {
			return "", fmt.Errorf("webhook %s: %s", truncate(raw, 80), refusedText)
		}
		if h := strings.ToLower(host); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return "", fmt.Errorf("webhook %s: %s", truncate(raw, 80), refusedText)
		}
	}
	return u.String(), nil
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Server
}

func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return webhookTimeout + storeGrace
}

// Work posts one event to one webhook and records the attempt. A receiver
// that does not answer 2xx makes the job fail, and River tries again with
// backoff (see backoff). An event already delivered to the webhook is not
// posted again, whoever retries it.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	hook, err := s.store.Webhook(ctx, job.Args.WebhookID)
	if errors.Is(err, store.ErrWatchNotFound) {
		return nil // its watch was deleted
	}
	if err != nil {
		return err
	}
	if done, err := s.store.Delivered(ctx, job.Args.EventID, hook.ID); err != nil || done {
		return err
	}
	ev, err := s.store.GetEvent(ctx, job.Args.EventID)
	if err != nil {
		return err
	}
	watch, err := s.store.GetWatch(ctx, hook.WatchID)
	if errors.Is(err, store.ErrWatchNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	body, err := json.Marshal(s.eventPayload(ev))
	if err != nil {
		return river.JobCancel(err)
	}
	start := time.Now()
	status, postErr := s.post(ctx, hook.URL, ev.ID, watch.Secret, body)
	d := store.Delivery{
		ID:      strconv.FormatInt(job.ID, 10) + "-" + strconv.Itoa(job.Attempt),
		EventID: ev.ID, WebhookID: hook.ID, WatchID: watch.ID, Attempt: job.Attempt,
		At: s.cfg.now(), Status: status, OK: postErr == nil, Duration: time.Since(start),
	}
	if postErr != nil {
		d.Error = publicText(postErr.Error())
	}
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeGrace)
	defer cancel()
	if err := s.store.RecordDelivery(recCtx, d); err != nil {
		return err
	}
	if postErr != nil {
		s.log.Warn("webhook delivery failed", "event", ev.ID, "webhook", hook.ID, "attempt", job.Attempt, "err", postErr)
		return postErr
	}
	s.log.Info("webhook delivered", "event", ev.ID, "webhook", hook.ID, "status", status)
	return nil
}

// post sends one signed delivery and returns the receiver's status.
func (s *Server) post(ctx context.Context, target, eventID, secret string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "httpsguard-webhook/1 (+https://github.com/httpsguard/httpsguard)")
	req.Header.Set(eventIDHeader, eventID)
	req.Header.Set(signatureHeader, Sign(secret, s.cfg.now(), body))
	res, err := s.webhooks.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("webhook: the receiver answered %s", res.Status)
	}
	return res.StatusCode, nil
}
