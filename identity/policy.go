package identity

import "slices"

// Resource is a kind of object access is checked on.
type Resource string

// Action is what is done to a resource.
type Action string

// Scope says how far a permission reaches.
type Scope int

// Scopes, from none to all. Each includes the meaning below it only where
// stated.
const (
	None   Scope = iota // never
	Self                // objects about the person themselves
	Family              // the person themselves and their children; their children's classes
	Taught              // the person themselves and the classes they are in or teach this year
	School              // objects of a structure where the person holds that profile
	All                 // everything (département-wide)
)

var scopeNames = [...]string{"none", "self", "family", "taught", "school", "all"}

func (s Scope) String() string { return scopeNames[s] }

// Actions.
const (
	Read   Action = "read"
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Actions lists every action.
var Actions = []Action{Read, Create, Update, Delete}

// Resources of the foundation; modules add theirs to Policy.
const (
	Structure    Resource = "structure"    // schools
	Class        Resource = "class"        // classes and groups
	Person       Resource = "person"       // directory entries
	Guardianship Resource = "guardianship" // parent ↔ child links
	Import       Resource = "import"       // CSV imports
	Activation   Resource = "activation"   // activation codes (reset access)
	Account      Resource = "account"      // one's own password and sessions
	Live         Resource = "live"         // live lessons of a class: start (create), join (read), moderate and end (update)
)

// Rule is one row of the policy table: for a resource and action, the scope
// each profile has. A profile absent from the map has None.
type Rule struct {
	Resource Resource
	Action   Action
	Scopes   map[Profile]Scope
}

// Policy is the one role × resource × action table. Keep it readable: one
// line per (resource, action). identity_test walks it whole.
var Policy = []Rule{
	{Structure, Read, map[Profile]Scope{Pupil: School, Parent: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{Structure, Create, map[Profile]Scope{Admin: All}},
	{Structure, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Structure, Delete, map[Profile]Scope{Admin: All}},

	{Class, Read, map[Profile]Scope{Pupil: Taught, Parent: Family, Teacher: School, Staff: School, Head: School, Admin: All}},
	{Class, Create, map[Profile]Scope{Head: School, Admin: All}},
	{Class, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Class, Delete, map[Profile]Scope{Head: School, Admin: All}},

	{Person, Read, map[Profile]Scope{Pupil: Self, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Person, Create, map[Profile]Scope{Head: School, Admin: All}},
	{Person, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Person, Delete, map[Profile]Scope{Admin: All}},

	{Guardianship, Read, map[Profile]Scope{Parent: Family, Staff: School, Head: School, Admin: All}},
	{Guardianship, Create, map[Profile]Scope{Head: School, Admin: All}},
	{Guardianship, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Guardianship, Delete, map[Profile]Scope{Head: School, Admin: All}},

	{Import, Create, map[Profile]Scope{Head: School, Admin: All}},

	{Activation, Read, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{Activation, Create, map[Profile]Scope{Staff: School, Head: School, Admin: All}},

	{Account, Read, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self, Admin: Self}},
	{Account, Update, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self, Admin: Self}},

	// A live lesson is about one class: its teachers start and moderate it,
	// its pupils and the school's staff join it (pupils publish nothing until
	// given the floor), parents never see it. Rooms end; nobody deletes them.
	{Live, Create, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},
	{Live, Read, map[Profile]Scope{Pupil: Taught, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Live, Update, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},
}

type ruleKey struct {
	r Resource
	a Action
}

var policyIndex = func() map[ruleKey]map[Profile]Scope {
	m := make(map[ruleKey]map[Profile]Scope, len(Policy))
	for _, r := range Policy {
		if _, dup := m[ruleKey{r.Resource, r.Action}]; dup {
			panic("identity: duplicate policy rule " + string(r.Resource) + "/" + string(r.Action))
		}
		m[ruleKey{r.Resource, r.Action}] = r.Scopes
	}
	return m
}()

// Allowed returns the scope profile p has for action a on resource r.
func Allowed(p Profile, r Resource, a Action) Scope {
	return policyIndex[ruleKey{r, a}][p]
}

// Target describes the object an access is about, as far as the policy
// needs: the structure it belongs to, the person it is about, and the
// classes it belongs to.
type Target struct {
	Structure int64
	Person    int64
	Classes   []int64
}

// Can reports whether the principal may do a on r for the target. It tries
// each of the principal's roles with that role's scope.
func (p *Principal) Can(r Resource, a Action, t Target) bool {
	if p == nil {
		return false
	}
	for _, role := range p.Roles {
		if p.reaches(role, Allowed(role.Profile, r, a), t) {
			return true
		}
	}
	return false
}

// CanAny reports whether the principal has at least some scope for a on r:
// enough to show a menu entry, never enough to reach an object.
func (p *Principal) CanAny(r Resource, a Action) bool {
	if p == nil {
		return false
	}
	for _, role := range p.Roles {
		if Allowed(role.Profile, r, a) != None {
			return true
		}
	}
	return false
}

func (p *Principal) reaches(role Role, s Scope, t Target) bool {
	self := t.Person != 0 && t.Person == p.UserID
	switch s {
	case Self:
		return self
	case Family:
		// About a person: themselves or one of their children, never a
		// classmate. About a class: one of their children's classes.
		if t.Person != 0 {
			return self || p.IsParentOf(t.Person)
		}
		return overlaps(t.Classes, p.ChildClasses)
	case Taught:
		return self || overlaps(t.Classes, p.Classes)
	case School:
		return role.StructureID == 0 || (t.Structure != 0 && t.Structure == role.StructureID)
	case All:
		return true
	}
	return false
}

func overlaps(a, b []int64) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
