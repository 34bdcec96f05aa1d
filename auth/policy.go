package auth

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password lengths, in characters (CNIL 2022-100, case "access restricted by
// throttling"): adults 12, pupils may use a shorter passphrase.
const (
	MinAdult = 12
	MinPupil = 8
	MaxLen   = 128
)

// PolicyError is a password refused by the policy; its message is French and
// shown to the user as is.
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return e.Msg }

//go:embed common-passwords.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// CheckPassword applies the password policy. adult selects the minimum
// length; names are the user's own names and identifier, which the password
// may not contain. There are no composition rules: length and a block-list
// work better (NIST SP 800-63B). The password is compared as typed.
func CheckPassword(pw string, adult bool, names ...string) error {
	if !utf8.ValidString(pw) {
		return &PolicyError{"Le mot de passe contient des caractères invalides."}
	}
	n := utf8.RuneCountInString(pw)
	min := MinPupil
	if adult {
		min = MinAdult
	}
	if n < min {
		return &PolicyError{"Le mot de passe doit contenir au moins " + itoa(min) + " caractères. Une phrase de plusieurs mots est facile à retenir."}
	}
	if n > MaxLen {
		return &PolicyError{"Le mot de passe ne doit pas dépasser " + itoa(MaxLen) + " caractères."}
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return &PolicyError{"Le mot de passe contient des caractères invalides."}
		}
	}
	folded := fold(pw)
	// "azertyuiop2026!" is "azertyuiop" with a suffix: check the stem too.
	stem := strings.TrimRightFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) })
	if common[strings.ToLower(pw)] || common[folded] || common[stem] || repetitive(folded) {
		return &PolicyError{"Ce mot de passe est trop courant. Choisissez-en un autre, par exemple une phrase."}
	}
	for _, name := range names {
		for _, part := range strings.FieldsFunc(fold(name), func(r rune) bool { return r == '.' || r == '-' || r == ' ' }) {
			if len(part) >= 3 && strings.Contains(folded, part) {
				return &PolicyError{"Le mot de passe ne doit pas contenir votre nom ou votre identifiant."}
			}
		}
	}
	return nil
}

// fold lower-cases and strips accents, for comparisons only.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// repetitive catches "aaaaaaaaaaaa" and "123412341234": at most 3 distinct
// characters.
func repetitive(s string) bool {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
		if len(seen) > 3 {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
