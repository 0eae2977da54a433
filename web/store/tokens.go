package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token is an API token an operator issued: its public part. The secret
// is shown once, when it is created, and stored only as a SHA-256 hash.
type Token struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while the token is valid
	LastUsedAt time.Time // zero when never used
}

// tokenPrefix starts every token, so one leaked in a log or a repository
// is recognisable (and secret scanners can look for it).
const tokenPrefix = "hgw_"

// ErrBadToken is returned for a token that is malformed, unknown or
// revoked; the caller does not learn which.
var ErrBadToken = errors.New("invalid or revoked API token")

// CreateToken issues a new token named name and returns it with its
// secret, "hgw_<id>_<secret>", which is not stored.
func (s *DB) CreateToken(ctx context.Context, name string, now time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return Token{}, "", errors.New("creating token: give it a name of 1 to 200 characters")
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := NewID()[:12]
	secret := tokenPrefix + id + "_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
	t := Token{ID: id, Name: name, CreatedAt: now}
	if _, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO api_tokens (id, name, hash, created_at) VALUES (?, ?, ?, ?)`),
		id, name, tokenHash(secret), us(now)); err != nil {
		return Token{}, "", fmt.Errorf("creating token: %w", err)
	}
	return t, secret, nil
}

func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the valid token whose secret is secret, and notes
// that it was used.
func (s *DB) Authenticate(ctx context.Context, secret string, now time.Time) (Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return Token{}, ErrBadToken
	}
	ts, err := s.tokenList(ctx, `SELECT id, name, created_at, revoked_at, last_used_at FROM api_tokens WHERE hash = ?`, tokenHash(secret))
	if err != nil {
		return Token{}, err
	}
	if len(ts) == 0 || !ts[0].RevokedAt.IsZero() {
		return Token{}, ErrBadToken
	}
	t := ts[0]
	// Noting every use would write on every request; once a minute says
	// as much.
	if now.Sub(t.LastUsedAt) > time.Minute {
		if _, err := s.db.ExecContext(ctx, s.d.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), us(now), t.ID); err != nil {
			return Token{}, fmt.Errorf("noting a token's use: %w", err)
		}
	}
	return t, nil
}

// Tokens returns every token, oldest first.
func (s *DB) Tokens(ctx context.Context) ([]Token, error) {
	return s.tokenList(ctx, `SELECT id, name, created_at, revoked_at, last_used_at FROM api_tokens ORDER BY created_at, id`)
}

// ErrTokenNotFound is returned by RevokeToken for an unknown ID.
var ErrTokenNotFound = errors.New("no token has this ID")

// RevokeToken revokes the token with id. Its watches stay, and keep
// running; nobody can change them through the API any more.
func (s *DB) RevokeToken(ctx context.Context, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), us(now), id)
	return affectedOne(res, err, "revoking token "+id, ErrTokenNotFound)
}

func (s *DB) tokenList(ctx context.Context, q string, args ...any) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var (
			t             Token
			created       int64
			revoked, used sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Name, &created, &revoked, &used); err != nil {
			return nil, fmt.Errorf("reading tokens: %w", err)
		}
		t.CreatedAt = fromUS(created)
		if revoked.Valid {
			t.RevokedAt = fromUS(revoked.Int64)
		}
		if used.Valid {
			t.LastUsedAt = fromUS(used.Int64)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
