package web

import (
	"testing"
	"time"

	livestore "preau/ent/live"
)

// TestWithPrior: the roll call of a lesson re-created after its node died
// adds each person's time before the crash to their time after it, keeps
// their first arrival, and keeps those who did not come back as they were
// at the crash.
func TestWithPrior(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	l := lesson{prior: map[int64]livestore.Attendance{
		3: {UserID: 3, Name: "Paul Dupont", FirstJoin: at(0), LastLeave: at(20), Total: 20 * time.Minute, Sessions: 1},
		7: {UserID: 7, Name: "Léa Martin", FirstJoin: at(1), LastLeave: at(20), Total: 16 * time.Minute, Sessions: 2},
		9: {UserID: 9, Name: "Hugo Petit", FirstJoin: at(2), LastLeave: at(20), Total: 18 * time.Minute, Sessions: 1},
	}}
	after := []livestore.Attendance{
		{UserID: 9000, Name: "Nouvelle", FirstJoin: at(22), Sessions: 1, Since: at(22)},
		// The teacher is back at 21 and still there (a journal row).
		{UserID: 3, Name: "Paul Dupont", FirstJoin: at(21), Sessions: 1, Since: at(21)},
		// Léa is back at 21 and left at 25.
		{UserID: 7, Name: "Léa Martin", FirstJoin: at(21), LastLeave: at(25), Total: 4 * time.Minute, Sessions: 1},
	}
	got := l.withPrior(after)
	if len(got) != 4 {
		t.Fatalf("withPrior = %+v, want 4 rows", got)
	}
	byUser := map[int64]livestore.Attendance{}
	for i, a := range got {
		if i > 0 && got[i-1].UserID >= a.UserID {
			t.Errorf("rows not ordered by user: %+v", got)
		}
		byUser[a.UserID] = a
	}
	if a := byUser[3]; !a.FirstJoin.Equal(at(0)) || a.Total != 20*time.Minute || a.Sessions != 2 || !a.Since.Equal(at(21)) || !a.LastLeave.IsZero() {
		t.Errorf("the teacher: %+v", a)
	}
	if a := byUser[7]; !a.FirstJoin.Equal(at(1)) || a.Total != 20*time.Minute || a.Sessions != 3 || !a.LastLeave.Equal(at(25)) {
		t.Errorf("Léa: %+v", a)
	}
	if a := byUser[9]; a != l.prior[9] {
		t.Errorf("Hugo, who did not come back: %+v, want %+v", a, l.prior[9])
	}
	if a := byUser[9000]; a != after[0] {
		t.Errorf("a newcomer after the crash: %+v, want %+v", a, after[0])
	}
	// A lesson that was not re-created: rows as they are.
	if got := (&lesson{}).withPrior(after); len(got) != 3 || got[0] != after[0] {
		t.Errorf("withPrior without prior = %+v", got)
	}
}
