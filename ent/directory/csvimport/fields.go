package csvimport

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// row is one data record with its column map.
type row struct {
	rec  []string
	cols *columns
	msgs []string // problems found while reading the row
}

// get returns the trimmed value of f, "" when the column is absent.
func (r *row) get(f field) string {
	i := r.cols[f]
	if i < 0 || i >= len(r.rec) {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

func (r *row) fail(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// text returns a cleaned free-text value: spaces collapsed, at most max
// characters, no control characters.
func (r *row) text(f field, max int) string {
	v := strings.Join(strings.Fields(r.get(f)), " ")
	switch {
	case strings.ContainsFunc(v, unicode.IsControl):
		r.fail("« %s » contient un caractère de contrôle", fieldNames[f])
		return ""
	case utf8.RuneCountInString(v) > max:
		r.fail("« %s » trop long (%d caractères au plus)", fieldNames[f], max)
		return ""
	}
	return v
}

// name is a required person name.
func (r *row) name(f field) string {
	v := r.text(f, 100)
	if v == "" && r.get(f) == "" {
		r.fail("« %s » manquant", fieldNames[f])
	}
	return v
}

// ident is an identifier: printable, no spaces, at most 64 characters.
func (r *row) ident(f field) string {
	v := r.get(f)
	if v == "" {
		return ""
	}
	if len(v) > 64 || strings.ContainsFunc(v, func(c rune) bool { return unicode.IsSpace(c) || !unicode.IsPrint(c) }) {
		r.fail("« %s » invalide : %s", fieldNames[f], quote(v))
		return ""
	}
	return v
}

// ine is a national pupil identifier: 11 letters and digits (10 digits and a
// letter, or 9 digits and 2 letters for the INE-RNIE).
func (r *row) ine(f field) string {
	v := strings.ToUpper(strings.ReplaceAll(r.get(f), " ", ""))
	if v == "" {
		return ""
	}
	ok := len(v) == 11
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
	}
	if !ok {
		r.fail("INE invalide : %s (11 chiffres et lettres)", quote(v))
		return ""
	}
	return v
}

// email is a lower-cased address, checked for its shape only.
func (r *row) email(f field) string {
	v := strings.ToLower(r.get(f))
	if v == "" {
		return ""
	}
	local, domain, ok := strings.Cut(v, "@")
	ok = ok && local != "" && strings.Contains(domain, ".") && !strings.Contains(domain, "@") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && len(v) <= 254 &&
		!strings.ContainsFunc(v, func(c rune) bool { return unicode.IsSpace(c) || !unicode.IsPrint(c) || c == ',' || c == ';' })
	if !ok {
		r.fail("courriel invalide : %s", quote(v))
		return ""
	}
	return v
}

// date reads a birth date written JJ/MM/AAAA (also J/M/AAAA, with '-' or
// '.', or AAAA-MM-JJ as a spreadsheet may rewrite it) and returns
// YYYY-MM-DD.
func (r *row) date(f field, now time.Time) string {
	v := r.get(f)
	if v == "" {
		return ""
	}
	d, ok := parseDate(v)
	if !ok || d.Year() < 1900 || d.After(now) {
		r.fail("date de naissance invalide : %s (attendu JJ/MM/AAAA)", quote(v))
		return ""
	}
	return d.Format(time.DateOnly)
}

func parseDate(v string) (time.Time, bool) {
	v, _, _ = strings.Cut(v, " ") // "12/05/2013 00:00"
	parts := strings.FieldsFunc(v, func(c rune) bool { return c == '/' || c == '-' || c == '.' })
	if len(parts) != 3 {
		return time.Time{}, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || len(p) > 4 {
			return time.Time{}, false
		}
		n[i] = x
	}
	y, m, d := n[2], n[1], n[0]
	if len(parts[0]) == 4 {
		y, d = n[0], n[2]
	} else if len(parts[2]) != 4 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false // 31/02 and the like
	}
	return t, true
}

// civility normalises the usual forms to "M." and "Mme".
func civility(v string) string {
	switch fold(v) {
	case "m", "mr", "monsieur", "mon", "m r":
		return "M."
	case "mme", "madame", "mad", "mlle", "mademoiselle":
		return "Mme"
	}
	return v
}

// relation normalises kinship words as SIECLE spells them in capitals.
func relation(v string) string {
	switch fold(v) {
	case "mere":
		return "Mère"
	case "pere":
		return "Père"
	case "tuteur":
		return "Tuteur"
	case "tutrice":
		return "Tutrice"
	}
	return v
}

// splitList cuts "6A, 3B" or "Maths | SVT" into trimmed, non-empty,
// distinct items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == '|' || c == ';' }) {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" && !containsFold(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// subjectCode derives a subject's code from its name: upper-case ASCII,
// other characters turned into '-': "Mathématiques" → "MATHEMATIQUES",
// "Histoire-géographie" → "HISTOIRE-GEOGRAPHIE".
func subjectCode(name string) string {
	c := strings.ToUpper(strings.ReplaceAll(fold(name), " ", "-"))
	if len(c) > 40 {
		c = strings.TrimRight(c[:40], "-")
	}
	return c
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return "« " + s + " »"
}

// list reads a list column ("6A, 3B"): at most n items of at most max
// characters each.
func (r *row) list(f field, max, n int) []string {
	items := splitList(r.get(f))
	for _, it := range items {
		if strings.ContainsFunc(it, unicode.IsControl) || utf8.RuneCountInString(it) > max {
			r.fail("« %s » invalide : %s", fieldNames[f], quote(it))
			return nil
		}
	}
	if len(items) > n {
		r.fail("« %s » : %d valeurs au plus", fieldNames[f], n)
		return nil
	}
	return items
}
