package store

import "context"

// Exec runs a statement on the store's database, for tests that need to
// put it in a state the API cannot.
func (s *DB) Exec(ctx context.Context, query string) error {
	_, err := s.db.ExecContext(ctx, query)
	return err
}
