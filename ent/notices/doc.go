// Package notices is the notice board (affichage, actualités): notices a
// school publishes — a title, a plain text, up to five documents — to
// everyone of the school, to profiles (pupils, parents, teachers, staff),
// to classes or to the parents of classes, within a validity period; and,
// when a notice asks for it, the parents' acknowledgement ("j'ai pris
// connaissance") with the follow-up of who has and who has not yet.
//
// Who may do what is the identity table (resources "notice" and
// "notice_ack") narrowed here: CanRead, CanEdit, MayAddress, MustAck and
// CanFollow say it for one notice and one person. Dates are
// "2006-01-02" in Europe/Paris, both ends of the period included. Refused
// input is an *Invalid with a French message (docs/notices.md).
package notices
