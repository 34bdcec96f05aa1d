package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"preau/chat"
	"preau/ent/absences"
	"preau/ent/timetable"
)

// The demo collège's vie scolaire: over the last five weeks (within the
// school year), a few absences and lates in every class, taken from the
// class's real lessons, most of them justified; eleve.demo has one
// absence still unjustified (the last school day before now) so that
// parent.demo can justify it, and a justified late. Each family with a
// record has its "Vie scolaire — <child>" conversation with the
// notifications Préau sent.

// absenceLesson is a lesson of a class's week, for picking records.
type absenceLesson struct {
	weekday, start, end int
	subject             string
	teacher             int64
}

func (w *writer) absences(ctx context.Context, yearStart string, now time.Time) error {
	now = now.In(timetable.Paris)
	today := now.Format(timetable.DateLayout)
	var lea int64
	if err := w.q.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", fixedPupil.login).Scan(&lea); err != nil {
		return fmt.Errorf("demo: absences: %w", err)
	}
	notes := map[int64][]string{} // pupil → notifications
	taken := map[string]bool{}    // pupil, date, start: one record per lesson
	structure := map[int64]int64{}
	k := 0
	for _, c := range collegeClasses {
		class := w.classes[c.name]
		lessons, err := w.classLessons(ctx, class)
		if err != nil || len(lessons) == 0 {
			return err
		}
		pupils, err := w.classPupils(ctx, class)
		if err != nil {
			return err
		}
		// Eight records per class, on days going back from yesterday.
		for i := range 8 {
			k++
			p := pupils[(k*7+i*3)%len(pupils)]
			if p.id == lea {
				continue // eleve.demo's records are fixed below
			}
			l := lessons[(k*5+i)%len(lessons)]
			day := lastWeekday(now.AddDate(0, 0, -3*i-1-k%3), l.weekday)
			date := day.Format(timetable.DateLayout)
			key := fmt.Sprint(p.id, date, l.start)
			if date < yearStart || date >= today || taken[key] {
				continue
			}
			taken[key] = true
			r := absences.Record{StructureID: w.college, ClassID: class, PupilID: p.id, Kind: absences.Absent, Date: date,
				Start: l.start, End: l.end, Subject: l.subject, Status: absences.Justified, Reason: "maladie", RecordedBy: l.teacher}
			if i%3 == 1 {
				r.Kind, r.LateMin, r.Reason = absences.Late, 5+5*(i%4), "transport"
			}
			if i%4 == 3 {
				r.Status, r.Reason = absences.Unjustified, ""
			}
			if err := w.absence(ctx, r, day); err != nil {
				return err
			}
			notes[p.id] = append(notes[p.id], absences.Notice(r, p.first))
			structure[p.id] = w.college
		}
		if c.name != fixedPupil.class {
			continue
		}
		// eleve.demo: a justified late, then an absence still unjustified
		// on the last lesson day before today.
		for j, l := range []absenceLesson{lessons[0], lessons[len(lessons)-1]} {
			day := lastWeekday(now.AddDate(0, 0, -1-7*(1-j)), l.weekday)
			r := absences.Record{StructureID: w.college, ClassID: class, PupilID: lea, Kind: absences.Late, LateMin: 10,
				Date: day.Format(timetable.DateLayout), Start: l.start, End: l.end, Subject: l.subject, Status: absences.Justified,
				Reason: "rdv_medical", RecordedBy: l.teacher}
			if j == 1 {
				r.Kind, r.LateMin, r.Status, r.Reason = absences.Absent, 0, absences.Unjustified, ""
			}
			if r.Date < yearStart {
				continue
			}
			if err := w.absence(ctx, r, day); err != nil {
				return err
			}
			notes[lea] = append(notes[lea], absences.Notice(r, fixedPupil.first))
			structure[lea] = w.college
		}
	}
	for pupil, bodies := range notes {
		if err := w.familyNotices(ctx, pupil, structure[pupil], bodies, now); err != nil {
			return err
		}
	}
	return nil
}

// lastWeekday returns the last day on or before t that is weekday wd.
func lastWeekday(t time.Time, wd int) time.Time {
	for int(t.Weekday()) != wd {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

func (w *writer) absence(ctx context.Context, r absences.Record, day time.Time) error {
	at := time.Date(day.Year(), day.Month(), day.Day(), r.Start/60, r.Start%60+10, 0, 0, timetable.Paris)
	r.DecidedBy = r.RecordedBy
	if _, err := absences.Insert(ctx, w.q, r, at); err != nil {
		return fmt.Errorf("demo: absence of %d on %s: %w", r.PupilID, r.Date, err)
	}
	return nil
}

func (w *writer) classLessons(ctx context.Context, class int64) ([]absenceLesson, error) {
	rows, err := w.q.Query(ctx, `SELECT s.weekday, s.start_min, s.end_min, sub.name, COALESCE(s.teacher_id, 0) FROM timetable_slots s
		JOIN subjects sub ON sub.id = s.subject_id WHERE s.class_id = ? ORDER BY s.weekday, s.start_min`, class)
	if err != nil {
		return nil, fmt.Errorf("demo: absences: %w", err)
	}
	defer rows.Close()
	var out []absenceLesson
	for rows.Next() {
		var l absenceLesson
		if err := rows.Scan(&l.weekday, &l.start, &l.end, &l.subject, &l.teacher); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

type demoPupil struct {
	id    int64
	first string
}

func (w *writer) classPupils(ctx context.Context, class int64) ([]demoPupil, error) {
	rows, err := w.q.Query(ctx, `SELECT u.id, u.first_name FROM enrolments e JOIN users u ON u.id = e.user_id
		WHERE e.class_id = ? ORDER BY u.last_name, u.first_name`, class)
	if err != nil {
		return nil, fmt.Errorf("demo: absences: %w", err)
	}
	defer rows.Close()
	var out []demoPupil
	for rows.Next() {
		var p demoPupil
		if err := rows.Scan(&p.id, &p.first); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// familyNotices writes the family's "Vie scolaire — <child>" conversation
// (chat.InsertNotices) with the notifications of the demo's records.
func (w *writer) familyNotices(ctx context.Context, pupil, structure int64, bodies []string, now time.Time) error {
	var name string
	if err := w.q.QueryRow(ctx, "SELECT first_name || ' ' || last_name FROM users WHERE id = ?", pupil).Scan(&name); err != nil {
		return fmt.Errorf("demo: absences: %w", err)
	}
	rows, err := w.q.Query(ctx, "SELECT parent_id FROM guardianships WHERE child_id = ? ORDER BY parent_id", pupil)
	if err != nil {
		return fmt.Errorf("demo: absences: %w", err)
	}
	var parents []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		parents = append(parents, id)
	}
	rows.Close()
	if len(parents) == 0 {
		return nil
	}
	_, err = chat.InsertNotices(ctx, w.q, "vie-scolaire:"+strconv.FormatInt(pupil, 10), structure, "Vie scolaire — "+name, parents, bodies, now.Add(-time.Hour))
	return err
}
