package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"preau/auth"
	"preau/db"
	"preau/ent/directory"
	"preau/ent/notices"
	"preau/identity"
)

// Scaling the demo to a département (docs/benchmarks.md, "Heavy pages at
// 30,000 pupils"): Scale seeds the demo collège, then adds generated
// collèges of about 20 classes with their pupils, families (some with two
// children, in the same collège or in two), teachers of several classes,
// and a term of grades, timetable, homework, absences and notices. Rows are
// written with ids chosen here and multi-row INSERTs in a few large
// transactions, so that 30,000 pupils take minutes: Scale must run alone on
// its database, with no server writing at the same time.

// ScaleOptions tune Scale; the zero value makes a département.
type ScaleOptions struct {
	Pupils   int       // pupils in all, the demo collège's included; default 30,000
	Colleges int       // collèges in all; default one per ~526 pupils, at most 57, at least 2
	Password string    // every account's password; default DefaultPassword
	Now      time.Time // default time.Now()
	// Progress, when set, is told each step done (for the command's output).
	Progress func(step string, elapsed time.Duration)
}

// ScaleResult counts what Scale wrote and names accounts for benchmarks.
type ScaleResult struct {
	Colleges, Classes, Pupils, Parents, Teachers int
	Evaluations, Grades                          int
	Slots, Homework, Absences, Notices           int
	// Parent is the login of a generated parent with two children in two
	// collèges; Children are those children's ids.
	Parent   string
	Children [2]int64
	// Teacher is the login of a generated teacher of several classes;
	// ClassID and SubjectID are one class and subject they teach.
	Teacher            string
	ClassID, SubjectID int64
	Took               time.Duration
}

// ErrScaled: the database already holds the generated collèges.
var ErrScaled = errors.New("demo: already scaled")

// scaleSubjects are the subjects of a generated collège: code, how many
// classes one teacher takes, from which level it is taught (6 for 6e …),
// graded or not.
var scaleSubjects = []struct {
	code      string
	perTeach  int
	fromLevel int
	graded    bool
}{
	{"FRANCAIS", 4, 6, true}, {"MATHS", 4, 6, true}, {"HISTGEO", 5, 6, true}, {"ANGLAIS", 5, 6, true},
	{"ESPAGNOL", 5, 5, true}, {"SVT", 8, 6, true}, {"PHYCHI", 8, 6, true}, {"TECHNO", 10, 6, true},
	{"EPS", 6, 6, true}, {"ARTPLA", 20, 6, false}, {"EDMUS", 20, 6, false},
}

// scaleTitles are generic evaluation titles for subjects the demo has none for.
var scaleTitles = []string{"Interrogation", "Contrôle", "Devoir maison", "Évaluation de compétences", "Exposé", "Devoir commun"}

var scaleCommunes = []string{"Orléans", "Montargis", "Gien", "Pithiviers", "Fleury-les-Aubrais", "Olivet", "Saran",
	"Saint-Jean-de-Braye", "Meung-sur-Loire", "Beaugency", "Briare", "Sully-sur-Loire", "Châteauneuf-sur-Loire",
	"Malesherbes", "Amilly", "Châlette-sur-Loing", "Ingré", "Jargeau", "Lorris", "Patay"}

var scaleNames = []string{"Victor Hugo", "Jules Ferry", "Jean Moulin", "Marie Curie", "Louis Pasteur", "Jean Jaurès",
	"George Sand", "Albert Camus", "Charles Péguy", "Condorcet", "Simone Veil", "Jean Rostand", "Anatole France",
	"Pierre de Coubertin", "Max Jacob", "Joachim du Bellay", "Léonard de Vinci", "Jacques Prévert", "Paul Éluard"}

// uaiLetters are the check letters of a UAI: A–Z without I, O and Q.
const uaiLetters = "ABCDEFGHJKLMNPRSTUVWXYZ"

func uaiOf(n int) string { return fmt.Sprintf("%07d%c", n, uaiLetters[n%23]) }

// scaleUAI is the UAI of generated collège k (from 1); the first one tells
// whether the département was already generated.
func scaleUAI(k int) string { return uaiOf(451000 + 7*k) }

type sClass struct {
	id      int64
	college int
	name    string
	level   int // 6 for 6e … 3 for 3e
	teacher map[string]int64
	pupils  []int64
}

