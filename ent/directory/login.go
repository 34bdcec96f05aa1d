package directory

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// LoginBase makes the base of an identifier from a name: "Chloé
// Lefèvre-Duval" → "chloe.lefevre-duval". Only a–z, 0–9, '-' and one '.' are
// kept, so identifiers are easy to type on any keyboard.
func LoginBase(first, last string) string {
	f, l := asciiFold(first), asciiFold(last)
	switch {
	case f == "" && l == "":
		return "utilisateur"
	case f == "":
		return l
	case l == "":
		return f
	}
	if len(f) > 30 {
		f = f[:30]
	}
	if len(l) > 30 {
		l = l[:30]
	}
	return f + "." + l
}

func asciiFold(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// drop combining accents
		case r == 'œ':
			b.WriteString("oe")
			dash = false
		case r == 'æ':
			b.WriteString("ae")
			dash = false
		case r == 'ß':
			b.WriteString("ss")
			dash = false
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == ' ', r == '-', r == '\'', r == '’', r == '_':
			if b.Len() > 0 && !dash {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimRight(b.String(), "-")
}
