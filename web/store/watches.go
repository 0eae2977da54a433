package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Watch is a site re-checked on a schedule for the owner of an API token.
type Watch struct {
	ID      string // like a scan ID: 128 random bits
	TokenID string // the API token that owns it
	Target  string // as the owner gave it
	URL     string // the normalised URL every re-check scans
	Site    string
	// Interval is the time between re-checks.
	Interval time.Duration
	Paused   bool
	// Secret signs the watch's webhook deliveries (hex). It is shown to
	// the owner once, when the watch is created.
	Secret     string
	CreatedAt  time.Time
	NextDueAt  time.Time
	LastScanID string
	// Webhooks are the addresses the watch's events are delivered to.
	Webhooks []Webhook
}

// Webhook is one address a watch's events are posted to.
type Webhook struct {
	ID        string
	WatchID   string
	URL       string
	CreatedAt time.Time
}

// ErrWatchNotFound is returned when no watch has the requested ID.
var ErrWatchNotFound = errors.New("watch not found")

const watchColumns = `id, token_id, target, url, site, interval_s, paused, secret, created_at, next_due_at, last_scan_id`

// CreateWatch records w and its webhooks.
func (s *DB) CreateWatch(ctx context.Context, w Watch) error {
	if !ValidID(w.ID) || w.TokenID == "" || w.URL == "" || w.Site == "" || w.Interval <= 0 || w.Secret == "" {
		return fmt.Errorf("creating watch: incomplete watch %q", w.ID)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating watch: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO watches (`+watchColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`),
		w.ID, w.TokenID, w.Target, w.URL, w.Site, int64(w.Interval/time.Second), boolInt(w.Paused), w.Secret,
		us(w.CreatedAt), us(w.NextDueAt)); err != nil {
		return fmt.Errorf("creating watch: %w", err)
	}
	for _, h := range w.Webhooks {
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO webhooks (id, watch_id, url, created_at) VALUES (?, ?, ?, ?)`),
			h.ID, w.ID, h.URL, us(w.CreatedAt)); err != nil {
			return fmt.Errorf("creating watch: webhook: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating watch: %w", err)
	}
	return nil
}

// GetWatch returns the watch with id, webhooks included, or
// ErrWatchNotFound.
func (s *DB) GetWatch(ctx context.Context, id string) (Watch, error) {
	if !ValidID(id) {
		return Watch{}, ErrWatchNotFound
	}
	w, err := watchRow(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+watchColumns+` FROM watches WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Watch{}, ErrWatchNotFound
	}
	if err != nil {
		return Watch{}, fmt.Errorf("reading watch %s: %w", id, err)
	}
	hooks, err := s.webhooks(ctx, id)
	if err != nil {
		return Watch{}, err
	}
	w.Webhooks = hooks
	return w, nil
}

func (s *DB) webhooks(ctx context.Context, watchID string) ([]Webhook, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id, watch_id, url, created_at FROM webhooks
		WHERE watch_id = ? ORDER BY created_at, id`), watchID)
	if err != nil {
		return nil, fmt.Errorf("reading webhooks of %s: %w", watchID, err)
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		var h Webhook
		var created int64
		if err := rows.Scan(&h.ID, &h.WatchID, &h.URL, &created); err != nil {
			return nil, fmt.Errorf("reading webhooks of %s: %w", watchID, err)
		}
		h.CreatedAt = fromUS(created)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Webhook returns one webhook.
func (s *DB) Webhook(ctx context.Context, id string) (Webhook, error) {
	var h Webhook
	var created int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT id, watch_id, url, created_at FROM webhooks WHERE id = ?`), id).
		Scan(&h.ID, &h.WatchID, &h.URL, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Webhook{}, ErrWatchNotFound
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("reading webhook %s: %w", id, err)
	}
	h.CreatedAt = fromUS(created)
	return h, nil
}

// Watches returns the watches tokenID owns, oldest first, without their
// webhooks.
func (s *DB) Watches(ctx context.Context, tokenID string, limit int) ([]Watch, error) {
	return s.watchList(ctx, `SELECT `+watchColumns+` FROM watches WHERE token_id = ?
		ORDER BY created_at, id LIMIT ?`, tokenID, limit)
}

// SiteWatched reports whether any watch checks site.
func (s *DB) SiteWatched(ctx context.Context, site string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM watches WHERE site = ?`), site).Scan(&n); err != nil {
		return false, fmt.Errorf("watches of %s: %w", site, err)
	}
	return n > 0, nil
}

func (s *DB) watchList(ctx context.Context, q string, args ...any) ([]Watch, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing watches: %w", err)
	}
	defer rows.Close()
	var out []Watch
	for rows.Next() {
		w, err := watchRow(rows)
		if err != nil {
			return nil, fmt.Errorf("listing watches: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetPaused pauses or resumes a watch. A resumed watch is due at nextDue.
func (s *DB) SetPaused(ctx context.Context, id string, paused bool, nextDue time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE watches SET paused = ?, next_due_at = ? WHERE id = ?`),
		boolInt(paused), us(nextDue), id)
	return affectedOne(res, err, "updating watch "+id, ErrWatchNotFound)
}

