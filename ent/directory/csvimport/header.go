package csvimport

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Kind says what a file holds.
type Kind string

// The kinds of file Import reads.
const (
	Pupils   Kind = "eleves"
	Parents  Kind = "parents"
	Teachers Kind = "enseignants"
)

// ParseKind reads a kind as a person types it: "eleves", "élèves",
// "responsables", "profs"… ("" stays "", meaning: detect from the headers).
func ParseKind(s string) (Kind, error) {
	switch fold(s) {
	case "":
		return "", nil
	case "eleves", "eleve", "pupils":
		return Pupils, nil
	case "parents", "parent", "responsables", "responsable":
		return Parents, nil
	case "enseignants", "enseignant", "profs", "professeurs", "teachers":
		return Teachers, nil
	}
	return "", fmt.Errorf("type de fichier %q inconnu (eleves, parents ou enseignants)", s)
}

// Label is the kind's French name.
func (k Kind) Label() string {
	switch k {
	case Pupils:
		return "élèves"
	case Parents:
		return "responsables"
	case Teachers:
		return "enseignants"
	}
	return string(k)
}

// field is a column Import understands.
type field int

const (
	fLast field = iota
	fFirst
	fBirth
	fClass
	fINE
	fExtID
	fCivility
	fEmail
	fRelation
	fChildINE
	fChildID
	fChildLast
	fChildFirst
	fSubjects
	nFields
)

// fieldNames are the names used in messages, as the usual header reads.
var fieldNames = [nFields]string{
	fLast: "Nom", fFirst: "Prénom", fBirth: "Date de naissance", fClass: "Classe", fINE: "INE",
	fExtID: "Identifiant", fCivility: "Civilité", fEmail: "Courriel", fRelation: "Lien",
	fChildINE: "INE élève", fChildID: "Identifiant élève", fChildLast: "Nom élève",
	fChildFirst: "Prénom élève", fSubjects: "Discipline",
}

// Header synonyms, written folded (see fold). Unknown columns are ignored:
// exports from the school software carry many more.
var (
	emailCols = []string{"courriel", "email", "e mail", "mail", "mel", "adresse mail", "adresse e mail",
		"adresse electronique", "adresse courriel", "courriel personnel"}
	civilityCols = []string{"civilite", "titre"}
	extIDCols    = []string{"identifiant", "id", "n interne", "no interne", "numero interne", "identifiant interne",
		"id interne", "numero"}

	synonyms = map[Kind]map[field][]string{
		Pupils: {
			fLast:  {"nom", "nom de famille", "nom d usage", "nom eleve", "nom de l eleve", "nom patronymique"},
			fFirst: {"prenom", "prenom 1", "premier prenom", "prenom eleve", "prenom de l eleve"},
			fBirth: {"date de naissance", "date naissance", "date de naiss", "date naiss", "ne e le", "ne le", "nee le", "naissance"},
			fClass: {"classe", "division", "classe actuelle", "classe eleve"},
			fINE:   {"ine", "numero ine", "no ine", "n ine", "ine eleve", "identifiant national"},
			fExtID: append([]string{"ele id", "eleve id", "id eleve", "identifiant eleve", "numero eleve", "n eleve",
				"identifiant siecle"}, extIDCols...),
			fEmail: emailCols,
		},
		Parents: {
			fLast:     {"nom", "nom de famille", "nom d usage", "nom responsable", "nom du responsable"},
			fFirst:    {"prenom", "prenom responsable", "prenom du responsable"},
			fCivility: civilityCols,
			fEmail:    emailCols,
			fRelation: {"lien", "lien de parente", "lien avec l eleve", "lien avec l enfant", "parente", "qualite"},
			fExtID: append([]string{"identifiant responsable", "id responsable", "pers id", "personne id",
				"resp id"}, extIDCols...),
			fChildINE: {"ine", "ine eleve", "ine de l eleve", "ine enfant", "ine de l enfant"},
			fChildID: {"identifiant eleve", "id eleve", "ele id", "eleve id", "n interne eleve", "numero interne eleve",
				"identifiant de l eleve", "identifiant enfant"},
			fChildLast:  {"nom eleve", "nom de l eleve", "nom enfant", "nom de l enfant"},
			fChildFirst: {"prenom eleve", "prenom de l eleve", "prenom enfant", "prenom de l enfant"},
			fClass:      {"classe", "classe eleve", "classe de l eleve", "division", "classe enfant"},
		},
		Teachers: {
			fLast:     {"nom", "nom de famille", "nom d usage"},
			fFirst:    {"prenom"},
			fCivility: civilityCols,
			fEmail:    emailCols,
			fExtID:    append([]string{"identifiant sts", "id sts", "identifiant enseignant"}, extIDCols...),
			fSubjects: {"discipline", "disciplines", "discipline s", "matiere", "matieres", "matiere s",
				"enseignement", "enseignements"},
			fClass: {"classes", "classe", "classe s", "divisions", "division"},
		},
	}
)

