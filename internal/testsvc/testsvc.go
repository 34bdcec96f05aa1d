// Package testsvc finds the outside services that integration tests need
// (PostgreSQL, Chromium, and later Redis and MinIO). A test asks for one; when
// it is absent the test is skipped with a clear message, or fails when
// PREAU_REQUIRE_SERVICES=1 (as .ci/run sets it).
package testsvc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Required reports whether missing services are failures.
func Required() bool { return os.Getenv("PREAU_REQUIRE_SERVICES") == "1" }

// Missing skips the test, or fails it when services are required.
func Missing(t testing.TB, service, why string) {
	t.Helper()
	msg := fmt.Sprintf("%s unavailable: %s", service, why)
	if Required() {
		t.Fatalf("%s (PREAU_REQUIRE_SERVICES=1)", msg)
	}
	t.Skipf("skipping: %s (set PREAU_REQUIRE_SERVICES=1 to make this a failure)", msg)
}

// DefaultPostgresURL is used when PREAU_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://root@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the URL of a fresh, empty schema in the test PostgreSQL
// database, dropped when the test ends. The server comes from
// PREAU_TEST_DATABASE_URL (default DefaultPostgresURL).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PREAU_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		Missing(t, "PostgreSQL", fmt.Sprintf("%s: %v", base, err))
		return ""
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("testsvc: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testsvc: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Chromium returns the path of a Chromium binary: PREAU_CHROMIUM, or the
// first of chromium / chromium-browser / google-chrome on PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PREAU_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, "Chromium", fmt.Sprintf("PREAU_CHROMIUM=%s: %v", p, err))
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "Chromium", "no chromium on PATH (apt-get install chromium, or set PREAU_CHROMIUM)")
	return ""
}
