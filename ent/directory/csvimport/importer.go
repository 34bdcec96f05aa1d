package csvimport

import (
	"context"
	"database/sql"
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

// maxCached bounds the class and subject caches. A school has a few hundred
// classes at most; past the bound lookups simply go to the database.
const maxCached = 4096

// importer applies the rows of one file inside one transaction.
type importer struct {
	q           db.Querier
	opt         Options
	rep         *Report
	st          directory.Structure
	year        directory.SchoolYear
	now         time.Time
	maxID       int64 // highest users.id before the import: higher ids are ours
	nextAnalyze int
	ns          string
	line        int

	classes  map[string]int64
	subjects map[string]int64
	codes    *codeWriter
}

func newImporter(ctx context.Context, q db.Querier, uai string, opt Options, rep *Report) (*importer, error) {
	im := &importer{q: q, opt: opt, rep: rep, now: opt.Now(), classes: map[string]int64{}, subjects: map[string]int64{},
		ns: externalNS(uai, opt.Kind)}
	im.codes = &codeWriter{w: opt.Codes}
	if opt.DryRun {
		im.codes.w = nil
	}
	if q.Dialect() == db.Postgres {
		// Prepared statements switch to a generic plan after five runs; made
		// while the tables are nearly empty it is a sequential scan, and the
		// rows this transaction adds are invisible to statistics, so a large
		// import would turn quadratic. Plan each statement for what it finds.
		if _, err := q.Exec(ctx, "SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
			return nil, fmt.Errorf("csvimport: %w", err)
		}
	}
	var err error
	im.st, err = directory.StructureByUAI(ctx, q, uai)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, fmt.Errorf("établissement %s inconnu : créez-le avant d'importer", uai)
	}
	if err != nil {
		return nil, fmt.Errorf("csvimport: %w", err)
	}
	im.year, err = directory.CurrentYear(ctx, q)
	if errors.Is(err, directory.ErrNotFound) {
		im.year = directory.YearFor(directory.YearLabel(im.now), true)
		if im.year.ID, err = directory.EnsureYear(ctx, q, im.year); err == nil {
			im.changef("année scolaire %s créée", im.year.Label)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("csvimport: school year: %w", err)
	}
	if err := q.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM users").Scan(&im.maxID); err != nil {
		return nil, fmt.Errorf("csvimport: %w", err)
	}
	return im, nil
}

// externalNS is the prefix of the external identifiers of one school and
// kind of file: "0451234A:eleves:". School software numbers its records per
// school and per kind, so the same "1234" may be a pupil here, a parent
// there; users.external_id is unique across the whole ENT.
func externalNS(uai string, k Kind) string { return uai + ":" + string(k) + ":" }

func (im *importer) row(ctx context.Context, r *row) error {
	if err := im.maybeAnalyze(ctx); err != nil {
		return err
	}
	switch im.opt.Kind {
	case Pupils:
		return im.pupil(ctx, r)
	case Parents:
		return im.parent(ctx, r)
	case Teachers:
		return im.teacher(ctx, r)
	}
	return fmt.Errorf("csvimport: kind %q", im.opt.Kind)
}

// analyzed are the tables an import grows.
const analyzed = "users, roles, enrolments, classes, guardianships, teachings, activation_codes"

// maybeAnalyze refreshes PostgreSQL's statistics at rows 500, 2000, 8000…
// The planner cannot see this transaction's rows otherwise (autovacuum
// only counts committed ones), and on a first large import it keeps
// believing the tables are nearly empty: it then picks the wrong index and
// each row scans thousands. ANALYZE inside the transaction samples our own
// new rows. The geometric schedule keeps its cost small.
func (im *importer) maybeAnalyze(ctx context.Context) error {
	if im.q.Dialect() != db.Postgres || im.rep.Rows < im.nextAnalyze {
		return nil
	}
	if im.nextAnalyze == 0 {
		im.nextAnalyze = 500
		return nil
	}
	im.nextAnalyze *= 4
	if _, err := im.q.Exec(ctx, "ANALYZE "+analyzed); err != nil {
		return fmt.Errorf("csvimport: analyze: %w", err)
	}
	return nil
}

