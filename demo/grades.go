package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"preau/ent/directory"
	"preau/ent/grades"
)

// gradedSubjects are the subjects with grades in the demo, each with the
// shape of its evaluations (scale, coefficient in hundredths, title), of
// which every class gets four to six.
var gradedSubjects = []struct {
	code  string
	evals []demoEval
}{
	{"MATHS", []demoEval{{20, 100, "Interrogation — fractions"}, {20, 200, "Contrôle — calcul littéral"}, {10, 50, "Calcul mental"},
		{20, 100, "Devoir maison — géométrie"}, {20, 200, "Contrôle — Pythagore"}, {20, 100, "Interrogation — statistiques"}}},
	{"FRANCAIS", []demoEval{{20, 200, "Rédaction"}, {20, 100, "Dictée"}, {20, 100, "Lecture suivie"}, {20, 150, "Grammaire"}, {10, 50, "Récitation"}}},
	{"ANGLAIS", []demoEval{{20, 100, "Compréhension orale"}, {20, 100, "Vocabulaire"}, {20, 200, "Expression écrite"}, {20, 100, "Oral"}}},
	{"HISTGEO", []demoEval{{20, 100, "Repères chronologiques"}, {20, 200, "Étude de document"}, {20, 100, "Croquis"}, {20, 100, "Contrôle de cours"}, {40, 200, "Devoir commun"}}},
	{"SVT", []demoEval{{20, 100, "Compte rendu de TP"}, {20, 100, "Interrogation — la cellule"}, {20, 200, "Contrôle — digestion"}, {20, 100, "Exposé"}}},
}

type demoEval struct {
	scale int
	coef  grades.Coef
	title string
}

// grades writes a term of grades for every collège class: the term holding
// now, evaluations spread from its start to now (at least three weeks),
// each pupil around a level of their own, a few absences. It runs inside
// the demo's transaction, so it is written once with the rest.
func (w *writer) grades(ctx context.Context, yearID int64, now time.Time) error {
	y := directory.YearFor(directory.YearLabel(now), true)
	y.ID = yearID
	terms, err := directory.EnsureTerms(ctx, w.q, y)
	if err != nil {
		return fmt.Errorf("demo: terms: %w", err)
	}
	term, ok := directory.TermOf(terms, now.Format(time.DateOnly))
	if !ok {
		return nil
	}
	start, _ := time.Parse(time.DateOnly, term.StartsOn)
	end, _ := time.Parse(time.DateOnly, term.EndsOn)
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	if floor := start.AddDate(0, 0, 21); last.Before(floor) {
		last = floor
	}
	if last.After(end) {
		last = end
	}
	first := start.AddDate(0, 0, 7)
	r := rand.New(rand.NewPCG(2026, 6))
	level := map[int64]float64{} // each pupil's usual grade out of 20
	// eleve.demo is a good pupil with room to grow.
	var lea int64
	if err := w.q.QueryRow(ctx, `SELECT id FROM users WHERE login = ?`, fixedPupil.login).Scan(&lea); err != nil {
		return fmt.Errorf("demo: %s: %w", fixedPupil.login, err)
	}
	level[lea] = 13.5
	for _, c := range collegeClasses {
		class := w.classes[c.name]
		rows, err := w.q.Query(ctx, `SELECT user_id FROM enrolments WHERE class_id = ? ORDER BY user_id`, class)
		if err != nil {
			return err
		}
		var pupils []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			pupils = append(pupils, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range pupils {
			if _, ok := level[p]; !ok {
				level[p] = 7 + r.Float64()*10
			}
		}
		for _, gs := range gradedSubjects {
			subject := w.subjects[gs.code]
			var teacher int64
			if err := w.q.QueryRow(ctx, `SELECT teacher_id FROM teachings WHERE class_id = ? AND subject_id = ? ORDER BY teacher_id LIMIT 1`,
				class, subject).Scan(&teacher); err != nil {
				return fmt.Errorf("demo: teacher of %s in %s: %w", gs.code, c.name, err)
			}
			n := 4 + r.IntN(3)
			n = min(n, len(gs.evals))
			for i, de := range gs.evals[:n] {
				day := first.Add(time.Duration(float64(last.Sub(first)) * (float64(i) + r.Float64()*0.6) / float64(n)))
				e := grades.Evaluation{ClassID: class, SubjectID: subject, CreatedBy: teacher, Title: de.title,
					Date: day.Format(time.DateOnly), Scale: de.scale, Coef: de.coef}
				id, err := grades.Create(ctx, w.q, e, now.Unix())
				if err != nil {
					return fmt.Errorf("demo: evaluation %s %s: %w", gs.code, c.name, err)
				}
				marks := make(map[int64]grades.Mark, len(pupils))
				for _, p := range pupils {
					switch x := r.IntN(100); {
					case x < 4:
						marks[p] = grades.Mark{Status: grades.Absent}
					case x < 5:
						marks[p] = grades.Mark{Status: grades.Exempt}
					default:
						v := (level[p] + r.NormFloat64()*2.5) / 20 * float64(de.scale)
						// Half points, within the scale.
						q := int(v*2+0.5) * 2
						marks[p] = grades.Mark{Status: grades.Graded, Quarters: max(0, min(q, 4*de.scale))}
					}
				}
				if err := grades.SeedMarks(ctx, w.q, id, teacher, marks, now.Unix()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
