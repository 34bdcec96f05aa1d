package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// DefaultPassword is every demo account's password unless Options says
// otherwise.
const DefaultPassword = "preau-demo-2026"

// The demo structures. The UAI codes carry a valid check letter (the 7-digit
// number modulo 23 in A–Z without I, O, Q).
var (
	College = directory.Structure{UAI: "0459871K", Name: "Collège Jean Zay", Kind: directory.College, Commune: "Orléans"}
	Lycee   = directory.Structure{UAI: "0459962J", Name: "Lycée Pothier", Kind: directory.Lycee, Commune: "Orléans"}
)

// Options tune Seed; the zero value works.
type Options struct {
	Password string    // every demo account's password when the demo is created; default DefaultPassword
	Now      time.Time // chooses the school year; default time.Now()
}

// Account is a fixed demo login to show to the person trying Préau.
type Account struct {
	Login   string // e.g. "eleve.demo"
	Name    string // e.g. "Léa Martin"
	Profile string // French label, e.g. "Élève"
	Note    string // class or function, e.g. "3e A"
}

// Result says what Seed did.
type Result struct {
	Created   bool                // false when the demo was already there
	Structure directory.Structure // the demo collège
	Accounts  []Account           // the fixed demo logins, the same on every call
}

// errSeeded rolls back a seeding that found the demo already there.
var errSeeded = errors.New("demo: already seeded")

// Seed creates the demo school unless its collège (College.UAI) exists. The
// whole demo is written in one transaction, so a failed or concurrent start
// leaves either all of it or nothing. Every demo account gets opt.Password,
// hashed once.
func Seed(ctx context.Context, d *db.DB, h *auth.Hasher, opt Options) (Result, error) {
	if opt.Password == "" {
		opt.Password = DefaultPassword
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	res := Result{Accounts: accounts()}
	if st, err := directory.StructureByUAI(ctx, d, College.UAI); err == nil {
		res.Structure = st
		return res, nil
	} else if !errors.Is(err, directory.ErrNotFound) {
		return res, fmt.Errorf("demo: %w", err)
	}

	phc, err := h.Hash(ctx, opt.Password)
	if err != nil {
		return res, fmt.Errorf("demo: hash password: %w", err)
	}
	var st directory.Structure
	err = d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		st, err = write(ctx, tx, newPlan(startYear(opt.Now)), directory.YearLabel(opt.Now), phc, opt.Now)
		return err
	})
	if errors.Is(err, errSeeded) {
		// Another start created it between our check and our transaction.
		st, err = directory.StructureByUAI(ctx, d, College.UAI)
		res.Structure = st
		return res, err
	}
	if err != nil {
		return res, err
	}
	res.Created, res.Structure = true, st
	return res, nil
}

// startYear is the calendar year in which the school year of t began.
func startYear(t time.Time) int {
	y, _ := strconv.Atoi(directory.YearLabel(t)[:4])
	return y
}

// writer writes a plan and remembers the ids it needs.
type writer struct {
	q        db.Querier
	college  int64
	classes  map[string]int64            // collège classes by name
	subjects map[string]int64            // by code
	teachers map[string]map[string]int64 // subject code → class name → teacher
	users    []int64                     // every account created
}

