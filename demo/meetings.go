package demo

import (
	"context"
	"fmt"
	"time"

	"preau/ent/councils"
	"preau/ent/directory"
	"preau/ent/meetings"
)

// The demo's parent–teacher meetings and class council:
//   - a video meeting of prof.demo with Léa's father, open now (from the
//     start of the demo for an hour): parent.demo, Léa's other guardian,
//     and prof.demo can both join it at once;
//   - a free video slot of 3e A's English teacher, open now, that
//     parent.demo may still book for Léa in the first minutes, and eight
//     more, every half hour for the next four hours;
//   - tomorrow evening, prof.demo's slots at the collège, some booked by
//     families of 3e A, and the French teacher's video slots, one booked by
//     parent.demo for Léa;
//   - 3e A's council of this term, in a week, with its teachers, the
//     direction, the CPE, Léa as pupil delegate and parent.demo as parent
//     delegate.

// meetings writes the demo slots and council around now.
func (w *writer) meetings(ctx context.Context, now time.Time) error {
	id := func(login string) (int64, error) {
		var id int64
		err := w.q.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", login).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("demo: meetings: %s: %w", login, err)
		}
		return id, nil
	}
	var ids [4]int64
	for i, login := range []string{fixedPupil.login, fixedParent.login, fixedHead.login, fixedCPE.login} {
		var err error
		if ids[i], err = id(login); err != nil {
			return err
		}
	}
	lea, mother, head, cpe := ids[0], ids[1], ids[2], ids[3]
	var father int64
	if err := w.q.QueryRow(ctx, "SELECT parent_id FROM guardianships WHERE child_id = ? AND parent_id <> ? ORDER BY parent_id LIMIT 1",
		lea, mother).Scan(&father); err != nil {
		return fmt.Errorf("demo: meetings: Léa's father: %w", err)
	}
	class := w.classes["3e A"]
	prof, english, french := w.teachers["MATHS"]["3e A"], w.teachers["ANGLAIS"]["3e A"], w.teachers["FRANCAIS"]["3e A"]

	// Families of 3e A other than the Martins, for the booked slots.
	rows, err := w.q.Query(ctx, `SELECT g.parent_id, g.child_id FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id
		WHERE e.class_id = ? AND g.child_id <> ? ORDER BY g.child_id, g.parent_id`, class, lea)
	if err != nil {
		return fmt.Errorf("demo: meetings: families: %w", err)
	}
	var families [][2]int64
	seen := map[int64]bool{}
	for rows.Next() {
		var p, c int64
		if err := rows.Scan(&p, &c); err != nil {
			rows.Close()
			return err
		}
		if !seen[c] {
			seen[c] = true
			families = append(families, [2]int64{p, c})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// Open now: a start between 5 and 10 minutes from now, so that the
	// room is open (10 minutes before) and the free slot still bookable.
	soon := now.Truncate(5 * time.Minute).Add(10 * time.Minute)
	slot := func(teacher int64, start time.Time, minutes int, mode, place string) meetings.Slot {
		return meetings.Slot{StructureID: w.college, TeacherID: teacher, Start: start, End: start.Add(time.Duration(minutes) * time.Minute),
			Mode: mode, Place: place, CreatedBy: teacher}
	}
	booked := func(s meetings.Slot, parent, child int64) meetings.Slot {
		s.Booking = &meetings.Booking{ParentID: parent, ChildID: child}
		return s
	}
	list := []meetings.Slot{
		booked(slot(prof, soon, 60, meetings.Video, ""), father, lea),
		slot(english, soon, 30, meetings.Video, ""),
	}
	// More of the English teacher's free video slots, every half hour for
	// the next four hours: someone trying the demo later than its first
	// minutes can still book one and join it (10 minutes before).
	for i := 1; i <= 8; i++ {
		list = append(list, slot(english, soon.Add(time.Duration(30*i)*time.Minute), 30, meetings.Video, ""))
	}
	t := now.In(meetings.Paris).AddDate(0, 0, 1)
	evening := time.Date(t.Year(), t.Month(), t.Day(), 17, 0, 0, 0, meetings.Paris)
	for i := range 8 {
		s := slot(prof, evening.Add(time.Duration(15*i)*time.Minute), 15, meetings.InPerson, "Salle 104")
		if (i == 0 || i == 1 || i == 3 || i == 5) && len(families) > i {
			s = booked(s, families[i][0], families[i][1])
		}
		list = append(list, s)
	}
	for i := range 6 {
		s := slot(french, evening.Add(time.Duration(15*i)*time.Minute), 15, meetings.Video, "")
		if i == 2 {
			s = booked(s, mother, lea)
		}
		list = append(list, s)
	}
	if _, err := meetings.Insert(ctx, w.q, list, now); err != nil {
		return err
	}

	// The council of 3e A for this term, in a week.
	y, err := directory.CurrentYear(ctx, w.q)
	if err != nil {
		return err
	}
	terms, err := directory.EnsureTerms(ctx, w.q, y)
	if err != nil {
		return err
	}
	term, ok := directory.TermOf(terms, now.In(meetings.Paris).Format(time.DateOnly))
	if !ok {
		return fmt.Errorf("demo: meetings: no term")
	}
	day := now.In(meetings.Paris).AddDate(0, 0, 7)
	start := time.Date(day.Year(), day.Month(), day.Day(), 17, 30, 0, 0, meetings.Paris)
	k := councils.Council{StructureID: w.college, ClassID: class, TermID: term.ID, Start: start, End: start.Add(90 * time.Minute),
		Place: "Salle du conseil", CreatedBy: head,
		Agenda: "1. Bilan général de la classe (professeur principal)\n2. Paroles des délégués des élèves et des parents\n" +
			"3. Examen des résultats élève par élève\n4. Questions diverses",
		Members: []councils.Member{{UserID: head, Role: councils.RoleHead}, {UserID: cpe, Role: councils.RoleCPE},
			{UserID: lea, Role: councils.RolePupilDelegate}, {UserID: mother, Role: councils.RoleParentDelegate}}}
	done := map[int64]bool{head: true, cpe: true, lea: true, mother: true}
	for _, byClass := range w.teachers {
		if t, ok := byClass["3e A"]; ok && !done[t] {
			done[t] = true
			k.Members = append(k.Members, councils.Member{UserID: t, Role: councils.RoleTeacher})
		}
	}
	_, err = councils.Insert(ctx, w.q, k, now)
	return err
}
