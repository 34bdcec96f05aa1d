package homework

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheck: whatever a teacher sends, Check never panics, and what it
// accepts is valid UTF-8 within the limits, with a one-line title, no
// control characters and work due within the lesson's school year.
func FuzzCheck(f *testing.F) {
	f.Add("Fractions", "Cours.\r\n\r\nVoir https://exemple.fr", "2026-11-30", "Exercice 3", "2026-12-02", 30)
	f.Add("", "", "", "", "", 0)
	f.Add("a\x00b", "\xff", "2026-02-30", "\n", "2027-07-06", -1)
	f.Fuzz(func(t *testing.T, title, content, lesson, desc, due string, minutes int) {
		e := Entry{Title: title, Content: content, LessonOn: lesson, Items: []Item{{Description: desc, DueOn: due, Minutes: minutes}}}
		if err := e.Check("2026-09-01", "2027-07-05"); err != nil {
			return
		}
		for _, s := range []string{e.Title, e.Content, e.Items[0].Description} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }) {
				t.Fatalf("accepted %q", s)
			}
		}
		it := e.Items[0]
		if e.Title == "" || strings.ContainsAny(e.Title, "\n\t") || utf8.RuneCountInString(e.Title) > MaxTitle ||
			utf8.RuneCountInString(e.Content) > MaxContent || it.Description == "" ||
			it.DueOn < e.LessonOn || it.DueOn > "2027-07-05" || e.LessonOn < "2026-09-01" || it.Minutes < 0 || it.Minutes > MaxMinutes {
			t.Fatalf("accepted %+v", e)
		}
	})
}
