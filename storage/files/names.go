package files

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxNameBytes bounds a file or folder name, in bytes of UTF-8 (the limit of
// most file systems, for when a folder is downloaded elsewhere).
const MaxNameBytes = 255

// NameError is a refused name; Msg is the French reason shown to the user.
type NameError struct{ Msg string }

func (e *NameError) Error() string { return "files: bad name: " + e.Msg }

// ErrBadName matches every *NameError with errors.Is.
var ErrBadName = errors.New("files: bad name")

// Is makes errors.Is(err, ErrBadName) true for a *NameError.
func (e *NameError) Is(target error) bool { return target == ErrBadName }

// CleanName returns the name as stored: NFC-normalised (a name typed on a Mac
// and on Windows compare equal) with surrounding spaces trimmed. It refuses,
// with a French reason, an empty name, "." and "..", '/', '\\', NUL and other
// control characters, invalid UTF-8 and names over MaxNameBytes bytes. The
// name is only ever metadata: contents are stored under server-made keys.
func CleanName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", &NameError{"Le nom contient des caractères illisibles."}
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	switch {
	case s == "":
		return "", &NameError{"Le nom est vide."}
	case s == "." || s == "..":
		return "", &NameError{"Le nom « " + s + " » n'est pas permis."}
	case len(s) > MaxNameBytes:
		return "", &NameError{"Le nom est trop long (255 octets au plus)."}
	}
	for _, r := range s {
		switch {
		case r == '/' || r == '\\':
			return "", &NameError{"Le nom ne peut pas contenir « / » ni « \\ »."}
		case r == 0 || unicode.IsControl(r):
			return "", &NameError{"Le nom contient un caractère de contrôle."}
		case r == utf8.RuneError, unicode.Is(unicode.Cf, r) && (r == '\u202e' || r == '\u202d' || r == '\u2066' || r == '\u2067' || r == '\u2068' || r == '\u2069'):
			// Right-to-left overrides make "fdp.exe" read as "exe.pdf".
			return "", &NameError{"Le nom contient un caractère invisible qui en change le sens."}
		}
	}
	return s, nil
}
