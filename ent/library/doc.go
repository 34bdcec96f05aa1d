// Package library is the CDI (centre de documentation et d'information) of
// a school: its catalogue — titles with authors, ISBN, publisher, year,
// subjects, and their copies with a shelf mark (cote) — searchable by
// words, author and subject without regard to accents or case; online
// reservations of an available copy or a place in the title's waiting list
// (first come, first served); the loans the documentaliste records, their
// due dates (three weeks by default), returns, the overdue list and its
// reminders; and the import of a catalogue from CSV.
//
// A reservation holds a copy for HoldDays days (3 by default); Sweep
// expires those not collected and gives each copy to the next person of the
// waiting list. No copy is reserved or lent twice: every change of a copy's
// state is a conditional UPDATE, and unique partial indexes
// (db/migrations/0020_library.sql) refuse a second open loan or ready
// reservation of one copy, on SQLite and PostgreSQL alike.
//
// Who may do what is the identity table (resources "library_book" and
// "library_loan") narrowed here: CanRead, Manages, MayReserve and
// CanSeeLoans say it for a school and a person. Dates are "2006-01-02" in
// Europe/Paris. Refused input is an *Invalid with a French message
// (docs/library.md).
package library