// DeleteWatch removes a watch and its webhooks. Its scans and events stay
// in the site's history; deliveries still queued find no webhook and stop.
func (s *DB) DeleteWatch(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deleting watch %s: %w", id, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM webhooks WHERE watch_id = ?`), id); err != nil {
		return fmt.Errorf("deleting watch %s: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM watches WHERE id = ?`), id)
	if err := affectedOne(res, err, "deleting watch "+id, ErrWatchNotFound); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("deleting watch %s: %w", id, err)
	}
	return nil
}

// DueWatches returns up to limit unpaused watches due at now, the most
// overdue first.
func (s *DB) DueWatches(ctx context.Context, now time.Time, limit int) ([]Watch, error) {
	return s.watchList(ctx, `SELECT `+watchColumns+` FROM watches WHERE paused = 0 AND next_due_at <= ?
		ORDER BY next_due_at, id LIMIT ?`, us(now), limit)
}

// ScheduleScans creates the re-check scans of due watches in one
// transaction, each with the watch's next due time moved on by its
// interval. A watch whose due time another instance already moved (both
// saw it due) is skipped, so one due time makes one scan. It returns the
// scans created.
func (s *DB) ScheduleScans(ctx context.Context, due []Watch, scans []Scan) ([]Scan, error) {
	if len(due) != len(scans) {
		return nil, errors.New("scheduling scans: one scan per watch")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("scheduling scans: %w", err)
	}
	defer tx.Rollback()
	var created []Scan
	for i, w := range due {
		sc := scans[i]
		if err := checkNewScan(sc); err != nil {
			return nil, err
		}
		next := w.NextDueAt.Add(w.Interval)
		if now := sc.CreatedAt; next.Before(now) {
			next = now.Add(w.Interval) // long overdue: do not catch up in a burst
		}
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE watches SET next_due_at = ?, last_scan_id = ?
			WHERE id = ? AND next_due_at = ? AND paused = 0`), us(next), sc.ID, w.ID, us(w.NextDueAt))
		if err != nil {
			return nil, fmt.Errorf("scheduling watch %s: %w", w.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("scheduling watch %s: %w", w.ID, err)
		} else if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.d.q(insertScan), scanInsertArgs(sc)...); err != nil {
			return nil, fmt.Errorf("scheduling watch %s: %w", w.ID, err)
		}
		created = append(created, sc)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("scheduling scans: %w", err)
	}
	return created, nil
}

// WatchScans returns up to limit scans of a watch, newest first, without
// their result documents.
func (s *DB) WatchScans(ctx context.Context, watchID string, limit int) ([]Scan, error) {
	return s.scanList(ctx, "scans of watch "+watchID, `SELECT `+scanColumns+` FROM scans WHERE watch_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, watchID, limit)
}

// PreviousInWatch returns the newest finished scan of sc's watch created
// before sc (done or failed), and the newest done one, results included.
func (s *DB) PreviousInWatch(ctx context.Context, sc Scan) (last, lastDone *Scan, err error) {
	get := func(states string) (*Scan, error) {
		row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+scanColumns+`, result FROM scans
			WHERE watch_id = ? AND state IN (`+states+`) AND id <> ?
				AND (created_at < ? OR (created_at = ? AND id < ?))
			ORDER BY created_at DESC, id DESC LIMIT 1`),
			sc.WatchID, sc.ID, us(sc.CreatedAt), us(sc.CreatedAt), sc.ID)
		p, err := scanRow(row, true)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("previous scan of watch %s: %w", sc.WatchID, err)
		}
		return &p, nil
	}
	if last, err = get(`'done', 'failed'`); err != nil || last == nil {
		return nil, nil, err
	}
	if last.State == Done {
		return last, last, nil
	}
	lastDone, err = get(`'done'`)
	return last, lastDone, err
}

// scanList runs a query of scanColumns and returns its scans without their
// result documents; what names the list in errors.
func (s *DB) scanList(ctx context.Context, what, q string, args ...any) ([]Scan, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Scan
	for rows.Next() {
		sc, err := scanRow(rows, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func watchRow(r rowScanner) (Watch, error) {
	var (
		w            Watch
		interval     int64
		paused       int
		created, due int64
		lastScan     sql.NullString
	)
	if err := r.Scan(&w.ID, &w.TokenID, &w.Target, &w.URL, &w.Site, &interval, &paused, &w.Secret, &created, &due, &lastScan); err != nil {
		return Watch{}, err
	}
	w.Interval = time.Duration(interval) * time.Second
	w.Paused = paused != 0
	w.CreatedAt, w.NextDueAt = fromUS(created), fromUS(due)
	w.LastScanID = lastScan.String
	return w, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// affectedOne turns an Exec that should change exactly one row into an
// error: err itself, or notFound when no row matched.
func affectedOne(res sql.Result, err error, what string, notFound error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, notFound)
	}
	return nil
}
