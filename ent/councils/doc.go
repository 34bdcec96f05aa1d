// Package councils is the class councils module (conseils de classe): the
// direction or the staff (CPE) schedule a council per class and term, with
// its members — the teachers of the class, the head of school, the CPE,
// pupil and parent delegates chosen by name —, a shared agenda and notes
// that members edit (plain text, a version number refuses a lost update),
// and a video room (Council.Room) open to members only from OpenBefore
// before the start to the end.
//
// Only members see a council: anyone else gets ErrNotFound from the
// package web's checks (CanRead). Who may do what is the identity table
// (resources "council" and "council_notes"); refused input is an *Invalid
// with a French message (docs/meetings.md).
package councils
