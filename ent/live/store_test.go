package live_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/live"
	"preau/internal/dbtest"
)

// TestStore saves finished lessons with their roll call and reads them back,
// on SQLite and PostgreSQL.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var college, other, class int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if college, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège", Kind: directory.College, Commune: "Orléans"}); err != nil {
				return err
			}
			if other, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450002B", Name: "Lycée", Kind: directory.Lycee, Commune: "Orléans"}); err != nil {
				return err
			}
			y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
			if err != nil {
				return err
			}
			class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: college, YearID: y, Name: "3e A"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		s := live.NewStore(d)
		t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
		roll := []live.Attendance{
			{UserID: 7, Name: "Léa Martin", Role: "participant", FirstJoin: t0.Add(time.Minute), LastLeave: t0.Add(50 * time.Minute), Total: 40*time.Minute + 500*time.Millisecond, Sessions: 2},
			{UserID: 3, Name: "Paul Dupont", Role: "moderator", FirstJoin: t0, LastLeave: t0.Add(55 * time.Minute), Total: 55 * time.Minute, Sessions: 1},
		}
		id, err := s.Save(ctx, live.Lesson{Room: "cours-1", Structure: college, ClassID: class, StartedBy: 3, StartedAt: t0, EndedAt: t0.Add(55 * time.Minute)}, roll)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(ctx, live.Lesson{Room: "cours-1", Structure: college, ClassID: class, StartedBy: 3, StartedAt: t0, EndedAt: t0}, nil); err == nil {
			t.Fatal("the same room saved twice")
		}
		later, err := s.Save(ctx, live.Lesson{Room: "cours-2", Structure: college, ClassID: class, StartedBy: 3, StartedAt: t0.Add(24 * time.Hour), EndedAt: t0.Add(25 * time.Hour)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.Lesson(ctx, id)
		if err != nil || l.Room != "cours-1" || !l.StartedAt.Equal(t0) || !l.EndedAt.Equal(t0.Add(55*time.Minute)) || l.ClassID != class {
			t.Fatalf("Lesson = %+v, %v", l, err)
		}
		if _, err := s.Lesson(ctx, 9999); err != live.ErrNotFound {
			t.Fatalf("missing lesson: %v", err)
		}
		got, err := s.Roll(ctx, id)
		if err != nil || len(got) != 2 || got[0].Name != "Léa Martin" || got[0].Total != 40*time.Minute+500*time.Millisecond ||
			got[0].Sessions != 2 || !got[0].LastLeave.Equal(t0.Add(50*time.Minute)) || got[1].Role != "moderator" {
			t.Fatalf("Roll = %+v, %v", got, err)
		}
		recent, err := s.Recent(ctx, []int64{college}, 10)
		if err != nil || len(recent) != 2 || recent[0].ID != later || recent[1].ID != id || recent[0].People != 0 || recent[1].People != 2 {
			t.Fatalf("Recent(college) = %+v, %v", recent, err)
		}
		if r, err := s.Recent(ctx, []int64{other}, 10); err != nil || len(r) != 0 {
			t.Fatalf("Recent(other) = %+v, %v", r, err)
		}
		if r, err := s.Recent(ctx, nil, 1); err != nil || len(r) != 1 {
			t.Fatalf("Recent(all, 1) = %+v, %v", r, err)
		}
	})
}

// TestWriteCSV: BOM, French headers, semicolons, local times, minutes
// rounded up, formulas defused.
func TestWriteCSV(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data")
	}
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	err = live.WriteCSV(&buf, []live.Attendance{
		{UserID: 7, Name: "Léa Martin", Role: "participant", FirstJoin: t0, LastLeave: t0.Add(time.Hour), Total: 40*time.Minute + 20*time.Second, Sessions: 2},
		{UserID: 8, Name: "=HYPERLINK(\"x\")", Role: "moderator", FirstJoin: t0, LastLeave: t0, Total: 0, Sessions: 1},
	}, paris)
	if err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 BOM")
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Nom", "Identifiant", "Rôle", "Première arrivée", "Dernier départ", "Durée totale (min)", "Connexions"},
		{"Léa Martin", "7", "Participant", "30/11/2026 09:00", "30/11/2026 10:00", "41", "2"},
		{"'=HYPERLINK(\"x\")", "8", "Enseignant", "30/11/2026 09:00", "30/11/2026 09:00", "0", "1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("lines do not end with CRLF")
	}
}

