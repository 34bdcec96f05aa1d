// Package db opens Préau's relational database — an SQLite file by default,
// PostgreSQL when a postgres:// URL is given — and runs the versioned
// migrations at start-up.
//
// Queries are written once in portable SQL with '?' placeholders; DB rewrites
// them to '$n' for PostgreSQL. Schema files may use a few tokens for the rare
// types that differ (see migrate.go).
package db
