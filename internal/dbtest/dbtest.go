// Package dbtest runs a store test against every database engine: a fresh
// SQLite file always, and a fresh PostgreSQL schema when the server is there
// (skipped, or failed under PREAU_REQUIRE_SERVICES=1, when it is not).
package dbtest

import (
	"context"
	"testing"

	"preau/db"
	"preau/internal/testsvc"
)

// SQLite opens a fresh, migrated SQLite database for the test.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Postgres opens a fresh, migrated PostgreSQL schema for the test.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	u := testsvc.PostgresURL(t)
	d, err := db.Open(context.Background(), db.Config{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Each runs fn as a subtest per engine ("sqlite", "postgres").
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
