package courses

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

func TestCheck(t *testing.T) {
	c := Course{Title: "  Les fractions ", Summary: "Cours de 6e.\r\nBon travail."}
	if err := c.Check(); err != nil || c.Title != "Les fractions" || c.Summary != "Cours de 6e.\nBon travail." {
		t.Fatalf("course %+v %v", c, err)
	}
	it := Item{Kind: Link, Title: "Site", URL: " https://exemple.fr/a ", Body: "ignored"}
	if err := it.Check(); err != nil || it.URL != "https://exemple.fr/a" || it.Body != "" {
		t.Fatalf("link %+v %v", it, err)
	}
	live := Item{Kind: Live, Title: "Classe virtuelle"}
	if err := live.Check(); err != nil {
		t.Errorf("live item without a recording: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		check      func() error
	}{
		{"empty course title", "le titre du cours est obligatoire", func() error { c := Course{Title: " "}; return c.Check() }},
		{"long course title", "200 caractères au plus", func() error { c := Course{Title: strings.Repeat("é", MaxTitle+1)}; return c.Check() }},
		{"control in title", "caractères non autorisés", func() error { c := Course{Title: "a\x00b"}; return c.Check() }},
		{"newline in title", "caractères non autorisés", func() error { c := Course{Title: "a\nb"}; return c.Check() }},
		{"long summary", "2000 caractères au plus", func() error { c := Course{Title: "x", Summary: strings.Repeat("x", MaxSummary+1)}; return c.Check() }},
		{"empty chapter title", "le titre du chapitre est obligatoire", func() error { ch := Chapter{}; return ch.Check() }},
		{"empty item title", "le titre de l'élément est obligatoire", func() error { it := Item{Kind: Text, Body: "x"}; return it.Check() }},
		{"unknown kind", "type d'élément inconnu", func() error { it := Item{Kind: "video", Title: "x"}; return it.Check() }},
		{"empty text", "le texte est vide", func() error { it := Item{Kind: Text, Title: "x", Body: "\n "}; return it.Check() }},
		{"text over 100 KB", "100 Ko au plus", func() error {
			it := Item{Kind: Text, Title: "x", Body: strings.Repeat("a", MaxText+1)}
			return it.Check()
		}},
		{"bad UTF-8 text", "caractères non autorisés", func() error { it := Item{Kind: Text, Title: "x", Body: "\xff"}; return it.Check() }},
		{"link without address", "l'adresse du lien est obligatoire", func() error { it := Item{Kind: Link, Title: "x"}; return it.Check() }},
		{"javascript link", "http:// ou https://", func() error { it := Item{Kind: Link, Title: "x", URL: "javascript:alert(1)"}; return it.Check() }},
		{"data link", "http:// ou https://", func() error { it := Item{Kind: Link, Title: "x", URL: "data:text/html,<script>"}; return it.Check() }},
		{"ftp link", "http:// ou https://", func() error { it := Item{Kind: Link, Title: "x", URL: "ftp://exemple.fr/"}; return it.Check() }},
		{"link without host", "http:// ou https://", func() error { it := Item{Kind: Link, Title: "x", URL: "https:///chemin"}; return it.Check() }},
		{"link with a space", "http:// ou https://", func() error { it := Item{Kind: Link, Title: "x", URL: "https://a.fr/ b"}; return it.Check() }},
		{"long link", "2000 caractères au plus", func() error {
			it := Item{Kind: Link, Title: "x", URL: "https://a.fr/" + strings.Repeat("a", MaxURL)}
			return it.Check()
		}},
		{"file without file", "choisissez un fichier", func() error { it := Item{Kind: File, Title: "x"}; return it.Check() }},
		{"large file", "10 Mo au plus", func() error {
			it := Item{Kind: File, Title: "x", FileID: 1, Version: 1, FileName: "a.pdf", FileSize: MaxFileSize + 1}
			return it.Check()
		}},
	} {
		err := tc.check()
		var inv *Invalid
		if !errors.As(err, &inv) || !strings.Contains(inv.Msg, tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// fixture is a school with a class and a class of last year, a teacher of
// both and a pupil.
type fixture struct {
	class, other, lastYear, teacher, pupil int64
}

func setUp(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	var f fixture
	err := d.InTx(ctx, func(tx *db.Tx) error {
		st, err := directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège Test", Kind: directory.College})
		if err != nil {
			return err
		}
		y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
		if err != nil {
			return err
		}
		old, err := directory.EnsureYear(ctx, tx, directory.YearFor("2025-2026", false))
		if err != nil {
			return err
		}
		if f.class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "5e A"}); err != nil {
			return err
		}
		if f.other, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "5e B"}); err != nil {
			return err
		}
		if f.lastYear, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: old, Name: "6e A"}); err != nil {
			return err
		}
		maths, err := directory.EnsureSubject(ctx, tx, "MATHS", "Mathématiques")
		if err != nil {
			return err
		}
		p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Paul", LastName: "Dupont"})
		if err != nil {
			return err
		}
		f.teacher = p.ID
		if err := directory.AddRole(ctx, tx, f.teacher, st, identity.Teacher, ""); err != nil {
			return err
		}
		for _, c := range []int64{f.class, f.lastYear} {
			if err := directory.AddTeaching(ctx, tx, f.teacher, c, maths); err != nil {
				return err
			}
		}
		if p, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Léa", LastName: "Martin"}); err != nil {
			return err
		}
		f.pupil = p.ID
		return directory.Enrol(ctx, tx, f.pupil, f.class)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestStore writes, reads, orders, publishes and deletes courses,
