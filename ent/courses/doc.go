// Package courses is the online courses (cours en ligne): a teacher
// publishes course pages for a class or group they teach this school year,
// organised in ordered chapters; a chapter holds ordered items — text
// written in Markdown (rendered safely by Render), a file from the
// teacher's Documents (one version, kept as attached), a web link (http or
// https), or the class's live lesson with, when there is one, its
// recording (a file of the Documents too).
//
// An item is a draft, seen by its teacher only, until it is published; the
// pupils of the class, their parents (read only) and its teachers then see
// it. Access is checked by the caller (identity resource "course", target:
// the course's class; docs/courses.md); this package checks what makes a
// course, chapter or item valid — sizes, kinds, addresses — and answers
// French messages (Invalid) for the rest.
package courses
