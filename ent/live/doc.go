// Package live keeps the record of live lessons: when each ran, for which
// class, and its roll call (who came, first arrival, last departure, time
// present), and writes the roll call as CSV for a spreadsheet.
//
// The running lessons themselves are in the SFU (package sfu) and in the
// web layer's registry. A running lesson is journaled here as it goes
// (Start, then Checkpoint with a heartbeat and the rows that changed), so a
// node killed mid-lesson keeps its roll call: Sweep closes such a lesson as
// interrupted at its last heartbeat, and Save writes the final roll call of
// a lesson that ended (migrations 0006_live.sql, 0011_live_journal.sql).
package live
