package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"preau/ent/directory"
	"preau/identity"
)

// The demo collège's classes and how many pupils each has.
var collegeClasses = []struct {
	name string
	size int
}{{"6e A", 26}, {"6e B", 25}, {"3e A", 25}, {"3e B", 27}}

// lyceeClass is the lycée class a 3e pupil can be moved to.
const lyceeClass = "2nde 1"

// subjects taught at the collège: code, name.
var subjects = []struct{ code, name string }{
	{"FRANCAIS", "Français"},
	{"MATHS", "Mathématiques"},
	{"HISTGEO", "Histoire-Géographie"},
	{"ANGLAIS", "Anglais"},
	{"ESPAGNOL", "Espagnol"},
	{"SVT", "SVT"},
	{"PHYCHI", "Physique-Chimie"},
	{"TECHNO", "Technologie"},
	{"EPS", "EPS"},
	{"ARTPLA", "Arts plastiques"},
	{"EDMUS", "Éducation musicale"},
}

// assignment is one teacher's subject (code) and classes.
type assignment struct {
	subject string
	classes []string
}

// allClasses are the collège's classes, for subjects taught at every level.
var allClasses = []string{"6e A", "6e B", "3e A", "3e B"}

// staffing says who teaches what, one teacher per row. The first row is
// prof.demo.
var staffing = []assignment{
	{"MATHS", []string{"6e A", "3e A"}},
	{"MATHS", []string{"6e B", "3e B"}},
	{"FRANCAIS", []string{"6e A", "3e B"}},
	{"FRANCAIS", []string{"6e B", "3e A"}},
	{"HISTGEO", allClasses},
	{"ANGLAIS", allClasses},
	{"ESPAGNOL", []string{"3e A", "3e B"}}, // the second language starts in 5e
	{"SVT", allClasses},
	{"PHYCHI", allClasses},
	{"TECHNO", allClasses},
	{"EPS", allClasses},
	{"ARTPLA", allClasses},
	{"EDMUS", allClasses},
}

// adult is a grown-up account: staff, teacher or guardian.
type adult struct {
	login                 string // empty: generated from the name
	civility, first, last string
	email                 string
	profile               identity.Profile
	function              string
	departmentWide        bool     // an ENT administrator's role covers every structure
	relation              string   // a guardian's link to the children: "Mère", "Père"
	subject               string   // a teacher's subject code…
	classes               []string // …and the classes they teach it to
}

// pupil is a collège pupil.
type pupil struct {
	login, first, last, birth, ine, class string
}

// family is one or more pupils and their guardians.
type family struct {
	children  []pupil
	guardians []adult
}

// plan is the whole demo school, before it is written.
type plan struct {
	staff    []adult // direction, vie scolaire, CDI, ENT administration, teachers
	families []family
}

// The fixed demo accounts, in the order they are listed.
var (
	fixedTeacher = adult{login: "prof.demo", civility: "Mme", first: "Nathalie", last: "Girard",
		profile: identity.Teacher, subject: "MATHS"}
	fixedPupil  = pupil{login: "eleve.demo", first: "Léa", last: "Martin", class: "3e A"}
	fixedParent = adult{login: "parent.demo", civility: "Mme", first: "Émilie", last: "Martin",
		relation: "Mère", profile: identity.Parent}
	fixedCPE = adult{login: "cpe.demo", civility: "M.", first: "Karim", last: "Benali",
		profile: identity.Staff, function: "CPE"}
	fixedHead = adult{login: "direction.demo", civility: "M.", first: "Philippe", last: "Garnier",
		profile: identity.Head, function: "Principal"}
	fixedAdmin = adult{login: "admin.demo", civility: "Mme", first: "Sandrine", last: "Morel",
		profile: identity.Admin, departmentWide: true}

	// Léa's younger brother, so that parent.demo has two children.
	fixedSibling = pupil{first: "Hugo", last: "Martin", class: "6e A"}
	fixedFather  = adult{civility: "M.", first: "Julien", last: "Martin", relation: "Père", profile: identity.Parent}
	fixedLibrary = adult{civility: "Mme", first: "Anne", last: "Rousseau",
		profile: identity.Staff, function: "Professeur documentaliste"}
)

// accounts lists the fixed demo accounts for the server to print.
func accounts() []Account {
	name := func(first, last string) string { return first + " " + last }
	return []Account{
		{fixedPupil.login, name(fixedPupil.first, fixedPupil.last), identity.Pupil.Label(), fixedPupil.class},
		{fixedParent.login, name(fixedParent.first, fixedParent.last), identity.Parent.Label(),
			fmt.Sprintf("Mère de %s (%s) et de %s (%s)", fixedPupil.first, fixedPupil.class, fixedSibling.first, fixedSibling.class)},
		{fixedTeacher.login, name(fixedTeacher.first, fixedTeacher.last), identity.Teacher.Label(),
			"Mathématiques, " + strings.Join(staffing[0].classes, " et ")},
		{fixedCPE.login, name(fixedCPE.first, fixedCPE.last), identity.Staff.Label(), fixedCPE.function},
		{fixedHead.login, name(fixedHead.first, fixedHead.last), identity.Head.Label(), fixedHead.function},
		{fixedAdmin.login, name(fixedAdmin.first, fixedAdmin.last), identity.Admin.Label(), "Tous les établissements"},
	}
}