// columns maps a field to its column index, -1 when absent.
type columns [nFields]int

func (c *columns) has(f field) bool { return c[f] >= 0 }

// mapHeader reads the header row for kind. Problems are French messages.
func mapHeader(kind Kind, header []string) (columns, []string) {
	var c columns
	for i := range c {
		c[i] = -1
	}
	var msgs []string
	syn := synonyms[kind]
	for i, h := range header {
		fh := fold(h)
		if fh == "" {
			continue
		}
		for f, names := range syn {
			if !slices.Contains(names, fh) {
				continue
			}
			if c[f] >= 0 {
				msgs = append(msgs, fmt.Sprintf("colonne « %s » en double (colonnes %d et %d)", fieldNames[f], c[f]+1, i+1))
			}
			c[f] = i
		}
	}
	need := func(f field) {
		if !c.has(f) {
			msgs = append(msgs, fmt.Sprintf("colonne « %s » absente", fieldNames[f]))
		}
	}
	need(fLast)
	need(fFirst)
	switch kind {
	case Pupils:
		need(fClass)
		if !c.has(fINE) && !c.has(fExtID) {
			msgs = append(msgs, "il faut une colonne « INE » ou « Identifiant »")
		}
	case Parents:
		if !c.has(fChildINE) && !c.has(fChildID) && (!c.has(fChildLast) || !c.has(fChildFirst)) {
			msgs = append(msgs, "il faut désigner l'élève : colonne « INE élève », « Identifiant élève » ou « Nom élève » et « Prénom élève »")
		}
	case Teachers:
		if !c.has(fExtID) && !c.has(fEmail) {
			msgs = append(msgs, "il faut une colonne « Identifiant » ou « Courriel »")
		}
	}
	if len(msgs) > 0 {
		var found []string
		for _, h := range header {
			if h = strings.TrimSpace(h); h != "" {
				found = append(found, "« "+h+" »")
			}
		}
		if len(found) > 12 {
			found = append(found[:12], "…")
		}
		msgs = append(msgs, fmt.Sprintf("fichier %s ; colonnes trouvées : %s", kind.Label(), strings.Join(found, ", ")))
	}
	return c, msgs
}

// detectKind guesses the kind of file from its header: a discipline column
// means teachers, a birth date means pupils, a reference to a pupil, a
// kinship or a civility means parents, and an INE or a class alone means
// pupils. "" when nothing fits.
func detectKind(header []string) Kind {
	has := func(k Kind, fs ...field) bool {
		for _, h := range header {
			h = fold(h)
			for _, f := range fs {
				if slices.Contains(synonyms[k][f], h) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(Teachers, fSubjects):
		return Teachers
	case has(Pupils, fBirth):
		return Pupils
	case has(Parents, fChildID, fChildLast, fChildFirst, fRelation, fCivility),
		has(Parents, fEmail) && slices.ContainsFunc(header, func(h string) bool {
			h = fold(h)
			return h != "ine" && slices.Contains(synonyms[Parents][fChildINE], h)
		}):
		return Parents
	case has(Pupils, fINE, fClass):
		return Pupils
	}
	return ""
}

// fold makes text comparable: no accents, lower case, every run of
// characters other than letters and digits turned into one space.
// "N° interne" → "n interne", "Prénom élève" → "prenom eleve".
func fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
			space = false
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
			space = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			if b.Len() > 0 && !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}
