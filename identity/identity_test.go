package identity_test

import (
	"slices"
	"testing"

	. "preau/identity"
)

func TestProfiles(t *testing.T) {
	// Values are stored in the database and appear in the API.
	want := map[Profile]string{Pupil: "eleve", Parent: "parent", Teacher: "enseignant", Staff: "personnel", Head: "direction", Admin: "admin"}
	labels := map[Profile]string{Pupil: "Élève", Parent: "Parent", Teacher: "Enseignant", Staff: "Personnel", Head: "Direction", Admin: "Administrateur ENT"}
	if len(Profiles) != len(want) {
		t.Fatalf("%d profiles, want %d", len(Profiles), len(want))
	}
	for _, p := range Profiles {
		if string(p) != want[p] {
			t.Errorf("profile %q changed its stored value", p)
		}
		if !p.Valid() {
			t.Errorf("%s not valid", p)
		}
		if p.Label() != labels[p] {
			t.Errorf("%s.Label() = %q, want %q", p, p.Label(), labels[p])
		}
		if p.Adult() != (p != Pupil) {
			t.Errorf("%s.Adult() = %v", p, p.Adult())
		}
	}
	for _, bad := range []Profile{"", "Eleve", "élève", "root"} {
		if bad.Valid() {
			t.Errorf("%q valid", bad)
		}
	}
	if got := Profile("autre").Label(); got != "autre" {
		t.Errorf("unknown profile label = %q", got)
	}
}

func TestPrincipalHelpers(t *testing.T) {
	p := &Principal{UserID: 7, Roles: []Role{role(1, Teacher, ""), role(2, Parent, ""), role(1, Staff, "CPE")},
		Children: []int64{40}, Classes: []int64{11, 12}}
	if !p.Has(Teacher) || !p.Has(Parent) || p.Has(Pupil) || p.Has(Admin) {
		t.Error("Has")
	}
	if !p.InStructure(Teacher, 1) || p.InStructure(Teacher, 2) || !p.InStructure(Parent, 2) {
		t.Error("InStructure")
	}
	if !p.IsParentOf(40) || p.IsParentOf(41) || p.IsParentOf(7) {
		t.Error("IsParentOf")
	}
	if !p.InClass(12) || p.InClass(13) {
		t.Error("InClass")
	}
	if got := p.Structures(); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("Structures() = %v, want [1 2]", got)
	}
	if got := p.Primary(); got != Staff {
		t.Errorf("Primary() = %s, want the most privileged, personnel", got)
	}

	// A département-wide role (structure 0) is in every structure.
	admin := &Principal{UserID: 1, Roles: []Role{role(0, Admin, "")}}
	if !admin.InStructure(Admin, 1) || !admin.InStructure(Admin, 99) || admin.InStructure(Head, 1) {
		t.Error("département-wide InStructure")
	}
	if got := admin.Structures(); !slices.Equal(got, []int64{0}) {
		t.Errorf("admin Structures() = %v, want [0]", got)
	}
	if got := (&Principal{}).Primary(); got != "" {
		t.Errorf("no roles: Primary() = %q", got)
	}
}

func TestPrimaryOrder(t *testing.T) {
	order := []Profile{Admin, Head, Staff, Teacher, Parent, Pupil}
	for i, want := range order {
		p := &Principal{}
		for _, prof := range order[i:] {
			p.Roles = append(p.Roles, role(1, prof, ""))
		}
		slices.Reverse(p.Roles)
		if got := p.Primary(); got != want {
			t.Errorf("roles %v: Primary() = %s, want %s", p.Roles, got, want)
		}
	}
}
