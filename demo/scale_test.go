package demo

import (
	"context"
	"errors"
	"testing"

	"preau/db"
	"preau/identity"
	"preau/internal/dbtest"
)

// TestScale generates a small département and checks what it holds: the
// counts Scale reports are the rows written, the benchmark's parent has two
// children in two collèges, its teacher several classes, every class a
// term of grades.
func TestScale(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		res, err := Scale(ctx, d, testHasher(), ScaleOptions{Pupils: 900, Colleges: 4, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := d.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		if res.Colleges != 3 || count(`SELECT COUNT(*) FROM structures WHERE kind = 'college'`) != 4 {
			t.Errorf("collèges: %d generated, %d in all; want 3 and 4", res.Colleges, count(`SELECT COUNT(*) FROM structures WHERE kind = 'college'`))
		}
		if pupils := count(`SELECT COUNT(*) FROM roles WHERE profile = ?`, string(identity.Pupil)); pupils != 900 {
			t.Errorf("pupils: %d, want 900 (generated %d)", pupils, res.Pupils)
		}
		if res.Classes < 3*4 || res.Classes > 3*20 {
			t.Errorf("classes: %d for %d pupils", res.Classes, res.Pupils)
		}
		demo := 0
		for _, c := range collegeClasses {
			demo += c.size
		}
		if got := count(`SELECT COUNT(*) FROM enrolments`); got != res.Pupils+demo {
			t.Errorf("enrolments: %d, want %d", got, res.Pupils+demo)
		}
		// Every generated pupil has one or two guardians, and some
		// families have two children.
		if n := count(`SELECT COUNT(*) FROM users u JOIN roles r ON r.user_id = u.id AND r.profile = 'eleve'
			WHERE NOT EXISTS (SELECT 1 FROM guardianships g WHERE g.child_id = u.id)`); n != 0 {
			t.Errorf("%d pupils without a guardian", n)
		}
		if n := count(`SELECT COUNT(*) FROM (SELECT parent_id FROM guardianships GROUP BY parent_id HAVING COUNT(*) = 2) x`); n < 10 {
			t.Errorf("only %d parents of two children", n)
		}
		if res.Parent == "" || res.Children[0] == 0 || res.Children[1] == 0 {
			t.Fatalf("no benchmark parent: %+v", res)
		}
		if n := count(`SELECT COUNT(DISTINCT c.structure_id) FROM guardianships g JOIN users u ON u.id = g.parent_id
			JOIN enrolments e ON e.user_id = g.child_id JOIN classes c ON c.id = e.class_id WHERE u.login = ?`, res.Parent); n != 2 {
			t.Errorf("the benchmark parent's children are in %d collèges, want 2", n)
		}
		if n := count(`SELECT COUNT(*) FROM roles r JOIN users u ON u.id = r.user_id WHERE u.login = ? AND r.profile = 'parent'`, res.Parent); n != 2 {
			t.Errorf("the benchmark parent has %d parent roles, want one per collège", n)
		}
		if n := count(`SELECT COUNT(*) FROM teachings t JOIN users u ON u.id = t.teacher_id WHERE u.login = ?`, res.Teacher); n < 2 {
			t.Errorf("the benchmark teacher teaches %d classes", n)
		}
		if n := count(`SELECT COUNT(*) FROM teachings t JOIN users u ON u.id = t.teacher_id
			WHERE u.login = ? AND t.class_id = ? AND t.subject_id = ?`, res.Teacher, res.ClassID, res.SubjectID); n != 1 {
			t.Errorf("the benchmark teacher does not teach class %d subject %d", res.ClassID, res.SubjectID)
		}
		if res.Teachers < 3*20 {
			t.Errorf("teachers: %d", res.Teachers)
		}
		// A term of grades: six evaluations in each of nine subjects (eight
		// in 6e, without Spanish), every pupil of the class marked.
		if got := count(`SELECT COUNT(*) FROM grade_evaluations e JOIN structures s ON s.id = e.structure_id WHERE s.uai <> ?`,
			College.UAI); got != res.Evaluations || got < res.Classes*6*8 {
			t.Errorf("evaluations: %d rows, %d reported, %d classes", got, res.Evaluations, res.Classes)
		}
		if got := count(`SELECT COUNT(*) FROM grades g JOIN grade_evaluations e ON e.id = g.evaluation_id
			JOIN structures s ON s.id = e.structure_id WHERE s.uai <> ?`, College.UAI); got != res.Grades || got < res.Pupils*6*8 {
			t.Errorf("grades: %d rows, %d reported, %d pupils", got, res.Grades, res.Pupils)
		}
		if n := count(`SELECT COUNT(*) FROM grades WHERE status = 'note' AND quarters > 0`); n < res.Grades*8/10 {
			t.Errorf("only %d of %d grades are values", n, res.Grades)
		}
		notDemo := ` JOIN structures s ON s.id = c.structure_id WHERE s.uai <> ?`
		for _, c := range []struct {
			q    string
			want int
		}{
			{`SELECT COUNT(*) FROM timetable_slots t JOIN classes c ON c.id = t.class_id` + notDemo, res.Slots},
			{`SELECT COUNT(*) FROM homework_entries c` + notDemo, res.Homework},
			{`SELECT COUNT(*) FROM absences c` + notDemo, res.Absences},
			{`SELECT COUNT(*) FROM notices c` + notDemo, res.Notices},
		} {
			if got := count(c.q, College.UAI); c.want == 0 || got != c.want {
				t.Errorf("%s: %d rows, %d reported", c.q, got, c.want)
			}
		}
		// Nobody teaches two classes at once, and each class has most of its
		// weekly hours.
		if n := count(`SELECT COUNT(*) FROM timetable_slots a JOIN timetable_slots b ON a.teacher_id = b.teacher_id
			AND a.weekday = b.weekday AND a.id < b.id AND a.start_min < b.end_min AND b.start_min < a.end_min`); n != 0 {
			t.Errorf("%d pairs of a teacher's slots overlap", n)
		}
		if res.Slots < res.Classes*22 {
			t.Errorf("%d timetable slots for %d classes: fewer than 22 hours a week each", res.Slots, res.Classes)
		}
		// The ids chosen by Scale left the sequences behind them: a new
		// row gets a fresh id.
		if _, err := d.Exec(ctx, `INSERT INTO users (login, first_name, last_name, created_at) VALUES ('apres.scale', 'A', 'B', 0)`); err != nil {
			t.Errorf("insert after Scale: %v", err)
		}
		if _, err := Scale(ctx, d, testHasher(), ScaleOptions{Pupils: 900, Colleges: 4, Now: testNow}); !errors.Is(err, ErrScaled) {
			t.Errorf("second Scale: %v, want ErrScaled", err)
		}
	})
}
