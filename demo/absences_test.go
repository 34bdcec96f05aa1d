package demo

import (
	"context"
	"testing"
	"time"

	"preau/chat"
	"preau/ent/absences"
	"preau/ent/directory"
	"preau/ent/timetable"
	"preau/internal/dbtest"
)

// TestDemoAbsences: every demo class has absences and lates this term,
// eleve.demo has exactly one unjustified absence for parent.demo to
// justify, and parent.demo finds the notifications in "Vie scolaire — Léa
// Martin".
func TestDemoAbsences(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, timetable.Paris)
	res, err := Seed(ctx, d, testHasher(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	st := absences.New(d)
	all, err := st.List(ctx, absences.Filter{Structure: res.Structure.ID, From: "2026-09-01", To: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	perClass := map[string]int{}
	var lates int
	for _, r := range all {
		perClass[r.ClassName]++
		if r.Kind == absences.Late {
			lates++
		}
		if r.Date >= "2026-11-28" || r.Subject == "" {
			t.Errorf("record %+v", r)
		}
	}
	if len(perClass) != 4 || lates == 0 {
		t.Errorf("records per class %v, %d lates", perClass, lates)
	}
	lea, err := directory.PersonBy(ctx, d, "login", "eleve.demo")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := st.List(ctx, absences.Filter{Pupils: []int64{lea.ID}, Status: absences.Unjustified})
	if err != nil || len(mine) != 1 || mine[0].Kind != absences.Absent {
		t.Fatalf("eleve.demo's unjustified records %+v %v", mine, err)
	}
	parent, err := directory.PersonBy(ctx, d, "login", "parent.demo")
	if err != nil {
		t.Fatal(err)
	}
	convs, err := chat.NewStore(d).ConversationsOf(ctx, parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range convs {
		if c.Title == "Vie scolaire — Léa Martin" && c.Unread >= 2 && c.CreatedBy == 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("parent.demo's conversations %+v", convs)
	}
}
