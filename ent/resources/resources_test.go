package resources

import (
	"context"
	"errors"
	"testing"
	"time"

	"preau/db"
	"preau/identity"
	"preau/internal/dbtest"
)

func titles(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Title)
	}
	return out
}

func TestCatalogues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d)
		media, err := s.List(ctx, Media)
		if err != nil || len(media) != 3 || media[0].Title != "Pix" {
			t.Fatalf("seeded media: %v %v", titles(media), err)
		}
		tele, _ := s.List(ctx, Teleservice)
		if len(tele) != 4 {
			t.Fatalf("seeded tele-services: %v", titles(tele))
		}
		pupil := Audience{Profiles: []identity.Profile{identity.Pupil}, Levels: []string{"3e"}}
		if got := titles(For(media, pupil)); len(got) != 2 || got[0] != "Pix" || got[1] != "Lumni" {
			t.Errorf("a pupil's media: %v", got)
		}
		parent6e := Audience{Profiles: []identity.Profile{identity.Parent}, Levels: []string{"6e"}}
		if got := titles(For(tele, parent6e)); len(got) != 1 || got[0] != "Bourse de collège" {
			t.Errorf("a parent of a 6e pupil: %v", got)
		}
		if got := For(tele, Audience{Profiles: []identity.Profile{identity.Parent}, Levels: []string{"6e", "3e"}}); len(got) != 4 {
			t.Errorf("a parent of 6e and 3e pupils: %v", titles(got))
		}
		if got := For(media, Audience{Profiles: []identity.Profile{identity.Teacher}}); len(got) != 3 {
			t.Errorf("a teacher's media: %v", titles(got))
		}
		// Windows, over the new year too.
		day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
		bourse := tele[0]
		if !bourse.InWindow(day("2026-09-01")) || !bourse.InWindow(day("2026-10-31")) || bourse.InWindow(day("2026-11-01")) {
			t.Error("scholarship window")
		}
		if w := bourse.FrWindow(); w != "du 1er septembre au 31 octobre" {
			t.Errorf("FrWindow %q", w)
		}
		winter := Entry{From: "11-15", To: "02-15"}
		if !winter.InWindow(day("2026-12-25")) || !winter.InWindow(day("2027-01-10")) || winter.InWindow(day("2026-03-01")) {
			t.Error("window over the new year")
		}
		if !(Entry{}).InWindow(day("2026-07-14")) {
			t.Error("no window: always")
		}
		// Saving.
		for _, bad := range []Entry{
			{Kind: Media, Title: "", URL: "https://x.fr"},
			{Kind: Media, Title: "X", URL: "http://x.fr"},
			{Kind: Media, Title: "X", URL: "javascript:alert(1)"},
			{Kind: Media, Title: "X", URL: "https://user:pw@x.fr"},
			{Kind: Media, Title: "X", URL: "https://x.fr", Profiles: []identity.Profile{"pirate"}},
			{Kind: Media, Title: "X", URL: "https://x.fr", Levels: []string{"CM2"}},
			{Kind: Teleservice, Title: "X", URL: "https://x.fr", From: "09-01"},
			{Kind: Teleservice, Title: "X", URL: "https://x.fr", From: "13-01", To: "14-01"},
			{Kind: "autre", Title: "X", URL: "https://x.fr"},
		} {
			var inv *Invalid
			if _, err := s.Save(ctx, bad); !errors.As(err, &inv) {
				t.Errorf("save %+v: %v", bad, err)
			}
		}
		e, err := s.Save(ctx, Entry{Kind: Media, Title: " Canopé ", URL: "https://www.reseau-canope.fr", Levels: []string{"6e"}, Position: 9})
		if err != nil || e.ID == 0 || e.Title != "Canopé" {
			t.Fatalf("save: %+v %v", e, err)
		}
		e.Description = "Ressources du réseau Canopé."
		if _, err := s.Save(ctx, e); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, Media, e.ID); got.Description != e.Description || len(got.Levels) != 1 {
			t.Errorf("after update: %+v", got)
		}
		if _, err := s.Get(ctx, Teleservice, e.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("media read as a tele-service: %v", err)
		}
		if err := s.Delete(ctx, Teleservice, e.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete with the wrong kind: %v", err)
		}
		if err := s.Delete(ctx, Media, e.ID); err != nil {
			t.Fatal(err)
		}
	})
}
