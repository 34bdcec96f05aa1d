package directory

import (
	"errors"
	"strings"

	"preau/identity"
)

// Errors.
var (
	ErrNotFound = errors.New("directory: not found")
	ErrConflict = errors.New("directory: already exists")
	ErrInvalid  = errors.New("directory: invalid")
)

// Structure kinds.
const (
	College = "college"
	Lycee   = "lycee"
)

// Structure is a school.
type Structure struct {
	ID      int64  `json:"id"`
	UAI     string `json:"uai"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Commune string `json:"commune"`
}

// KindLabel is the French name of the structure's kind.
func (s Structure) KindLabel() string {
	if s.Kind == Lycee {
		return "Lycée"
	}
	return "Collège"
}

// DisplayName is the name as people say it: "Collège Jean Zay". The kind is
// added unless the name already starts with it.
func (s Structure) DisplayName() string {
	if strings.HasPrefix(asciiFold(s.Name), asciiFold(s.KindLabel())) {
		return s.Name
	}
	return s.KindLabel() + " " + s.Name
}

// SchoolYear is a school year such as 2026-2027.
type SchoolYear struct {
	ID       int64  `json:"id"`
	Label    string `json:"label"`
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
	Current  bool   `json:"current"`
}

// Subject is a discipline taught.
type Subject struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Class kinds.
const (
	KindClass = "class"
	KindGroup = "group"
)

// Class is a class or a teaching group of a structure in a year.
type Class struct {
	ID          int64  `json:"id"`
	StructureID int64  `json:"structure_id"`
	YearID      int64  `json:"year_id"`
	Name        string `json:"name"`
	Level       string `json:"level"`
	Kind        string `json:"kind"`
}

// Person is a directory entry with its account fields (never the password).
type Person struct {
	ID         int64  `json:"id"`
	Login      string `json:"login"`
	Civility   string `json:"civility,omitempty"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	BirthDate  string `json:"birth_date,omitempty"`
	Email      string `json:"email,omitempty"`
	INE        string `json:"ine,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Disabled   bool   `json:"disabled"`
	Activated  bool   `json:"activated"`
	CreatedAt  int64  `json:"created_at"`
}

// FullName is "Prénom Nom".
func (p Person) FullName() string { return p.FirstName + " " + p.LastName }

// Member is a person with their role in a structure, for listings.
type Member struct {
	Person
	Profile  identity.Profile `json:"profile"`
	Function string           `json:"function,omitempty"`
}

// Teaching is a teacher ↔ class ↔ subject assignment.
type Teaching struct {
	TeacherID int64  `json:"teacher_id"`
	ClassID   int64  `json:"class_id"`
	SubjectID int64  `json:"subject_id"`
	Subject   string `json:"subject"`
	ClassName string `json:"class_name"`
}

// Link is a parent ↔ child guardianship.
type Link struct {
	ParentID int64  `json:"parent_id"`
	ChildID  int64  `json:"child_id"`
	Relation string `json:"relation,omitempty"`
}
