package identity

import "slices"

// Profile is what a person is in a structure.
type Profile string

// The profiles of the ENT. The values are stored in the database and appear in
// the API; keep them stable.
const (
	Pupil   Profile = "eleve"
	Parent  Profile = "parent"
	Teacher Profile = "enseignant"
	Staff   Profile = "personnel" // vie scolaire (CPE), documentaliste, secretariat…
	Head    Profile = "direction" // principal, deputy
	Admin   Profile = "admin"     // ENT administrator
)

// Profiles lists every profile, in display order.
var Profiles = []Profile{Pupil, Parent, Teacher, Staff, Head, Admin}

// Valid reports whether p is a known profile.
func (p Profile) Valid() bool { return slices.Contains(Profiles, p) }

// Label is the profile's French name for pages.
func (p Profile) Label() string {
	switch p {
	case Pupil:
		return "Élève"
	case Parent:
		return "Parent"
	case Teacher:
		return "Enseignant"
	case Staff:
		return "Personnel"
	case Head:
		return "Direction"
	case Admin:
		return "Administrateur ENT"
	}
	return string(p)
}

// Adult reports whether the profile is held by an adult (password policy).
func (p Profile) Adult() bool { return p != Pupil }

// Role is a profile held in a structure. StructureID 0 means every structure
// (a département-wide ENT administrator).
type Role struct {
	StructureID int64   `json:"structure_id"`
	Profile     Profile `json:"profile"`
	Function    string  `json:"function,omitempty"`
}

// Principal is the signed-in person as access checks see them.
type Principal struct {
	UserID int64
	Login  string
	Roles  []Role
	// Children are the pupils this person is guardian of.
	Children []int64
	// Classes are the classes of the current school year this person is in:
	// enrolled (a pupil) or teaching (a teacher).
	Classes []int64
	// ChildClasses are the current classes of the person's children.
	ChildClasses []int64
}

// Has reports whether the principal holds profile p in any structure.
func (p *Principal) Has(prof Profile) bool {
	for _, r := range p.Roles {
		if r.Profile == prof {
			return true
		}
	}
	return false
}

// InStructure reports whether the principal holds profile prof in structure s
// (or département-wide).
func (p *Principal) InStructure(prof Profile, s int64) bool {
	for _, r := range p.Roles {
		if r.Profile == prof && (r.StructureID == s || r.StructureID == 0) {
			return true
		}
	}
	return false
}

// IsParentOf reports whether child is one of the principal's children.
func (p *Principal) IsParentOf(child int64) bool { return slices.Contains(p.Children, child) }

// InClass reports whether the principal is enrolled in or teaches class c.
func (p *Principal) InClass(c int64) bool { return slices.Contains(p.Classes, c) }

// Structures returns the structures where the principal holds a role; an
// entry 0 means all.
func (p *Principal) Structures() []int64 {
	var out []int64
	for _, r := range p.Roles {
		if !slices.Contains(out, r.StructureID) {
			out = append(out, r.StructureID)
		}
	}
	return out
}

// Primary returns the profile that decides the home page: the most
// privileged one the person holds.
func (p *Principal) Primary() Profile {
	for _, prof := range []Profile{Admin, Head, Staff, Teacher, Parent, Pupil} {
		if p.Has(prof) {
			return prof
		}
	}
	return ""
}
