package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is a regression or a recovery found between two consecutive scans
// of a watch.
type Event struct {
	ID             string // see EventID
	WatchID        string
	Site           string
	ScanID         string // the scan that showed the change
	PreviousScanID string // the scan it was compared with, if any
	// Kind names what changed ("hsts_removed", "cert_expiring", ...);
	// Subject narrows it (a check ID, a threshold), or is empty.
	Kind    string
	Subject string
	// Regression is true for a change for the worse, false for a recovery.
	Regression bool
	// Summary is one sentence for people.
	Summary   string
	CreatedAt time.Time
}

// EventID is the ID of the event of kind and subject that scanID showed in
// watchID: a hash, so the same event recorded twice (a retried job) is the
// same row, and a webhook receiver can tell a redelivery from a new event.
func EventID(watchID, scanID, kind, subject string) string {
	sum := sha256.Sum256([]byte(watchID + "\x00" + scanID + "\x00" + kind + "\x00" + subject))
	return strings.ToLower(idEncoding.EncodeToString(sum[:16]))
}

const eventColumns = `id, watch_id, site, scan_id, previous_scan_id, kind, subject, regression, summary, created_at`

func (s *DB) addEvents(ctx context.Context, tx *sql.Tx, events []Event) error {
	for _, e := range events {
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO events (`+eventColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
			e.ID, e.WatchID, e.Site, e.ScanID, nullString(e.PreviousScanID), e.Kind, e.Subject,
			boolInt(e.Regression), e.Summary, us(e.CreatedAt)); err != nil {
			return fmt.Errorf("recording event %s: %w", e.Kind, err)
		}
	}
	return nil
}

// ScanEvents returns the events a scan showed.
func (s *DB) ScanEvents(ctx context.Context, scanID string) ([]Event, error) {
	return s.eventList(ctx, `SELECT `+eventColumns+` FROM events WHERE scan_id = ? ORDER BY created_at, id`, scanID)
}

// SiteEvents returns up to limit events of site's watches, newest first.
// Two watches of one site see the same change in their own scans; only
// the first recording of a (kind, subject) per scan is returned.
func (s *DB) SiteEvents(ctx context.Context, site string, limit int) ([]Event, error) {
	evs, err := s.eventList(ctx, `SELECT `+eventColumns+` FROM events WHERE site = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, site, limit*2)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := evs[:0]
	for _, e := range evs {
		k := e.ScanID + "\x00" + e.Kind + "\x00" + e.Subject
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out[:min(len(out), limit)], nil
}

// WatchEvents returns up to limit events of a watch, newest first.
func (s *DB) WatchEvents(ctx context.Context, watchID string, limit int) ([]Event, error) {
	return s.eventList(ctx, `SELECT `+eventColumns+` FROM events WHERE watch_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, watchID, limit)
}

// ErrEventNotFound is returned when no event has the requested ID.
var ErrEventNotFound = errors.New("event not found")

// GetEvent returns one event.
func (s *DB) GetEvent(ctx context.Context, id string) (Event, error) {
	evs, err := s.eventList(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, ErrEventNotFound
	}
	return evs[0], nil
}

// CountEvents returns how many events are recorded, for tests and the
// load test's accounting.
func (s *DB) CountEvents(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting events: %w", err)
	}
	return n, nil
}

func (s *DB) eventList(ctx context.Context, q string, args ...any) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e       Event
			prev    sql.NullString
			reg     int
			created int64
		)
		if err := rows.Scan(&e.ID, &e.WatchID, &e.Site, &e.ScanID, &prev, &e.Kind, &e.Subject, &reg, &e.Summary, &created); err != nil {
			return nil, fmt.Errorf("reading events: %w", err)
		}
		e.PreviousScanID = prev.String
		e.Regression = reg != 0
		e.CreatedAt = fromUS(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Delivery is one attempt to post an event to a webhook.
type Delivery struct {
	// ID is the River job and attempt that made it ("123-2"), so that
	// recording the same attempt twice records it once.
	ID        string
	EventID   string
	WebhookID string
	WatchID   string
	Attempt   int
	At        time.Time
	// Status is the HTTP status the receiver answered, 0 when it did not
	// answer.
	Status   int
	OK       bool
	Error    string
	Duration time.Duration
}

// RecordDelivery records one delivery attempt, once.
func (s *DB) RecordDelivery(ctx context.Context, d Delivery) error {
	if _, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO deliveries
		(id, event_id, webhook_id, watch_id, attempt, at, status, ok, error, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		d.ID, d.EventID, d.WebhookID, d.WatchID, d.Attempt, us(d.At), nullInt(d.Status != 0, d.Status),
		boolInt(d.OK), nullString(d.Error), d.Duration.Milliseconds()); err != nil {
		return fmt.Errorf("recording a delivery of %s: %w", d.EventID, err)
	}
	return nil
}

// Delivered reports whether eventID was delivered to webhookID.
func (s *DB) Delivered(ctx context.Context, eventID, webhookID string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM deliveries
		WHERE event_id = ? AND webhook_id = ? AND ok = 1`), eventID, webhookID).Scan(&n); err != nil {
		return false, fmt.Errorf("deliveries of %s: %w", eventID, err)
	}
	return n > 0, nil
}

// WatchDeliveries returns up to limit delivery attempts of a watch's
// events, newest first.
func (s *DB) WatchDeliveries(ctx context.Context, watchID string, limit int) ([]Delivery, error) {
	return s.deliveryList(ctx, `SELECT id, event_id, webhook_id, watch_id, attempt, at, status, ok, error, duration_ms
		FROM deliveries WHERE watch_id = ? ORDER BY at DESC, id DESC LIMIT ?`, watchID, limit)
}

// AllDeliveries returns every delivery attempt, oldest first, for tests.
func (s *DB) AllDeliveries(ctx context.Context) ([]Delivery, error) {
	return s.deliveryList(ctx, `SELECT id, event_id, webhook_id, watch_id, attempt, at, status, ok, error, duration_ms
		FROM deliveries ORDER BY at, id`)
}

func (s *DB) deliveryList(ctx context.Context, q string, args ...any) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var (
			d      Delivery
			at, ms int64
			status sql.NullInt64
			ok     int
			errMsg sql.NullString
		)
		if err := rows.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.WatchID, &d.Attempt, &at, &status, &ok, &errMsg, &ms); err != nil {
			return nil, fmt.Errorf("reading deliveries: %w", err)
		}
		d.At, d.Status, d.OK, d.Error = fromUS(at), int(status.Int64), ok != 0, errMsg.String
		d.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, d)
	}
	return out, rows.Err()
}