// changef writes one line to Options.Changes.
func (im *importer) changef(format string, args ...any) {
	if im.opt.Changes == nil {
		return
	}
	if im.line > 0 {
		fmt.Fprintf(im.opt.Changes, "ligne %d : ", im.line)
	}
	fmt.Fprintf(im.opt.Changes, format+"\n", args...)
}

// count files the row under Created, Updated or Unchanged and reports it.
func (im *importer) count(p directory.Person, what string, created bool, diffs []string) {
	switch {
	case created:
		im.rep.Created++
		im.changef("création %s %s", what, describe(p))
		for _, d := range diffs {
			im.changef("  %s", d)
		}
	case p.ID > im.maxID: // created by an earlier row of this file
		for _, d := range diffs {
			im.changef("%s %s : %s", what, describe(p), d)
		}
	case len(diffs) > 0:
		im.rep.Updated++
		im.changef("modification %s %s : %s", what, describe(p), strings.Join(diffs, " ; "))
	default:
		im.rep.Unchanged++
	}
}

func describe(p directory.Person) string {
	s := p.LastName + " " + p.FirstName
	if p.Login != "" {
		s += " (" + p.Login + ")"
	}
	return s
}

// classID returns the id of the class of this year, creating it if needed.
func (im *importer) classID(ctx context.Context, name string) (int64, error) {
	if id, ok := im.classes[name]; ok {
		return id, nil
	}
	var id int64
	err := im.q.QueryRow(ctx, "SELECT id FROM classes WHERE structure_id = ? AND year_id = ? AND name = ?",
		im.st.ID, im.year.ID, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err = directory.EnsureClass(ctx, im.q, directory.Class{StructureID: im.st.ID, YearID: im.year.ID, Name: name})
		if err == nil {
			im.changef("nouvelle classe %s (%s)", name, im.year.Label)
		}
	}
	if err != nil {
		return 0, err
	}
	if len(im.classes) < maxCached {
		im.classes[name] = id
	}
	return id, nil
}

// subjectID returns the id of a subject named so, creating it if needed.
func (im *importer) subjectID(ctx context.Context, name string) (int64, error) {
	code := subjectCode(name)
	if code == "" {
		return 0, rowErrf("discipline invalide : %s", quote(name))
	}
	if id, ok := im.subjects[code]; ok {
		return id, nil
	}
	var id int64
	err := im.q.QueryRow(ctx, "SELECT id FROM subjects WHERE code = ?", code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err = directory.EnsureSubject(ctx, im.q, code, name)
		if err == nil {
			im.changef("nouvelle discipline %s (%s)", name, code)
		}
	}
	if err != nil {
		return 0, err
	}
	if len(im.subjects) < maxCached {
		im.subjects[code] = id
	}
	return id, nil
}

// ---- people ------------------------------------------------------------------

var (
	personCols  = directory.PersonColumns("")
	personColsU = directory.PersonColumns("u")
	scanPerson  = directory.ScanPerson
)

