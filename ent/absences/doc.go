// Package absences is the vie scolaire's record of absences and lateness:
// one record per pupil and lesson (absent, or late by some minutes), taken
// by the teacher's roll call — pre-filled from the class's live lesson when
// there was one — or entered by the vie scolaire (CPE); the family's
// justification (a reason from a fixed list, free text and an optional
// document) and the vie scolaire's decision; counts per pupil and class
// (absences, half-days, lates, justified or not) and the CSV export.
//
// Dates are "2006-01-02" and times minutes after midnight in Europe/Paris.
// Access is checked by the caller (identity resources "absence" and
// "absence_justification", docs/absences.md); this package checks what
// makes a record consistent and answers French messages for the rest.
package absences
