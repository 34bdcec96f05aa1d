package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite", pure Go
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// The two engines Préau runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a query finds no row.
var ErrNotFound = errors.New("db: not found")

// DB is a database handle that knows its dialect.
type DB struct {
	SQL     *sql.DB
	dialect Dialect
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL; empty means an SQLite file in DataDir.
	URL string
	// DataDir holds preau.db when URL is empty. Default "./data".
	DataDir string
}

// Open opens the database and runs pending migrations.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	var d *DB
	switch {
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		s, err := sql.Open("pgx", cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("db: open postgres: %w", err)
		}
		s.SetMaxOpenConns(20)
		s.SetMaxIdleConns(10)
		s.SetConnMaxIdleTime(5 * time.Minute)
		d = &DB{SQL: s, dialect: Postgres}
	case cfg.URL == "" || strings.HasPrefix(cfg.URL, "sqlite:") || strings.HasPrefix(cfg.URL, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "sqlite://"), "sqlite:")
		if cfg.URL == "" {
			dir := cfg.DataDir
			if dir == "" {
				dir = "./data"
			}
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("db: data directory: %w", err)
			}
			path = filepath.Join(dir, "preau.db")
		}
		s, err := sql.Open("sqlite", sqliteDSN(path))
		if err != nil {
			return nil, fmt.Errorf("db: open sqlite: %w", err)
		}
		// One writer at a time is SQLite's rule; a small pool lets readers
		// proceed under WAL while writers queue on busy_timeout.
		s.SetMaxOpenConns(8)
		d = &DB{SQL: s, dialect: SQLite}
	default:
		return nil, fmt.Errorf("db: unsupported database URL %q (want postgres://… or empty for SQLite)", redact(cfg.URL))
	}
	if err := d.SQL.PingContext(ctx); err != nil {
		d.SQL.Close()
		return nil, fmt.Errorf("db: connect %s: %w", d.dialect, err)
	}
	if err := d.migrate(ctx); err != nil {
		d.SQL.Close()
		return nil, err
	}
	return d, nil
}

func sqliteDSN(path string) string {
	if strings.HasPrefix(path, "file:") {
		return path
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// redact hides a password in a URL for error messages.
func redact(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…@" + u[i+1:]
		}
	}
	return u
}

// Close closes the pool.
func (d *DB) Close() error { return d.SQL.Close() }

// Rebind rewrites '?' placeholders for the dialect. Question marks inside
// single-quoted literals are left alone.
func (d *DB) Rebind(q string) string { return rebind(d.dialect, q) }

func rebind(dialect Dialect, q string) string {
	if dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Querier is what both *DB and *Tx offer; store code takes it so the same
// function runs inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Dialect() Dialect
}

var (
	_ Querier = (*DB)(nil)
	_ Querier = (*Tx)(nil)
)

// Exec runs a statement.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.SQL.ExecContext(ctx, d.Rebind(q), args...)
}

// Query runs a query.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.SQL.QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow runs a query expected to return at most one row.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.SQL.QueryRowContext(ctx, d.Rebind(q), args...)
}

// Dialect reports the engine.
func (d *DB) Dialect() Dialect { return d.dialect }

// Tx is a transaction that knows its dialect.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, rebind(t.dialect, q), args...)
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, rebind(t.dialect, q), args...)
}

// QueryRow runs a single-row query in the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, rebind(t.dialect, q), args...)
}

// Dialect reports the engine.
func (t *Tx) Dialect() Dialect { return t.dialect }

// InTx runs fn in a transaction, committing if it returns nil and rolling
// back otherwise (also on panic).
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	tx := &Tx{tx: stx, dialect: d.dialect}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// Ping checks the database answers; for /readyz.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// IsUniqueViolation reports whether err is a unique-constraint failure.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") // PostgreSQL
}