// byField finds a person by "ine" or "external_id"; found is false when
// there is none.
func (im *importer) byField(ctx context.Context, field, v string) (p directory.Person, found bool, err error) {
	p, err = directory.PersonBy(ctx, im.q, field, v)
	if errors.Is(err, directory.ErrNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

const loginBatch = 32

// homonyms walks the logins made from a name — base, base2, base3… as
// directory.CreatePerson gives them — through the unique index, a batch at
// a time. It returns the people there for whom keep is true, and the first
// free login. (directory's own lookup uses LIKE, which scans the table: too
// slow for tens of thousands of rows.)
func (im *importer) homonyms(ctx context.Context, first, last string, keep func(directory.Person) bool) ([]directory.Person, string, error) {
	base := directory.LoginBase(first, last)
	var out []directory.Person
	free := ""
	for batch := 0; batch < 100; batch++ {
		logins := make([]any, loginBatch)
		for i := range logins {
			n := batch*loginBatch + i + 1
			if n == 1 {
				logins[i] = base
			} else {
				logins[i] = base + strconv.Itoa(n)
			}
		}
		rows, err := im.q.Query(ctx, "SELECT "+personCols+" FROM users WHERE login IN (?"+strings.Repeat(", ?", loginBatch-1)+")", logins...)
		if err != nil {
			return nil, "", err
		}
		taken := map[string]bool{}
		for rows.Next() {
			var p directory.Person
			if err := scanPerson(rows, &p); err != nil {
				rows.Close()
				return nil, "", err
			}
			taken[p.Login] = true
			if keep != nil && keep(p) {
				out = append(out, p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, "", err
		}
		for _, l := range logins {
			if free == "" && !taken[l.(string)] {
				free = l.(string)
			}
		}
		if len(taken) == 0 || (free != "" && keep == nil) {
			return out, free, nil
		}
	}
	return nil, "", fmt.Errorf("csvimport: too many people named %q", base)
}

// sameName reports whether p has this name, ignoring case and accents.
func sameName(p directory.Person, first, last string) bool {
	return fold(p.FirstName) == fold(first) && fold(p.LastName) == fold(last)
}

// create adds a person with a role in the structure and an activation code.
// login is the free login when the caller already looked it up ("": look).
func (im *importer) create(ctx context.Context, p directory.Person, prof identity.Profile, class, login string) (directory.Person, error) {
	if login == "" {
		var err error
		if _, login, err = im.homonyms(ctx, p.FirstName, p.LastName, nil); err != nil {
			return p, err
		}
	}
	p.Login = login
	p, err := directory.CreatePerson(ctx, im.q, p)
	if err != nil {
		return p, err
	}
	// A new account has no role yet: insert directly, saving AddRole's
	// update-then-insert round trip on large files.
	if _, err := im.q.Exec(ctx, "INSERT INTO roles (user_id, structure_id, profile, function) VALUES (?, ?, ?, '')",
		p.ID, im.st.ID, prof); err != nil {
		return p, err
	}
	code, exp, err := auth.IssueCode(ctx, im.q, p.ID, im.opt.ByUserID, auth.ActivationTTL)
	if err != nil {
		return p, err
	}
	im.rep.Codes++
	return p, im.codes.write(p, prof, class, code, exp)
}

// ensureRole gives the profile in the structure when missing; it never
// touches an existing role (its function may have been set by hand).
func (im *importer) ensureRole(ctx context.Context, id int64, prof identity.Profile) (added bool, err error) {
	var n int
	if err := im.q.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE user_id = ? AND structure_id = ? AND profile = ?",
		id, im.st.ID, prof).Scan(&n); err != nil || n > 0 {
		return false, err
	}
	return true, directory.AddRole(ctx, im.q, id, im.st.ID, prof, "")
}

// update writes want over have when they differ, and lists what changed.
func (im *importer) update(ctx context.Context, have, want directory.Person) ([]string, error) {
	var diffs []string
	cmp := func(label, a, b string) {
		if a != b {
			if a == "" {
				a = "(vide)"
			}
			if b == "" {
				b = "(vide)"
			}
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", label, quote(a), quote(b)))
		}
	}
	cmp("civilité", have.Civility, want.Civility)
	cmp("nom", have.LastName, want.LastName)
	cmp("prénom", have.FirstName, want.FirstName)
	cmp("date de naissance", have.BirthDate, want.BirthDate)
	cmp("courriel", have.Email, want.Email)
	cmp("INE", have.INE, want.INE)
	cmp("identifiant", have.ExternalID, want.ExternalID)
	if len(diffs) == 0 {
		return nil, nil
	}
	return diffs, directory.UpdatePerson(ctx, im.q, want)
}
