package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"preau/db"
	"preau/internal/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		d, err := db.Open(ctx, db.Config{DataDir: dir})
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("no migration recorded")
		}
		d.Close()
	}
	if _, err := filepath.Glob(filepath.Join(dir, "preau.db")); err != nil {
		t.Fatal(err)
	}
}

func TestRebindAndTx(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		{
			var id int64
			err := d.QueryRow(ctx, "INSERT INTO subjects (code, name) VALUES (?, ?) RETURNING id", "MATHS", "Mathématiques '?'").Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Exec(ctx, "INSERT INTO subjects (code, name) VALUES (?, ?)", "MATHS", "again")
			if !db.IsUniqueViolation(err) {
				t.Fatalf("duplicate code: got %v, want a unique violation", err)
			}
			// A failed transaction leaves nothing behind.
			err = d.InTx(ctx, func(tx *db.Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO subjects (code, name) VALUES (?, ?)", "FR", "Français"); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "INSERT INTO subjects (code, name) VALUES (?, ?)", "MATHS", "dup")
				return err
			})
			if err == nil {
				t.Fatal("transaction with a duplicate committed")
			}
			var n int
			d.QueryRow(ctx, "SELECT COUNT(*) FROM subjects WHERE code = ?", "FR").Scan(&n)
			if n != 0 {
				t.Fatalf("rolled-back row is visible: %d", n)
			}
			var name string
			d.QueryRow(ctx, "SELECT name FROM subjects WHERE id = ?", id).Scan(&name)
			if name != "Mathématiques '?'" {
				t.Fatalf("name = %q", name)
			}
		}
	})
}
