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
