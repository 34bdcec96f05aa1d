package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"preau/ent/directory"
	"preau/ent/grades"
	"preau/identity"
)

// The Notes module (package grades, docs/grades.md): this file holds what
// the pages (grades_pages.go) and the API (grades_api.go) share — the terms
// of the current year and the access checks. Every object outside the
// caller's scope is "not found", never "forbidden".

func (s *Server) gradeStore() *grades.Store { return grades.NewStore(s.db) }

// gradeYear returns the current school year and its terms, creating the
// default terms on first use.
func (s *Server) gradeYear(ctx context.Context) (directory.SchoolYear, []directory.Term, error) {
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return y, nil, err
	}
	ts, err := directory.EnsureTerms(ctx, s.db, y)
	return y, ts, err
}

// gradeToday is today's date in Europe/Paris.
func gradeToday() string { return time.Now().In(paris).Format(time.DateOnly) }

// gradeTerm picks the term numbered by the query parameter name (1, 2, 3),
// or today's term; ok false when the number names no term.
func gradeTerm(r *http.Request, name string, ts []directory.Term) (directory.Term, bool) {
	if v := r.URL.Query().Get(name); v != "" {
		n, err := strconv.Atoi(v)
		for _, t := range ts {
			if err == nil && t.Number == n {
				return t, true
			}
		}
		return directory.Term{}, false
	}
	return directory.TermOf(ts, gradeToday())
}

// classSubject is a class and a subject whose evaluations someone reaches.
type classSubject struct {
	Class   directory.Class
	Subject directory.Subject
	// Write: the caller may create, change and delete its evaluations and
	// grades (they teach the subject to the class this year).
	Write bool
}

// reachClassSubject loads the class and subject for the caller when they
// may do a on its evaluations: read (teachers of the class, the school's
// staff and head, the administrator) or write (its teacher in that subject,
// this school year). directory.ErrNotFound otherwise.
func (s *Server) reachClassSubject(ctx context.Context, u *user, classID, subjectID int64, a identity.Action) (classSubject, error) {
	var cs classSubject
	c, err := s.dir.Class(ctx, classID)
	if err != nil {
		return cs, err
	}
	subjects, err := s.dir.Subjects(ctx)
	if err != nil {
		return cs, err
	}
	i := slices.IndexFunc(subjects, func(x directory.Subject) bool { return x.ID == subjectID })
	if i < 0 || !u.Can(identity.Evaluation, identity.Read, classTarget(c)) {
		return cs, directory.ErrNotFound
	}
	cs.Class, cs.Subject = c, subjects[i]
	if u.Can(identity.Evaluation, identity.Update, classTarget(c)) {
		y, err := directory.CurrentYear(ctx, s.db)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return cs, err
		}
		if c.YearID == y.ID {
			if cs.Write, err = grades.Teaches(ctx, s.db, u.UserID, c.ID, subjectID); err != nil {
				return cs, err
			}
		}
	}
	if a != identity.Read && (!cs.Write || !u.Can(identity.Evaluation, a, classTarget(c))) {
		return cs, directory.ErrNotFound
	}
	return cs, nil
}

// reachEvaluation loads evaluation id with its class and subject when the
// caller may do a on it.
func (s *Server) reachEvaluation(ctx context.Context, u *user, id int64, a identity.Action) (grades.Evaluation, classSubject, error) {
	e, err := s.gradeStore().Evaluation(ctx, id)
	if err != nil {
		return e, classSubject{}, err
	}
	cs, err := s.reachClassSubject(ctx, u, e.ClassID, e.SubjectID, a)
	return e, cs, err
}

// reachPupilGrades loads a pupil whose grades the caller may read: their
// own, their child's, a pupil of a class they teach, of their school (staff
// and head), anyone (administrator). directory.ErrNotFound otherwise, and
// for anyone who is not a pupil.
func (s *Server) reachPupilGrades(ctx context.Context, u *user, id int64) (directory.Person, error) {
	p, err := s.dir.Person(ctx, id)
	if err != nil {
		return p, err
	}
	roles, err := directory.Roles(ctx, s.db, id)
	if err != nil {
		return p, err
	}
	if !slices.ContainsFunc(roles, func(r identity.Role) bool { return r.Profile == identity.Pupil }) {
		return p, directory.ErrNotFound
	}
	ts, err := s.dir.PersonTargets(ctx, id)
	if err != nil {
		return p, err
	}
	for _, t := range ts {
		if u.Can(identity.Grade, identity.Read, t) {
			return p, nil
		}
	}
	return p, directory.ErrNotFound
}

// gradeReport builds a pupil's report for a term.
func (s *Server) gradeReport(ctx context.Context, pupil int64, t directory.Term) (grades.Report, error) {
	sheets, names, err := s.gradeStore().PupilSheets(ctx, pupil, t.YearID, t.StartsOn, t.EndsOn)
	if err != nil {
		return grades.Report{}, err
	}
	return grades.BuildReport(pupil, sheets, names), nil
}

// gradeTable builds the grade table of a class in a subject over a term.
func (s *Server) gradeTable(ctx context.Context, cs classSubject, t directory.Term) (grades.Table, error) {
	sheets, err := s.gradeStore().Sheets(ctx, cs.Class.ID, cs.Subject.ID, t.StartsOn, t.EndsOn)
	if err != nil {
		return grades.Table{}, err
	}
	pupils, err := s.dir.ClassPupils(ctx, cs.Class.ID)
	if err != nil {
		return grades.Table{}, err
	}
	names := make([]grades.PupilName, 0, len(pupils))
	for _, p := range pupils {
		names = append(names, grades.PupilName{ID: p.ID, Name: p.LastName + " " + p.FirstName})
	}
	return grades.BuildTable(names, sheets), nil
}

// isNotFound reports the errors that answer 404.
func gradeNotFound(err error) bool {
	return errors.Is(err, directory.ErrNotFound) || errors.Is(err, grades.ErrNotFound) || errors.Is(err, grades.ErrNotTaught)
}