type sCollege struct {
	id      int64
	uai     string
	classes []*sClass
	head    int64
	cpe     int64
}

type sPupil struct {
	id    int64
	class *sClass
}

type scaler struct {
	d        *db.DB
	r        *rand.Rand
	g        *planner
	now      time.Time
	phc      string
	yearID   int64
	subjects map[string]int64
	colleges []*sCollege
	pupils   []sPupil
	nextID   map[string]int64
	res      ScaleResult
	start    time.Time
	progress func(string, time.Duration)
}

// Scale seeds the demo school (Seed) and scales it to a département of
// opt.Pupils pupils. It fails with ErrScaled when the generated collèges
// are already there.
func Scale(ctx context.Context, d *db.DB, h *auth.Hasher, opt ScaleOptions) (ScaleResult, error) {
	if opt.Password == "" {
		opt.Password = DefaultPassword
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Pupils <= 0 {
		opt.Pupils = 30_000
	}
	if opt.Colleges <= 0 {
		opt.Colleges = min(57, max(2, (opt.Pupils+263)/526))
	}
	s := &scaler{d: d, r: rand.New(rand.NewPCG(2026, 30_000)), now: opt.Now, subjects: map[string]int64{},
		nextID: map[string]int64{}, start: time.Now(), progress: opt.Progress}
	s.g = &planner{r: s.r, start: startYear(opt.Now), ines: map[string]bool{}}
	if _, err := directory.StructureByUAI(ctx, d, scaleUAI(1)); err == nil {
		return s.res, ErrScaled
	} else if !errors.Is(err, directory.ErrNotFound) {
		return s.res, fmt.Errorf("demo: scale: %w", err)
	}
	if _, err := Seed(ctx, d, h, Options{Password: opt.Password, Now: opt.Now}); err != nil {
		return s.res, err
	}
	s.step("demo collège")
	var err error
	if s.phc, err = h.Hash(ctx, opt.Password); err != nil {
		return s.res, fmt.Errorf("demo: hash password: %w", err)
	}
	y, err := directory.CurrentYear(ctx, d)
	if err != nil {
		return s.res, fmt.Errorf("demo: scale: %w", err)
	}
	s.yearID = y.ID
	for _, sub := range subjects {
		if s.subjects[sub.code], err = directory.EnsureSubject(ctx, d, sub.code, sub.name); err != nil {
			return s.res, err
		}
	}
	var demoPupils int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM roles WHERE profile = ?`, string(identity.Pupil)).Scan(&demoPupils); err != nil {
		return s.res, fmt.Errorf("demo: scale: %w", err)
	}
	for _, t := range []string{"structures", "classes", "users", "grade_evaluations", "homework_entries", "notices"} {
		var n int64
		if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+t).Scan(&n); err != nil {
			return s.res, fmt.Errorf("demo: scale: %w", err)
		}
		s.nextID[t] = n + 1
	}
	s.plan(opt.Colleges-1, max(0, opt.Pupils-demoPupils))
	if err := d.InTx(ctx, func(tx *db.Tx) error { return s.directory(ctx, tx) }); err != nil {
		return s.res, err
	}
	s.step("directory")
	for _, step := range []struct {
		name string
		fn   func(context.Context, db.Querier, *sCollege) error
	}{{"timetable", s.timetable}, {"grades", s.grades}, {"homework", s.homework}, {"absences", s.absences}, {"notices", s.notices}} {
		for _, c := range s.colleges {
			if err := d.InTx(ctx, func(tx *db.Tx) error { return step.fn(ctx, tx, c) }); err != nil {
				return s.res, err
			}
		}
		s.step(step.name)
	}
	if err := s.fixSequences(ctx); err != nil {
		return s.res, err
	}
	// Fresh statistics (and on PostgreSQL a visibility map), as a live
	// database has them after autovacuum, so the planner sees real sizes.
	// On PostgreSQL only the tables written here: a bare VACUUM would visit
	// every schema of the database.
	analyze := `ANALYZE`
	if d.Dialect() == db.Postgres {
		analyze = `VACUUM ANALYZE structures, classes, users, roles, enrolments, guardianships, teachings,
			timetable_slots, grade_evaluations, grades, homework_entries, homework_items, absences, notices, notice_audiences`
	}
	if _, err := d.Exec(ctx, analyze); err != nil {
		return s.res, fmt.Errorf("demo: analyze: %w", err)
	}
	s.step("analyze")
	s.res.Took = time.Since(s.start)
	return s.res, nil
}

func (s *scaler) step(name string) {
	if s.progress != nil {
		s.progress(name, time.Since(s.start))
	}
}

func (s *scaler) id(table string) int64 {
	n := s.nextID[table]
	s.nextID[table]++
	return n
}

// plan lays out n collèges sharing pupils pupils: classes of ~26, levels
// 6e to 3e, and the teachers of each subject.
func (s *scaler) plan(n, pupils int) {
	if n <= 0 {
		return
	}
	for k := range n {
		c := &sCollege{id: s.id("structures"), uai: scaleUAI(k + 1)}
		size := pupils / n
		if k < pupils%n {
			size++
		}
		nc := max(4, (size+13)/26) // ~26 a class, at least one per level
		for i := range nc {
			level := 6 - i%4
			cl := &sClass{id: s.id("classes"), college: k, level: level, teacher: map[string]int64{},
				name: fmt.Sprintf("%de %c", level, 'A'+i/4)}
			c.classes = append(c.classes, cl)
		}
		for i := range size {
			cl := c.classes[i%nc]
			s.pupils = append(s.pupils, sPupil{class: cl})
		}
		s.colleges = append(s.colleges, c)
	}
}

// directory writes the collèges, classes, people, roles, enrolments,
// guardianships and teachings.
func (s *scaler) directory(ctx context.Context, q db.Querier) error {
	st := newBatch(q, "structures", "id, uai, name, kind, commune")
	cl := newBatch(q, "classes", "id, structure_id, year_id, name, level, kind")
	for k, c := range s.colleges {
		name := "Collège " + scaleNames[k%len(scaleNames)]
		if k >= len(scaleNames) {
			name += " " + strconv.Itoa(k/len(scaleNames)+1)
		}
		if err := st.add(ctx, c.id, c.uai, name, string(directory.College), scaleCommunes[k%len(scaleCommunes)]); err != nil {
			return err
		}
		for _, x := range c.classes {
			if err := cl.add(ctx, x.id, c.id, s.yearID, x.name, fmt.Sprintf("%de", x.level), "class"); err != nil {
				return err
			}
		}
	}
	if err := flushAll(ctx, st, cl); err != nil {
		return err
	}
	users := newBatch(q, "users", "id, login, password_hash, civility, first_name, last_name, birth_date, email, ine, created_at, password_changed_at")
	roles := newBatch(q, "roles", "user_id, structure_id, profile, function").after(users)
	enrol := newBatch(q, "enrolments", "user_id, class_id").after(users)
	guard := newBatch(q, "guardianships", "parent_id, child_id, relation").after(users)
	teach := newBatch(q, "teachings", "teacher_id, class_id, subject_id").after(users)
	now := s.now.Unix()
	person := func(a adult, birth, ine string) (int64, error) {
		id := s.id("users")
		login := directory.LoginBase(a.first, a.last) + strconv.FormatInt(id, 10)
		var inev any
		if ine != "" {
			inev = ine
		}
		return id, users.add(ctx, id, login, s.phc, a.civility, a.first, a.last, birth, a.email, inev, now, now)
	}

	// Staff and teachers of each collège.
	for _, c := range s.colleges {
		for i, f := range []string{"Principal", "CPE"} {
			a := s.g.adult(pickOrigin(s.r), s.r.IntN(2) == 0)
			a.email = s.g.staffEmail(a.first, a.last)
			id, err := person(a, "", "")
			if err != nil {
				return err
			}
			prof := identity.Head
			if i == 1 {
				prof, c.cpe = identity.Staff, id
			} else {
				c.head = id
			}
			if err := roles.add(ctx, id, c.id, string(prof), f); err != nil {
				return err
			}
		}
		for _, sub := range scaleSubjects {
			var taught []*sClass
			for _, x := range c.classes {
				if x.level <= sub.fromLevel {
					taught = append(taught, x)
				}
			}
			for len(taught) > 0 {
				n := min(sub.perTeach, len(taught))
				a := s.g.adult(pickOrigin(s.r), s.r.IntN(3) < 2)
				a.email = s.g.staffEmail(a.first, a.last)
				id, err := person(a, "", "")
				if err != nil {
					return err
				}
				if err := roles.add(ctx, id, c.id, string(identity.Teacher), ""); err != nil {
					return err
				}
				for _, x := range taught[:n] {
					x.teacher[sub.code] = id
					if err := teach.add(ctx, id, x.id, s.subjects[sub.code]); err != nil {
						return err
					}
				}
				s.res.Teachers++
				if s.res.Teacher == "" && sub.code == "MATHS" && n > 1 {
					s.res.Teacher = directory.LoginBase(a.first, a.last) + strconv.FormatInt(id, 10)
					s.res.ClassID, s.res.SubjectID = taught[0].id, s.subjects[sub.code]
				}
				taught = taught[n:]
			}
		}
	}

	// Families: one pupil in nine has a brother or sister two levels apart
	// in the same collège, one in thirty in the next collège; the first
	// family is the benchmark's parent of two children in two collèges.
	taken := make([]bool, len(s.pupils))
	perCollege := len(s.pupils) / max(1, len(s.colleges))
	for i := range s.pupils {
		if taken[i] {
			continue
		}
		kids := []int{i}
		taken[i] = true
		j := -1
		switch x := s.r.IntN(30); {
		case i == 0 && len(s.colleges) > 1:
			j = perCollege + 3
		case x < 1:
			j = i + perCollege + s.r.IntN(10)
		case x < 4:
			j = i + 2 // pupils are dealt to classes 6e, 5e, 4e, 3e in turn: two levels apart
		}
		if j > i && j < len(s.pupils) && !taken[j] {
			kids = append(kids, j)
			taken[j] = true
		}
		levels := make([]string, len(kids)) // what planner.birth reads of a class name
		for n, k := range kids {
			levels[n] = strconv.Itoa(s.pupils[k].class.level)
		}
		f := s.g.family(levels...)
		childIDs := make([]int64, len(kids))
		for n, k := range kids {
			p := &s.pupils[k]
			c := f.children[n]
			p.id = s.id("users")
			login := directory.LoginBase(c.first, c.last) + strconv.FormatInt(p.id, 10)
			ine := fmt.Sprintf("%09dSC", 300_000_000+p.id) // distinct from the demo's random ones
			if err := users.add(ctx, p.id, login, s.phc, "", c.first, c.last, c.birth, "", ine, now, now); err != nil {
				return err
			}
			if err := roles.add(ctx, p.id, s.colleges[p.class.college].id, string(identity.Pupil), ""); err != nil {
				return err
			}
			if err := enrol.add(ctx, p.id, p.class.id); err != nil {
				return err
			}
			p.class.pupils = append(p.class.pupils, p.id)
			childIDs[n] = p.id
			s.res.Pupils++
		}
		for gi, a := range f.guardians {
			id, err := person(a, "", "")
			if err != nil {
				return err
			}
			seen := map[int64]bool{}
			for _, k := range kids {
				st := s.colleges[s.pupils[k].class.college].id
				if !seen[st] {
					seen[st] = true
					if err := roles.add(ctx, id, st, string(identity.Parent), ""); err != nil {
						return err
					}
				}
			}
			for _, c := range childIDs {
				if err := guard.add(ctx, id, c, a.relation); err != nil {
					return err
				}
			}
			if i == 0 && gi == 0 && len(kids) == 2 {
				s.res.Parent = directory.LoginBase(a.first, a.last) + strconv.FormatInt(id, 10)
				s.res.Children = [2]int64{childIDs[0], childIDs[1]}
			}
			s.res.Parents++
		}
	}
	s.res.Colleges = len(s.colleges)
	for _, c := range s.colleges {
		s.res.Classes += len(c.classes)
	}
	return flushAll(ctx, users, roles, enrol, guard, teach)
}

// fixSequences moves PostgreSQL's identity sequences past the ids chosen
// here (SQLite's AUTOINCREMENT follows explicit ids by itself).
func (s *scaler) fixSequences(ctx context.Context) error {
	if s.d.Dialect() != db.Postgres {
		return nil
	}
	for t := range s.nextID {
		if _, err := s.d.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
			return fmt.Errorf("demo: sequence of %s: %w", t, err)
		}
	}
	return nil
}

// batch accumulates rows of one table and writes them in multi-row
// INSERTs, well under SQLite's and PostgreSQL's parameter limits.
type batch struct {
	q    db.Querier
	head string
	cols int
	rows int
	args []any
	deps []*batch // flushed first: the rows they hold are referred to
}

// after makes b flush deps before its own rows, and returns b.
func (b *batch) after(deps ...*batch) *batch {
	b.deps = append(b.deps, deps...)
	return b
}

const batchParams = 8000

func newBatch(q db.Querier, table, cols string) *batch {
	return &batch{q: q, head: "INSERT INTO " + table + " (" + cols + ") VALUES ", cols: strings.Count(cols, ",") + 1}
}

func (b *batch) add(ctx context.Context, vals ...any) error {
	if len(vals) != b.cols {
		return fmt.Errorf("demo: batch %s: %d values for %d columns", b.head, len(vals), b.cols)
	}
	b.args = append(b.args, vals...)
	b.rows++
	if len(b.args)+b.cols > batchParams {
		return b.flush(ctx)
	}
	return nil
}

func (b *batch) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	if err := flushAll(ctx, b.deps...); err != nil {
		return err
	}
	row := "(?" + strings.Repeat(", ?", b.cols-1) + ")"
	var sb strings.Builder
	sb.Grow(len(b.head) + b.rows*(len(row)+2))
	sb.WriteString(b.head)
	for i := range b.rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	if _, err := b.q.Exec(ctx, sb.String(), b.args...); err != nil {
		return fmt.Errorf("demo: %s…: %w", b.head[:min(len(b.head), 40)], err)
	}
	b.args, b.rows = b.args[:0], 0
	return nil
}

func flushAll(ctx context.Context, bs ...*batch) error {
	for _, b := range bs {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// term is the current term's window for dated rows: evaluations and
// absences fall between first and last, as in the demo (grades.go).
func (s *scaler) term(ctx context.Context, q db.Querier) (first, last time.Time, ok bool, err error) {
	y := directory.YearFor(directory.YearLabel(s.now), true)
	y.ID = s.yearID
	terms, err := directory.EnsureTerms(ctx, q, y)
	if err != nil {
		return first, last, false, fmt.Errorf("demo: terms: %w", err)
	}
	t, ok := directory.TermOf(terms, s.now.In(notices.Paris).Format(time.DateOnly))
	if !ok {
		return first, last, false, nil
	}
	start, _ := time.Parse(time.DateOnly, t.StartsOn)
	end, _ := time.Parse(time.DateOnly, t.EndsOn)
	n := s.now.In(notices.Paris)
	last = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	if floor := start.AddDate(0, 0, 21); last.Before(floor) {
		last = floor
	}
	if last.After(end) {
		last = end
	}
	return start.AddDate(0, 0, 7), last, true, nil
}

// schoolDay moves t back to the Friday before when it is a weekend day.
func schoolDay(t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		return t.AddDate(0, 0, -1)
	case time.Sunday:
		return t.AddDate(0, 0, -2)
	}
	return t
}

// timetable writes each class's week: its subjects' weekly hours over the
// free hours of the week, in an order drawn per class, each at the first
// hour of that order where the class and the subject's teacher are both
// free (a teacher is never in two classes at once; an hour that finds no
// such place is left out).
func (s *scaler) timetable(ctx context.Context, q db.Querier, c *sCollege) error {
	b := newBatch(q, "timetable_slots", "class_id, subject_id, teacher_id, room, weekday, start_min, end_min")
	type place struct{ day, hour int }
	var places []place
	for day := 1; day <= 5; day++ {
		for h := range hours {
			if day != 3 || hours[h] < 12*60 {
				places = append(places, place{day, h})
			}
		}
	}
	busy := map[int64][]bool{} // teacher → the places they teach at
	for ci, x := range c.classes {
		plan := weeklyHours["3e"]
		if x.level == 6 {
			plan = weeklyHours["6e"]
		}
		order := s.r.Perm(len(places))
		used := make([]bool, len(places)) // this class's
		for _, code := range subjectOrder {
			teacher, ok := x.teacher[code]
			if !ok {
				continue
			}
			if busy[teacher] == nil {
				busy[teacher] = make([]bool, len(places))
			}
			room := rooms[code]
			if room == "" {
				room = strconv.Itoa(100*(x.level-2) + ci)
			}
			for range plan[code] {
				k := slices.IndexFunc(order, func(i int) bool { return !used[i] && !busy[teacher][i] })
				if k < 0 {
					break
				}
				i := order[k]
				used[i], busy[teacher][i] = true, true
				p := places[i]
				if err := b.add(ctx, x.id, s.subjects[code], teacher, room, p.day, hours[p.hour], hours[p.hour]+55); err != nil {
					return err
				}
				s.res.Slots++
			}
		}
	}
	return b.flush(ctx)
}

// grades writes six evaluations a term in each graded subject of each
// class, every pupil graded around a level of their own.
func (s *scaler) grades(ctx context.Context, q db.Querier, c *sCollege) error {
	first, last, ok, err := s.term(ctx, q)
	if err != nil || !ok {
		return err
	}
	evals := newBatch(q, "grade_evaluations", "id, structure_id, class_id, subject_id, created_by, title, held_on, scale, coef_hundredths, created_at, updated_at")
	marks := newBatch(q, "grades", "evaluation_id, pupil_id, status, quarters, updated_by, updated_at").after(evals)
	now := s.now.Unix()
	level := map[int64]float64{}
	for _, x := range c.classes {
		for _, p := range x.pupils {
			level[p] = 7 + s.r.Float64()*10
		}
		for _, sub := range scaleSubjects {
			teacher, ok := x.teacher[sub.code]
			if !sub.graded || !ok {
				continue
			}
			var shapes []demoEval
			for _, gs := range gradedSubjects {
				if gs.code == sub.code {
					shapes = gs.evals
				}
			}
			const n = 6
			for i := range n {
				de := demoEval{20, 100, scaleTitles[i]}
				if i < len(shapes) {
					de = shapes[i]
				}
				day := schoolDay(first.Add(time.Duration(float64(last.Sub(first)) * (float64(i) + s.r.Float64()*0.6) / n)))
				id := s.id("grade_evaluations")
				if err := evals.add(ctx, id, c.id, x.id, s.subjects[sub.code], teacher, de.title, day.Format(time.DateOnly),
					de.scale, int(de.coef), now, now); err != nil {
					return err
				}
				s.res.Evaluations++
				for _, p := range x.pupils {
					status, quarters := "note", 0
					switch r := s.r.IntN(100); {
					case r < 4:
						status = "absent"
					case r < 5:
						status = "dispense"
					default:
						v := (level[p] + s.r.NormFloat64()*2.5) / 20 * float64(de.scale)
						quarters = max(0, min(int(v*2+0.5)*2, 4*de.scale))
					}
					if err := marks.add(ctx, id, p, status, quarters, teacher, now); err != nil {
						return err
					}
					s.res.Grades++
				}
			}
		}
	}
	// The evaluations first: the grades refer to them.
	return flushAll(ctx, evals, marks)
}

// homework writes, for each class and graded subject but EPS, the last
// three lessons' entries, each with work to do a few days later.
func (s *scaler) homework(ctx context.Context, q db.Querier, c *sCollege) error {
	entries := newBatch(q, "homework_entries", "id, structure_id, class_id, subject_id, author_id, lesson_on, title, content, created_at, updated_at")
	items := newBatch(q, "homework_items", "entry_id, n, description, due_on, minutes").after(entries)
	today := s.now.In(notices.Paris)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	now := s.now.Unix()
	for _, x := range c.classes {
		for _, sub := range scaleSubjects {
			teacher, ok := x.teacher[sub.code]
			if !sub.graded || !ok || sub.code == "EPS" {
				continue
			}
			for i := range 3 {
				lesson := schoolDay(today.AddDate(0, 0, -1-3*i-s.r.IntN(2)))
				id := s.id("homework_entries")
				if err := entries.add(ctx, id, c.id, x.id, s.subjects[sub.code], teacher, lesson.Format(time.DateOnly),
					fmt.Sprintf("Séance %d", 20-i), "Correction des exercices, reprise de la leçon et nouvelle notion.", now, now); err != nil {
					return err
				}
				due := lesson.AddDate(0, 0, 2+s.r.IntN(6))
				if due.Weekday() == time.Saturday || due.Weekday() == time.Sunday {
					due = due.AddDate(0, 0, 2)
				}
				if err := items.add(ctx, id, 1, "Apprendre la leçon et faire les exercices de la page "+strconv.Itoa(20+s.r.IntN(200))+".",
					due.Format(time.DateOnly), 15*(1+s.r.IntN(4))); err != nil {
					return err
				}
				s.res.Homework++
			}
		}
	}
	return flushAll(ctx, entries, items)
}

// absences gives one pupil in three one to three absences or lateness
// this term, most of them justified.
func (s *scaler) absences(ctx context.Context, q db.Querier, c *sCollege) error {
	first, last, ok, err := s.term(ctx, q)
	if err != nil || !ok {
		return err
	}
	b := newBatch(q, "absences", "structure_id, class_id, pupil_id, kind, on_date, start_min, end_min, late_min, subject, status, reason, recorded_by, recorded_at_ms")
	days := int(last.Sub(first).Hours()/24) + 1
	for _, x := range c.classes {
		for _, p := range x.pupils {
			if s.r.IntN(3) != 0 {
				continue
			}
			seen := map[string]bool{}
			for range 1 + s.r.IntN(3) {
				day := schoolDay(first.AddDate(0, 0, s.r.IntN(days)))
				h := hours[s.r.IntN(len(hours))]
				key := day.Format(time.DateOnly) + strconv.Itoa(h)
				if seen[key] {
					continue
				}
				seen[key] = true
				kind, late := "absence", 0
				if s.r.IntN(4) == 0 {
					kind, late = "late", 5+s.r.IntN(20)
				}
				status, reason := "unjustified", ""
				switch r := s.r.IntN(20); {
				case r < 10:
					status, reason = "justified", "maladie"
				case r < 13:
					status, reason = "pending", "transport"
				}
				sub := subjects[s.r.IntN(len(subjects))].name
				at := day.Add(time.Duration(h+10) * time.Minute).UnixMilli()
				if err := b.add(ctx, c.id, x.id, p, kind, day.Format(time.DateOnly), h, h+55, late, sub, status, reason, c.cpe, at); err != nil {
					return err
				}
				s.res.Absences++
			}
		}
	}
	return b.flush(ctx)
}

// notices writes five notices a collège: one to everyone, one that
// parents acknowledge, one to a class's parents, one to a class, and an
// expired one.
func (s *scaler) notices(ctx context.Context, q db.Querier, c *sCollege) error {
	ns := newBatch(q, "notices", "id, structure_id, author_id, title, body, valid_from, valid_until, draft, requires_ack, created_at_ms, updated_at_ms")
	aud := newBatch(q, "notice_audiences", "notice_id, kind, profile, class_id").after(ns)
	day := func(d int) string { return s.now.In(notices.Paris).AddDate(0, 0, d).Format(notices.DateLayout) }
	ms := s.now.UnixMilli()
	list := []struct {
		title, from, until string
		ack                bool
		kind, profile      string
		class              int64
	}{
		{"Portes ouvertes du collège", day(-10), day(20), false, notices.School, "", 0},
		{"Autorisation de sortie : cross du collège", day(-3), day(12), true, notices.Profile, string(identity.Parent), 0},
		{"Réunion parents-professeurs de " + c.classes[0].name, day(-2), day(15), false, notices.ClassParents, "", c.classes[0].id},
		{"Sortie au musée pour la " + c.classes[len(c.classes)-1].name, day(-1), day(9), false, notices.Class, "", c.classes[len(c.classes)-1].id},
		{"Photos de classe", day(-40), day(-20), false, notices.School, "", 0},
	}
	for i, n := range list {
		id := s.id("notices")
		if err := ns.add(ctx, id, c.id, c.head, n.title, "Informations détaillées dans le document joint au carnet.",
			n.from, n.until, false, n.ack, ms-int64(i)*3_600_000, ms-int64(i)*3_600_000); err != nil {
			return err
		}
		if err := aud.add(ctx, id, n.kind, n.profile, n.class); err != nil {
			return err
		}
		s.res.Notices++
	}
	return flushAll(ctx, ns, aud)
}