// TestJournal: a running lesson is written as it goes (Start, Checkpoint);
// it is not listed until finished; a sweep closes a lesson whose heartbeat
// is stale as interrupted, its open sessions counted up to the heartbeat; a
// checkpoint after the end is refused (ErrClosed); Save finishes a journaled
// lesson in place. On SQLite and PostgreSQL.
func TestJournal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var college, class int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if college, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège", Kind: directory.College, Commune: "Orléans"}); err != nil {
				return err
			}
			y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
			if err != nil {
				return err
			}
			class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: college, YearID: y, Name: "3e A"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		s := live.NewStore(d)
		t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

		// A lesson whose node dies at minute 20.
		dead := live.Lesson{Room: "cours-dead", Structure: college, ClassID: class, StartedBy: 3, StartedAt: t0}
		id, err := s.Start(ctx, dead)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := s.Start(ctx, dead); err != nil || again != id {
			t.Fatalf("Start again = %d, %v; want %d", again, err, id)
		}
		teacher := live.Attendance{UserID: 3, Name: "Paul Dupont", Role: "moderator", FirstJoin: t0, Sessions: 1, Since: t0}
		lea := live.Attendance{UserID: 7, Name: "Léa Martin", Role: "participant", FirstJoin: at(1), Sessions: 1, Since: at(1)}
		if err := s.Checkpoint(ctx, id, at(1), []live.Attendance{teacher, lea}); err != nil {
			t.Fatal(err)
		}
		// Léa leaves at 5 and comes back at 8.
		lea = live.Attendance{UserID: 7, Name: "Léa Martin", Role: "participant", FirstJoin: at(1), LastLeave: at(5), Total: 4 * time.Minute, Sessions: 1}
		if err := s.Checkpoint(ctx, id, at(5), []live.Attendance{lea}); err != nil {
			t.Fatal(err)
		}
		lea.Sessions, lea.Since = 2, at(8)
		if err := s.Checkpoint(ctx, id, at(8), []live.Attendance{lea}); err != nil {
			t.Fatal(err)
		}
		if err := s.Checkpoint(ctx, id, at(20), nil); err != nil { // the last heartbeat
			t.Fatal(err)
		}
		if r, err := s.Recent(ctx, nil, 10); err != nil || len(r) != 0 {
			t.Fatalf("a running lesson is listed: %+v, %v", r, err)
		}
		if l, err := s.Lesson(ctx, id); err != nil || l.Status != live.StatusRunning || !l.EndedAt.IsZero() || !l.Heartbeat.Equal(at(20)) {
			t.Fatalf("running Lesson = %+v, %v", l, err)
		}

		// A lesson still beating at minute 30, then ended cleanly.
		alive := live.Lesson{Room: "cours-alive", Structure: college, ClassID: class, StartedBy: 3, StartedAt: at(25)}
		aliveID, err := s.Start(ctx, alive)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Checkpoint(ctx, aliveID, at(30), []live.Attendance{{UserID: 3, Name: "Paul Dupont", Role: "moderator", FirstJoin: at(25), Sessions: 1, Since: at(25)}}); err != nil {
			t.Fatal(err)
		}

		// Running finds a running lesson by its room, the dead one too until
		// a sweep closes it (a live node may re-create its room).
		if l, err := s.Running(ctx, "cours-dead"); err != nil || l.ID != id {
			t.Fatalf("Running(cours-dead) before the sweep = %+v, %v; want lesson %d", l, err, id)
		}
		if _, err := s.Running(ctx, "cours-none"); err != live.ErrNotFound {
			t.Fatalf("Running of an unknown room: %v, want ErrNotFound", err)
		}

		// The sweep at minute 31, two minutes of silence allowed: only the
		// dead lesson is closed, at its last heartbeat.
		if n, err := s.Sweep(ctx, at(29)); err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want 1", n, err)
		}
		l, err := s.Lesson(ctx, id)
		if err != nil || l.Status != live.StatusInterrupted || !l.EndedAt.Equal(at(20)) {
			t.Fatalf("interrupted Lesson = %+v, %v", l, err)
		}
		if err := s.Checkpoint(ctx, id, at(21), nil); err != live.ErrClosed {
			t.Fatalf("checkpoint of an interrupted lesson: %v, want ErrClosed", err)
		}
		if _, err := s.Running(ctx, "cours-dead"); err != live.ErrNotFound {
			t.Fatalf("Running of an interrupted lesson: %v, want ErrNotFound", err)
		}
		roll, err := s.Roll(ctx, id)
		if err != nil || len(roll) != 2 {
			t.Fatalf("Roll = %+v, %v", roll, err)
		}
		// Léa: 4 min, then 8 → 20; the teacher: 0 → 20; both "left" at 20.
		if a := roll[0]; a.Name != "Léa Martin" || a.Total != 16*time.Minute || a.Sessions != 2 || !a.LastLeave.Equal(at(20)) || !a.FirstJoin.Equal(at(1)) {
			t.Errorf("Léa's row %+v", a)
		}
		if a := roll[1]; a.Name != "Paul Dupont" || a.Total != 20*time.Minute || !a.LastLeave.Equal(at(20)) {
			t.Errorf("the teacher's row %+v", a)
		}
		recent, err := s.Recent(ctx, nil, 10)
		if err != nil || len(recent) != 1 || recent[0].ID != id || recent[0].People != 2 {
			t.Fatalf("Recent after the sweep = %+v, %v", recent, err)
		}

		// The live lesson ends cleanly: Save finishes it in place.
		final := []live.Attendance{{UserID: 3, Name: "Paul Dupont", Role: "moderator", FirstJoin: at(25), LastLeave: at(40), Total: 15 * time.Minute, Sessions: 1}}
		alive.EndedAt = at(40)
		if got, err := s.Save(ctx, alive, final); err != nil || got != aliveID {
			t.Fatalf("Save of a journaled lesson = %d, %v; want %d", got, err, aliveID)
		}
		if err := s.Checkpoint(ctx, aliveID, at(41), nil); err != live.ErrClosed {
			t.Fatalf("checkpoint after the end: %v, want ErrClosed", err)
		}
		if _, err := s.Save(ctx, alive, final); err == nil {
			t.Fatal("an ended lesson saved twice")
		}
		l, err = s.Lesson(ctx, aliveID)
		if err != nil || l.Status != live.StatusEnded || !l.EndedAt.Equal(at(40)) {
			t.Fatalf("ended Lesson = %+v, %v", l, err)
		}
		if roll, err := s.Roll(ctx, aliveID); err != nil || len(roll) != 1 || roll[0].Total != 15*time.Minute || !roll[0].LastLeave.Equal(at(40)) {
			t.Fatalf("final Roll = %+v, %v", roll, err)
		}
	})
}
