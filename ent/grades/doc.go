// Package grades is the Notes module: evaluations of a class in a subject
// (title, date, scale, coefficient), each pupil's grade or absence, and the
// averages built from them — a pupil's average per subject and overall, the
// class average, lowest and highest — with a chart of each subject's average
// over a term and a CSV export (docs/grades.md).
//
// Values are exact: a grade is kept in quarter points, a coefficient in
// hundredths, and averages are computed as rational numbers and rounded
// half up to two decimals only when shown. Terms come from the directory
// (directory.EnsureTerms). Who may read and write is the access policy's
// (identity.Evaluation, identity.Grade); the web layer checks it, this
// package also checks that the teacher teaches the subject to the class.
package grades
