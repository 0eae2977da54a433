package store

import "context"

// Exec runs a statement on the store's database, for tests that need to
// put it in a state the API cannot.
func (s *DB) Exec(ctx context.Context, query string) error {
	_, err := s.db.ExecContext(ctx, query)
	return err
}

// OpenAt opens the database at dsn and migrates it to version only, as an
// older httpsguard left it, without River's tables: for the upgrade test.
func OpenAt(ctx context.Context, dsn string, version int) (*DB, error) {
	d, c, err := openDialect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s := &DB{db: c.db, c: c, d: d}
	if _, err := s.db.ExecContext(ctx, createMigrationsTable); err != nil {
		s.Close()
		return nil, err
	}
	for _, m := range migrations[:version] {
		if err := applyMigration(ctx, s.db, d, m); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}