// write stores the plan in the year labelled year and returns the collège.
func write(ctx context.Context, q db.Querier, p plan, year, phc string, now time.Time) (directory.Structure, error) {
	w := &writer{q: q, classes: map[string]int64{}, subjects: map[string]int64{}, teachers: map[string]map[string]int64{}}
	st := College
	var err error
	// The collège first: its unique UAI is what serialises two starts.
	if st.ID, err = directory.CreateStructure(ctx, q, st); errors.Is(err, directory.ErrConflict) {
		return st, errSeeded
	} else if err != nil {
		return st, fmt.Errorf("demo: collège: %w", err)
	}
	w.college = st.ID
	lycee, err := directory.StructureByUAI(ctx, q, Lycee.UAI)
	if errors.Is(err, directory.ErrNotFound) {
		lycee = Lycee
		lycee.ID, err = directory.CreateStructure(ctx, q, lycee)
	}
	if err != nil {
		return st, fmt.Errorf("demo: lycée: %w", err)
	}

	yearID, err := directory.EnsureYear(ctx, q, directory.YearFor(year, true))
	if err != nil {
		return st, err
	}
	for _, c := range collegeClasses {
		if w.classes[c.name], err = directory.EnsureClass(ctx, q, directory.Class{StructureID: st.ID, YearID: yearID, Name: c.name}); err != nil {
			return st, err
		}
	}
	if _, err := directory.EnsureClass(ctx, q, directory.Class{StructureID: lycee.ID, YearID: yearID, Name: lyceeClass}); err != nil {
		return st, err
	}
	for _, s := range subjects {
		if w.subjects[s.code], err = directory.EnsureSubject(ctx, q, s.code, s.name); err != nil {
			return st, err
		}
	}

	for _, a := range p.staff {
		if err := w.staff(ctx, a); err != nil {
			return st, err
		}
	}
	for _, f := range p.families {
		if err := w.family(ctx, f); err != nil {
			return st, err
		}
	}
	if err := w.timetable(ctx, w.teachers, now); err != nil {
		return st, err
	}
	if err := w.homework(ctx, now); err != nil { // homework.go
		return st, err
	}
	if err := w.courses(ctx, now); err != nil { // a course of 3e A (courses.go)
		return st, err
	}
	if err := w.notices(ctx, now); err != nil { // notices.go
		return st, err
	}
	if err := w.library(ctx, now); err != nil { // the CDI (library.go)
		return st, err
	}
	if err := w.grades(ctx, yearID, now); err != nil { // a term of grades (grades.go)
		return st, err
	}
	if err := w.absences(ctx, directory.YearFor(year, true).StartsOn, now); err != nil { // absences.go
		return st, err
	}
	if err := w.internships(ctx, now); err != nil { // offers and applications of 3e (internships.go)
		return st, err
	}
	if err := w.meetings(ctx, now); err != nil { // parent–teacher meetings and a class council (meetings.go)
		return st, err
	}
	return st, w.setPassword(ctx, phc, now)
}

// staff writes a member of staff or a teacher with their teachings.
func (w *writer) staff(ctx context.Context, a adult) error {
	structure := w.college
	if a.departmentWide {
		structure = 0
	}
	id, err := w.person(ctx, directory.Person{Login: a.login, Civility: a.civility, FirstName: a.first,
		LastName: a.last, Email: a.email}, structure, a.profile, a.function)
	if err != nil {
		return err
	}
	for _, c := range a.classes {
		if err := directory.AddTeaching(ctx, w.q, id, w.classes[c], w.subjects[a.subject]); err != nil {
			return fmt.Errorf("demo: teaching %s %s: %w", a.subject, c, err)
		}
		if w.teachers[a.subject] == nil {
			w.teachers[a.subject] = map[string]int64{}
		}
		w.teachers[a.subject][c] = id
	}
	return nil
}

// family writes the children, enrolled in their classes, then their
// guardians.
func (w *writer) family(ctx context.Context, f family) error {
	children := make([]int64, 0, len(f.children))
	for _, c := range f.children {
		id, err := w.person(ctx, directory.Person{Login: c.login, FirstName: c.first, LastName: c.last,
			BirthDate: c.birth, INE: c.ine}, w.college, identity.Pupil, "")
		if err != nil {
			return err
		}
		if err := directory.Enrol(ctx, w.q, id, w.classes[c.class]); err != nil {
			return fmt.Errorf("demo: enrol in %s: %w", c.class, err)
		}
		children = append(children, id)
	}
	for _, g := range f.guardians {
		id, err := w.person(ctx, directory.Person{Login: g.login, Civility: g.civility, FirstName: g.first,
			LastName: g.last, Email: g.email}, w.college, identity.Parent, "")
		if err != nil {
			return err
		}
		for _, c := range children {
			if err := directory.LinkGuardian(ctx, w.q, id, c, g.relation); err != nil {
				return fmt.Errorf("demo: guardian: %w", err)
			}
		}
	}
	return nil
}

// person creates an account with one role.
func (w *writer) person(ctx context.Context, p directory.Person, structure int64, prof identity.Profile, function string) (int64, error) {
	p, err := directory.CreatePerson(ctx, w.q, p)
	if err != nil {
		return 0, fmt.Errorf("demo: %s %s: %w", p.FirstName, p.LastName, err)
	}
	if err := directory.AddRole(ctx, w.q, p.ID, structure, prof, function); err != nil {
		return 0, fmt.Errorf("demo: role of %s: %w", p.Login, err)
	}
	w.users = append(w.users, p.ID)
	return p.ID, nil
}

// setPassword stores one hash for every account created: hashing once keeps
// the first start fast (argon2id costs tens of milliseconds a hash).
func (w *writer) setPassword(ctx context.Context, phc string, now time.Time) error {
	const chunk = 200 // well under SQLite's and PostgreSQL's parameter limits
	for ids := w.users; len(ids) > 0; {
		n := min(len(ids), chunk)
		args := []any{phc, now.Unix()}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		q := "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id IN (?" + strings.Repeat(", ?", n-1) + ")"
		if _, err := w.q.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("demo: set passwords: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}
