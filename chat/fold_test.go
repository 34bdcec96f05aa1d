package chat

import (
	"context"
	"testing"

	"preau/db"
	"preau/internal/dbtest"
)

func TestFold(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Élève", "eleve"},
		{"ÉLÈVE", "eleve"},
		{"e\u0301le\u0300ve", "eleve"}, // decomposed input
		{"Cœur, Æsop, Straße", "coeur, aesop, strasse"},
		{"Ça coûte 100 % ?", "ca coute 100 % ?"},
		{"naïve 3e B", "naive 3e b"},
		{"", ""},
	} {
		if got := Fold(c.in); got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSearchFolded: search ignores case and accents on both databases, in
// both directions; LIKE's wildcards stay literal; an edit is searched by
// its new text; rows stored before the folded column (folded = 0) are
// folded on the next search.
func TestSearchFolded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		conv := classChannel(t, s, f)
		post := func(id, body string) Message {
			t.Helper()
			m, err := s.Post(ctx, conv.ID, f.teacher, id, body)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		post("t1", "Élève absent : l'Œuvre est à rendre")
		edited := post("t2", "Réunion à 18 h")
		post("t3", "Remise à 100_% des notes")
		// A row as written before migration 0009: no fold yet.
		if _, err := d.Exec(ctx, "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, created_at_ms) VALUES (?, 4, ?, 'old', 'Sortie au THÉÂTRE', 1)",
			conv.ID, f.teacher); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, "UPDATE conversations SET last_seq = 4 WHERE id = ?", conv.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Edit(ctx, conv.ID, edited.Seq, f.teacher, "Conseil à 18 h"); err != nil {
			t.Fatal(err)
		}
		search := func(q string) []int64 {
			t.Helper()
			found, err := s.Search(ctx, f.pupilA, q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, m := range found {
				seqs = append(seqs, m.Seq)
			}
			return seqs
		}
		for q, want := range map[string][]int64{
			"eleve": {1}, "ÉLÈVE": {1}, "élève": {1}, "oeuvre": {1}, "œuvre": {1},
			"theatre": {4}, "Théâtre": {4},
			"reunion": nil, "conseil": {2},
			"100_%": {3}, "_": {3}, "conse_l": nil, "%": {3}, "0_% d": {3}, "1%0": nil,
		} {
			if got := search(q); len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
				t.Errorf("search %q: seqs %v, want %v", q, got, want)
			}
		}
		var pending int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM messages WHERE folded = 0").Scan(&pending); err != nil || pending != 0 {
			t.Fatalf("%d rows left unfolded (%v)", pending, err)
		}
		// Another member's search does not reach a conversation they are not in.
		if found, err := s.Search(ctx, f.outsider, "eleve", 0); err != nil || len(found) != 0 {
			t.Fatalf("outsider found %v %v", found, err)
		}
	})
}
