// Package live keeps the record of finished live lessons: when each ran, for
// which class, and its roll call (who came, first arrival, last departure,
// time present), and writes the roll call as CSV for a spreadsheet.
//
// The running lessons themselves are in the SFU (package sfu) and in the
// web layer's registry; this package only stores what remains once a lesson
// has ended (migration 0006_live.sql).
package live
