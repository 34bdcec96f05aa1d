package help

import (
	"context"
	"errors"
	"strings"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

func TestHelp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		var a, b int64
		err := d.InTx(ctx, func(tx *db.Tx) (err error) {
			if a, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450201A", Name: "A", Kind: directory.College}); err != nil {
				return err
			}
			b, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450202B", Name: "B", Kind: directory.College})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// Settings: Préau's default until set; bad input refused.
		if st, err := s.Settings(ctx); err != nil || st != DefaultSettings {
			t.Fatalf("default settings %+v %v", st, err)
		}
		for _, bad := range []Settings{{Phone: "", Hours: "x"}, {Phone: "01", Hours: strings.Repeat("h", 201)}, {Phone: "01", Hours: "x", Email: "pas une adresse"}, {Phone: "0\x001", Hours: "x"}} {
			var inv *Invalid
			if _, err := s.SetSettings(ctx, bad); !errors.As(err, &inv) {
				t.Errorf("settings %+v: %v", bad, err)
			}
		}
		want := Settings{Phone: "02 38 00 00 00", Hours: "du lundi au vendredi, 9 h – 12 h", Email: "assistance@ent.example.fr"}
		for range 2 { // set, then set again (upsert)
			if _, err := s.SetSettings(ctx, want); err != nil {
				t.Fatal(err)
			}
		}
		if st, _ := s.Settings(ctx); st != want {
			t.Errorf("settings %+v", st)
		}
		// Requests.
		for _, bad := range []Request{
			{Name: "", Contact: "x", Topic: "autre", Message: "m"},
			{Name: "n", Contact: "x", Topic: "météo", Message: "m"},
			{Name: "n", Contact: "x", Topic: "autre", Message: strings.Repeat("m", MaxMessage+1)},
			{Name: "n", Contact: "x", Topic: "autre", Message: "  "},
		} {
			var inv *Invalid
			if _, err := s.Create(ctx, bad); !errors.As(err, &inv) {
				t.Errorf("request %+v: %v", bad, err)
			}
		}
		r1, err := s.Create(ctx, Request{StructureID: a, UserID: 0, Name: "Mme Martin", Contact: "06 00 00 00 00", Topic: "connexion", Message: "Je n'ai pas reçu de code."})
		if err != nil || r1.Status != Open {
			t.Fatalf("create: %+v %v", r1, err)
		}
		r2, _ := s.Create(ctx, Request{StructureID: b, Name: "M. Petit", Contact: "p@example.fr", Topic: "direct", Message: "Pas de son."})
		r3, _ := s.Create(ctx, Request{Name: "Quelqu'un", Contact: "q@example.fr", Topic: "autre", Message: "?"})
		if q, _ := s.Queue(ctx, []int64{a}, false, ""); len(q) != 1 || q[0].ID != r1.ID {
			t.Errorf("queue of A: %+v", q)
		}
		if q, _ := s.Queue(ctx, nil, true, ""); len(q) != 3 {
			t.Errorf("whole queue: %d", len(q))
		}
		if q, _ := s.Queue(ctx, nil, false, ""); len(q) != 0 {
			t.Errorf("no school, not all: %d", len(q))
		}
		got, err := s.Answer(ctx, r2.ID, Resolved, "Vérifiez que le navigateur a accès au micro.", 9)
		if err != nil || got.Status != Resolved || got.Reply == "" {
			t.Fatalf("answer: %+v %v", got, err)
		}
		if q, _ := s.Queue(ctx, nil, true, ""); q[len(q)-1].ID != r2.ID {
			t.Errorf("resolved request not last: %+v", q)
		}
		if q, _ := s.Queue(ctx, nil, true, Open); len(q) != 2 {
			t.Errorf("open requests: %d", len(q))
		}
		var inv *Invalid
		if _, err := s.Answer(ctx, r3.ID, "perdue", "", 9); !errors.As(err, &inv) {
			t.Errorf("bad status: %v", err)
		}
		if _, err := s.Answer(ctx, 99999, Resolved, "", 9); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown request: %v", err)
		}
	})
}
