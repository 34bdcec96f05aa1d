// Package auth signs people in: argon2id password hashes, the password
// policy, single-use activation codes, sessions, and login throttling.
// It stores its state through db and knows people through directory; it has
// no web dependency (web turns its errors into pages and status codes).
package auth