// chapters and items on both databases.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setUp(t, d)
		for _, tc := range []struct {
			class int64
			want  bool
		}{{f.class, true}, {f.other, false}, {f.lastYear, false}} {
			if ok, err := Teaches(ctx, d, f.teacher, tc.class); err != nil || ok != tc.want {
				t.Errorf("Teaches(%d) = %v %v, want %v", tc.class, ok, err, tc.want)
			}
		}
		s := New(d)
		clock := time.Unix(1_780_000_000, 0)
		s.now = func() time.Time { return clock }
		c, err := s.Create(ctx, Course{ClassID: f.class, AuthorID: f.teacher, Title: "Les fractions", Summary: "Chapitre 3"})
		if err != nil {
			t.Fatal(err)
		}
		if c.ClassName != "5e A" || c.AuthorName != "Paul Dupont" || c.StructureID == 0 || c.Published != 0 || len(c.Chapters) != 0 {
			t.Fatalf("created %+v", c)
		}
		if _, err := s.Create(ctx, Course{ClassID: 99999, AuthorID: f.teacher, Title: "x"}); err == nil {
			t.Error("course of an unknown class accepted")
		}
		var inv *Invalid
		if _, err := s.Create(ctx, Course{ClassID: f.class, AuthorID: f.teacher}); !errors.As(err, &inv) {
			t.Errorf("course without a title: %v", err)
		}

		ch1, err := s.AddChapter(ctx, c.ID, Chapter{Title: "Découvrir"})
		if err != nil {
			t.Fatal(err)
		}
		ch2, err := s.AddChapter(ctx, c.ID, Chapter{Title: "S'entraîner"})
		if err != nil {
			t.Fatal(err)
		}
		ch3, err := s.AddChapter(ctx, c.ID, Chapter{Title: "Évaluer"})
		if err != nil {
			t.Fatal(err)
		}
		if ch1.Position != 1 || ch2.Position != 2 || ch3.Position != 3 || ch2.CourseID != c.ID {
			t.Fatalf("chapters %+v %+v %+v", ch1, ch2, ch3)
		}
		text, err := s.AddItem(ctx, ch1.ID, Item{Kind: Text, Title: "Leçon", Body: "# Une fraction\n\nc'est un partage."})
		if err != nil {
			t.Fatal(err)
		}
		link, err := s.AddItem(ctx, ch1.ID, Item{Kind: Link, Title: "Vidéo", URL: "https://lumni.fr/video", PublishedAt: 1})
		if err != nil {
			t.Fatal(err)
		}
		file, err := s.AddItem(ctx, ch2.ID, Item{Kind: File, Title: "Fiche", FileID: 7, Version: 2, FileName: "fiche.pdf", FileSize: 1234})
		if err != nil {
			t.Fatal(err)
		}
		if text.Published() || link.PublishedAt != clock.Unix() || text.Position != 1 || link.Position != 2 || file.FileName != "fiche.pdf" {
			t.Fatalf("items %+v %+v %+v", text, link, file)
		}
		if _, err := s.AddItem(ctx, 99999, Item{Kind: Text, Title: "x", Body: "y"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("item in no chapter: %v", err)
		}

		// Order: chapters 3, 1, 2; a wrong list is refused.
		if err := s.OrderChapters(ctx, c.ID, []int64{ch3.ID, ch1.ID, ch2.ID}); err != nil {
			t.Fatal(err)
		}
		for _, bad := range [][]int64{{ch1.ID, ch2.ID}, {ch1.ID, ch2.ID, ch2.ID}, {ch1.ID, ch2.ID, 99999}} {
			if err := s.OrderChapters(ctx, c.ID, bad); !errors.As(err, &inv) {
				t.Errorf("order %v: %v", bad, err)
			}
		}
		if err := s.OrderItems(ctx, ch1.ID, []int64{link.ID, text.ID}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Course(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Chapters) != 3 || got.Chapters[0].ID != ch3.ID || got.Chapters[1].ID != ch1.ID || got.Published != 1 ||
			len(got.Chapters[1].Items) != 2 || got.Chapters[1].Items[0].ID != link.ID {
			t.Fatalf("course %+v", got)
		}

		// What the class sees: published items and their chapters only.
		v := got.Visible(false)
		if len(v.Chapters) != 1 || v.Chapters[0].ID != ch1.ID || len(v.Chapters[0].Items) != 1 || v.Chapters[0].Items[0].ID != link.ID {
			t.Fatalf("visible %+v", v)
		}
		if len(got.Visible(true).Chapters) != 3 {
			t.Error("the author does not see the empty chapter")
		}

		// Publishing: the first time only is "first"; back to draft; again.
		clock = clock.Add(time.Hour)
		it, first, err := s.Publish(ctx, text.ID, true)
		if err != nil || !first || it.PublishedAt != clock.Unix() {
			t.Fatalf("publish: %+v %v %v", it, first, err)
		}
		if _, first, _ := s.Publish(ctx, text.ID, true); first {
			t.Error("publishing twice is first again")
		}
		if it, _, err := s.Publish(ctx, text.ID, false); err != nil || it.Published() {
			t.Errorf("unpublish: %+v %v", it, err)
		}
		if _, _, err := s.Publish(ctx, 99999, true); !errors.Is(err, ErrNotFound) {
			t.Errorf("publish nothing: %v", err)
		}

		// Changes keep the kind.
		text.Kind, text.Title, text.Body = Link, "Leçon 1", "Nouveau texte"
		if it, err := s.UpdateItem(ctx, text); err != nil || it.Kind != Text || it.Body != "Nouveau texte" || it.Title != "Leçon 1" {
			t.Errorf("update item: %+v %v", it, err)
		}
		if _, err := s.RenameChapter(ctx, ch3.ID, ""); !errors.As(err, &inv) {
			t.Errorf("empty chapter title: %v", err)
		}
		if ch, err := s.RenameChapter(ctx, ch3.ID, "Bilan"); err != nil || ch.Title != "Bilan" {
			t.Errorf("rename: %+v %v", ch, err)
		}
		c.Title = "Fractions"
		if c2, err := s.Update(ctx, c); err != nil || c2.Title != "Fractions" {
			t.Errorf("update: %+v %v", c2, err)
		}
		if list, err := s.Courses(ctx, []int64{f.class, f.other}); err != nil || len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("courses: %+v %v", list, err)
		}
		if list, _ := s.Courses(ctx, []int64{f.other}); len(list) != 0 {
			t.Errorf("another class's courses: %+v", list)
		}

		// Deletions move the rest up.
		if err := s.DeleteItem(ctx, link.ID); err != nil {
			t.Fatal(err)
		}
		if it, _ := s.Item(ctx, text.ID); it.Position != 1 {
			t.Errorf("item after a deletion at %d", it.Position)
		}
		if err := s.DeleteChapter(ctx, ch3.ID); err != nil {
			t.Fatal(err)
		}
		if ch, _ := s.Chapter(ctx, ch2.ID); ch.Position != 2 {
			t.Errorf("chapter after a deletion at %d", ch.Position)
		}
		if err := s.Delete(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Course(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted course: %v", err)
		}
		if _, err := s.Item(ctx, text.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("item of a deleted course: %v", err)
		}
		if err := s.Delete(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}
