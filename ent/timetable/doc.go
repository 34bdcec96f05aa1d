// Package timetable is the emploi du temps: the weekly slots of each class
// (subject, teacher, room, day, start and end, every week or alternate weeks
// A/B), the changes to one occurrence (cancelled, or moved to another date,
// time or room), the week a pupil, a parent's child, a teacher or a class
// sees, and the import of a school's timetable from CSV.
//
// Times are in Europe/Paris: a slot's start and end are minutes after
// midnight, dates are "2006-01-02". Access is checked by the caller
// (identity resource "timetable", docs/timetable.md); this package checks
// what makes a timetable consistent — a class, a teacher or a room is never
// in two places at once — and answers French messages for the rest.
package timetable
