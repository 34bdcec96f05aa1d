// Package homework is the cahier de textes: for a class (or group) and a
// subject, one entry per lesson — the séance, what was done (a title and
// plain text) — with the work to do (travail à faire) for a later date: a
// description, the due date, an estimated duration and up to five
// attachments from the teacher's Documents. Each pupil ticks the work they
// have done; the "à faire" list sorts a pupil's work by due day.
//
// Dates are "2006-01-02" in Europe/Paris. Access is checked by the caller
// (identity resources "homework" and "homework_done", docs/homework.md);
// this package checks what makes an entry valid — sizes, dates within the
// class's school year, work due on or after its lesson — and answers French
// messages (Invalid) for the rest.
package homework