// planner draws the generated people from a fixed seed, so that every demo
// has the same names.
type planner struct {
	r     *rand.Rand
	start int // first calendar year of the school year
	ines  map[string]bool
}

// newPlan draws the demo school for the school year starting in September
// of start.
func newPlan(start int) plan {
	g := &planner{r: rand.New(rand.NewPCG(2026, 45)), start: start, ines: map[string]bool{}}
	var p plan

	for _, a := range []adult{fixedHead, fixedCPE, fixedLibrary, fixedAdmin} {
		a.email = g.staffEmail(a.first, a.last)
		p.staff = append(p.staff, a)
	}
	for i, s := range staffing {
		t := fixedTeacher
		if i > 0 {
			t = g.adult(pickOrigin(g.r), g.r.IntN(3) < 2) // two teachers in three are women
			t.profile = identity.Teacher
		}
		t.subject, t.classes, t.email = s.subject, s.classes, g.staffEmail(t.first, t.last)
		p.staff = append(p.staff, t)
	}

	left := map[string]int{}
	for _, c := range collegeClasses {
		left[c.name] = c.size
	}
	take := func(class string) string { left[class]--; return class }

	// The Martins: eleve.demo, her brother, parent.demo and the father.
	martins := family{guardians: []adult{fixedParent, fixedFather}}
	for _, c := range []pupil{fixedPupil, fixedSibling} {
		c.birth, c.ine = g.birth(take(c.class)), g.ine()
		martins.children = append(martins.children, c)
	}
	for i := range martins.guardians {
		martins.guardians[i].email = g.parentEmail(martins.guardians[i].first, martins.guardians[i].last)
	}
	p.families = append(p.families, martins)

	// Brothers and sisters: one in 6e, one in 3e.
	for range 9 {
		p.families = append(p.families, g.family(take(g.classOf(left, '6')), take(g.classOf(left, '3'))))
	}
	for _, c := range collegeClasses {
		for left[c.name] > 0 {
			p.families = append(p.families, g.family(take(c.name)))
		}
	}
	return p
}

// family draws a family with a child in each class: most have a mother and
// a father, some only one of them.
func (g *planner) family(classes ...string) family {
	o := pickOrigin(g.r)
	last := pick(g.r, o.last)
	var f family
	n := g.r.IntN(100)
	if n < 93 {
		m := g.adult(o, true)
		m.last, m.relation = last, "Mère"
		if n < 80 && g.r.IntN(5) == 0 {
			m.last = pick(g.r, o.last) // kept her own name
		}
		f.guardians = append(f.guardians, m)
	}
	if n < 80 || n >= 93 {
		d := g.adult(o, false)
		d.last, d.relation = last, "Père"
		f.guardians = append(f.guardians, d)
	}
	for i := range f.guardians {
		f.guardians[i].profile = identity.Parent
		f.guardians[i].email = g.parentEmail(f.guardians[i].first, f.guardians[i].last)
	}
	for _, class := range classes {
		c := pupil{last: last, class: class, birth: g.birth(class), ine: g.ine()}
		for c.first == "" || len(f.children) > 0 && f.children[0].first == c.first {
			c.first = o.childName(g.r, g.r.IntN(2) == 0)
		}
		f.children = append(f.children, c)
	}
	return f
}

// adult draws a grown-up of origin o.
func (g *planner) adult(o *origin, woman bool) adult {
	a := adult{civility: "M.", first: o.adultName(g.r, woman), last: pick(g.r, o.last)}
	if woman {
		a.civility = "Mme"
	}
	return a
}

// classOf picks a class of the level (its first character) with room left.
func (g *planner) classOf(left map[string]int, level byte) string {
	var room []string
	for _, c := range collegeClasses {
		if c.name[0] == level && left[c.name] > 0 {
			room = append(room, c.name)
		}
	}
	return pick(g.r, room)
}

// birth draws a birth date for a pupil of the class: the calendar year
// expected for the level (6e: 11 years old in September), one in twenty a
// year older.
func (g *planner) birth(class string) string {
	y := g.start - (17 - int(class[0]-'0'))
	if g.r.IntN(20) == 0 {
		y--
	}
	return time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(365)).Format(time.DateOnly)
}

// ine draws a fresh INE-like identifier: nine digits and two letters.
func (g *planner) ine() string {
	for {
		s := fmt.Sprintf("%09d%c%c", g.r.IntN(1_000_000_000), 'A'+g.r.IntN(26), 'A'+g.r.IntN(26))
		if !g.ines[s] {
			g.ines[s] = true
			return s
		}
	}
}

// parentEmail draws a personal address, always at a reserved-for-examples
// style domain, never a real provider.
func (g *planner) parentEmail(first, last string) string {
	local := directory.LoginBase(first, last)
	switch n := g.r.IntN(10); {
	case n < 2:
		f, l, _ := strings.Cut(local, ".")
		local = f[:1] + l
	case n < 4:
		local += strconv.Itoa(10 + g.r.IntN(90))
	}
	return local + "@" + pick(g.r, []string{"exemple.fr", "exemple.fr", "exemple.com"})
}

// staffEmail is a staff member's work address.
func (g *planner) staffEmail(first, last string) string {
	return directory.LoginBase(first, last) + "@education.exemple.fr"
}
