package files_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
	"preau/internal/testsvc"
	"preau/storage"
	"preau/storage/disk"
	"preau/storage/files"
	"preau/storage/stores"
)

// school is a small collège: 3e A (Léa, Tom; taught by M. Dupont) and 3e B
// (Hugo; taught by Mme Roux), Léa's mother, the CPE and the ENT admin.
type school struct {
	d                  *db.DB
	store              storage.Store
	svc                *files.Service
	classA, classB     int64
	lea, tom, hugo     *identity.Principal
	teacherA, teacherB *identity.Principal
	parent, cpe, admin *identity.Principal
	ctx                context.Context
	now                time.Time
}

func newSchool(t *testing.T, d *db.DB, cfg files.Config) *school {
	t.Helper()
	st, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newSchoolOn(t, d, st, cfg)
}

func newSchoolOn(t *testing.T, d *db.DB, st storage.Store, cfg files.Config) *school {
	t.Helper()
	ctx := context.Background()
	var err error
	s := &school{d: d, store: st, ctx: ctx, now: time.Now()}
	dir := directory.New(d)
	var ids = map[string]int64{}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		sid, err := directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège Test", Kind: directory.College})
		if err != nil {
			return err
		}
		yid, err := directory.EnsureYear(ctx, tx, directory.YearFor(directory.YearLabel(time.Now()), true))
		if err != nil {
			return err
		}
		if s.classA, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: sid, YearID: yid, Name: "3e A"}); err != nil {
			return err
		}
		if s.classB, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: sid, YearID: yid, Name: "3e B"}); err != nil {
			return err
		}
		subj, err := directory.EnsureSubject(ctx, tx, "MATHS", "Mathématiques")
		if err != nil {
			return err
		}
		people := []struct {
			key, first, last string
			prof             identity.Profile
			sid              int64
		}{
			{"lea", "Léa", "Martin", identity.Pupil, sid}, {"tom", "Tom", "Petit", identity.Pupil, sid},
			{"hugo", "Hugo", "Roux", identity.Pupil, sid}, {"ta", "Jean", "Dupont", identity.Teacher, sid},
			{"tb", "Anne", "Roux", identity.Teacher, sid}, {"parent", "Claire", "Martin", identity.Parent, sid},
			{"cpe", "Paul", "Vie", identity.Staff, sid}, {"admin", "Ada", "Admin", identity.Admin, 0},
		}
		for _, p := range people {
			pr, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: p.first, LastName: p.last})
			if err != nil {
				return err
			}
			ids[p.key] = pr.ID
			if err := directory.AddRole(ctx, tx, pr.ID, p.sid, p.prof, ""); err != nil {
				return err
			}
		}
		for _, e := range []struct {
			who   string
			class int64
		}{{"lea", s.classA}, {"tom", s.classA}, {"hugo", s.classB}} {
			if err := directory.Enrol(ctx, tx, ids[e.who], e.class); err != nil {
				return err
			}
		}
		if err := directory.AddTeaching(ctx, tx, ids["ta"], s.classA, subj); err != nil {
			return err
		}
		if err := directory.AddTeaching(ctx, tx, ids["tb"], s.classB, subj); err != nil {
			return err
		}
		return directory.LinkGuardian(ctx, tx, ids["parent"], ids["lea"], "Mère")
	})
	if err != nil {
		t.Fatal(err)
	}
	pr := func(key string) *identity.Principal {
		p, err := dir.Principal(ctx, ids[key])
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	s.lea, s.tom, s.hugo = pr("lea"), pr("tom"), pr("hugo")
	s.teacherA, s.teacherB = pr("ta"), pr("tb")
	s.parent, s.cpe, s.admin = pr("parent"), pr("cpe"), pr("admin")
	s.svc = files.New(d, st, cfg)
	return s
}

func (s *school) personal(t *testing.T, p *identity.Principal) int64 {
	t.Helper()
	sp, err := s.svc.PersonalSpace(s.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return sp.ID
}

func (s *school) classSpace(t *testing.T, p *identity.Principal, class int64) int64 {
	t.Helper()
	sp, err := s.svc.ClassSpace(s.ctx, p, class)
	if err != nil {
		t.Fatal(err)
	}
	return sp.ID
}

func (s *school) upload(p *identity.Principal, space, folder int64, name string, content []byte) (files.Node, error) {
	return s.svc.Upload(s.ctx, p, files.Upload{SpaceID: space, FolderID: folder, Name: name, Size: int64(len(content)), Body: bytes.NewReader(content)})
}

func (s *school) read(t *testing.T, p *identity.Principal, id int64) []byte {
	t.Helper()
	d, err := s.svc.Open(s.ctx, p, id, 0)
	if err != nil {
		t.Fatalf("open %d: %v", id, err)
	}
	r := s.svc.Reader(s.ctx, d)
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *school) used(t *testing.T, p *identity.Principal, space int64) int64 {
	t.Helper()
	u, err := s.svc.SpaceUsage(s.ctx, p, space)
	if err != nil {
		t.Fatal(err)
	}
	return u.Used
}

// objects counts the version rows; checkStore then checks that the store
// holds exactly their contents: after any failure nothing is left that no
// row points to, and no temporary file either.
func (s *school) objects(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.d.QueryRow(s.ctx, "SELECT COUNT(*) FROM file_versions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (s *school) checkStore(t *testing.T) {
	t.Helper()
	ds, ok := s.store.(*disk.Store)
	if !ok {
		return
	}
	keys := map[string]bool{}
	rows, err := s.d.Query(s.ctx, "SELECT storage_key FROM file_versions")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys[k] = true
	}
	rows.Close()
	found := 0
	err = filepath.WalkDir(ds.Dir(), func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(ds.Dir(), path)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, ".uploads~/") {
			return nil // resumable uploads in progress
		}
		if !keys[rel] {
			t.Errorf("store holds %s, which no version points to", rel)
		}
		found++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != len(keys) {
		t.Errorf("store holds %d objects, versions point to %d", found, len(keys))
	}
}

func mustNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, files.ErrNotFound) {
		t.Errorf("%s: err %v, want not found", what, err)
	}
}

var pdf = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

func TestAccessMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{})
		ctx := s.ctx
		leaSpace := s.personal(t, s.lea)
		secret, err := s.upload(s.lea, leaSpace, 0, "journal intime.txt", []byte("à moi seule"))
		if err != nil {
			t.Fatal(err)
		}
		// Nobody else reaches a pupil's own documents: not a classmate,
		// not her teacher, not her mother, not the ENT admin.
		for name, p := range map[string]*identity.Principal{"classmate": s.tom, "teacher": s.teacherA, "parent": s.parent, "cpe": s.cpe, "admin": s.admin, "other pupil": s.hugo} {
			_, err := s.svc.Open(ctx, p, secret.ID, 0)
			mustNotFound(t, name+" opens Léa's file", err)
			_, err = s.svc.List(ctx, p, leaSpace, 0)
			mustNotFound(t, name+" lists Léa's space", err)
			_, err = s.svc.Rename(ctx, p, secret.ID, "x.txt")
			mustNotFound(t, name+" renames Léa's file", err)
			mustNotFound(t, name+" deletes Léa's file", s.svc.Delete(ctx, p, secret.ID))
			_, err = s.upload(p, leaSpace, 0, "intrus.txt", []byte("x"))
			mustNotFound(t, name+" uploads into Léa's space", err)
		}
		if got := s.read(t, s.lea, secret.ID); string(got) != "à moi seule" {
			t.Errorf("Léa reads %q", got)
		}

		// Class space: its teacher writes, its pupils read, a pupil
		// cannot write, another class's pupil and teacher see nothing.
		spaceA := s.classSpace(t, s.teacherA, s.classA)
		sheet, err := s.upload(s.teacherA, spaceA, 0, "fiche.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.read(t, s.tom, sheet.ID); !bytes.Equal(got, pdf) {
			t.Errorf("pupil of the class reads %q", got)
		}
		if _, err := s.upload(s.lea, spaceA, 0, "moi.txt", []byte("x")); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("pupil writes the class space: %v", err)
		}
		if err := s.svc.Delete(ctx, s.lea, sheet.ID); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("pupil deletes in the class space: %v", err)
		}
		for name, p := range map[string]*identity.Principal{"pupil of 3e B": s.hugo, "teacher of 3e B": s.teacherB, "parent": s.parent} {
			_, err := s.svc.Open(ctx, p, sheet.ID, 0)
			mustNotFound(t, name+" opens a 3e A file", err)
			_, err = s.svc.ClassSpace(ctx, p, s.classA)
			mustNotFound(t, name+" opens the 3e A space", err)
		}
		// The CPE reads class spaces of the school, does not write them.
		if got := s.read(t, s.cpe, sheet.ID); !bytes.Equal(got, pdf) {
			t.Error("CPE cannot read the class space")
		}
		if _, err := s.upload(s.cpe, spaceA, 0, "cpe.txt", []byte("x")); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("CPE writes a class space: %v", err)
		}
		// A foreign or made-up id is not found.
		_, err = s.svc.Open(ctx, s.lea, 987654, 0)
		mustNotFound(t, "made-up id", err)
		_, err = s.svc.List(ctx, s.lea, 987654, 0)
		mustNotFound(t, "made-up space", err)

		// Spaces: a pupil sees their own and their class's.
		sps, err := s.svc.Spaces(ctx, s.lea)
		if err != nil || len(sps) != 2 || sps[0].Kind != files.Personal || sps[1].Name != "Classe 3e A" || sps[1].CanWrite {
			t.Errorf("Léa's spaces: %+v %v", sps, err)
		}
	})
}

func TestShares(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{})
		ctx := s.ctx
		mine := s.personal(t, s.teacherA)
		folder, err := s.svc.CreateFolder(ctx, s.teacherA, mine, 0, "Cours")
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.upload(s.teacherA, mine, folder.ID, "cours.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.svc.Open(ctx, s.lea, f.ID, 0)
		mustNotFound(t, "before the share", err)
		if _, err := s.svc.SetShare(ctx, s.teacherA, folder.ID, "class", s.classA, false); err != nil {
			t.Fatal(err)
		}
		if got := s.read(t, s.lea, f.ID); !bytes.Equal(got, pdf) {
			t.Error("shared with the class: pupil cannot read")
		}
		l, err := s.svc.List(ctx, s.lea, mine, folder.ID)
		if err != nil || len(l.Children) != 1 || l.CanWrite {
			t.Errorf("pupil lists the shared folder: %+v %v", l, err)
		}
		shared, err := s.svc.SharedWithMe(ctx, s.lea)
		if err != nil || len(shared) != 1 || shared[0].ID != folder.ID {
			t.Errorf("shared with Léa: %+v %v", shared, err)
		}
		// Read share: no writing; the rest of the space stays closed.
		if _, err := s.upload(s.lea, mine, folder.ID, "x.txt", []byte("x")); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("read share lets a pupil write: %v", err)
		}
		_, err = s.svc.List(ctx, s.lea, mine, 0)
		mustNotFound(t, "root of a space with a shared folder", err)
		_, err = s.svc.Open(ctx, s.hugo, f.ID, 0)
		mustNotFound(t, "pupil of another class", err)
		// Pupils do not reshare; a person share needs a person one may see.
		_, err = s.svc.SetShare(ctx, s.lea, folder.ID, "class", s.classA, true)
		if !errors.Is(err, files.ErrForbidden) {
			t.Errorf("pupil reshares: %v", err)
		}
		if _, err := s.svc.SetShare(ctx, s.teacherA, folder.ID, "person", s.hugo.UserID, false); !errors.Is(err, files.ErrInvalid) {
			t.Errorf("share with a pupil the teacher does not teach: %v", err)
		}
		// Write share with a person: Tom adds a file, charged to the owner.
		if _, err := s.svc.SetShare(ctx, s.teacherA, folder.ID, "person", s.tom.UserID, true); err != nil {
			t.Fatal(err)
		}
		before := s.used(t, s.teacherA, mine)
		if _, err := s.upload(s.tom, mine, folder.ID, "tom.txt", []byte("bonjour")); err != nil {
			t.Fatalf("write share: %v", err)
		}
		if got := s.used(t, s.teacherA, mine); got != before+7 {
			t.Errorf("owner's quota %d, want %d", got, before+7)
		}
		if err := s.svc.RemoveShare(ctx, s.teacherA, folder.ID, "class", s.classA); err != nil {
			t.Fatal(err)
		}
		_, err = s.svc.Open(ctx, s.lea, f.ID, 0)
		mustNotFound(t, "after the share ends", err)
	})
}

func TestBadInputs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{MaxUpload: 1 << 20})
		ctx := s.ctx
		sp := s.personal(t, s.lea)
		for _, name := range []string{"", "..", "../../etc/passwd", "a/b", "a\x00b", "a\x01b", strings.Repeat("x", 1000)} {
			if _, err := s.upload(s.lea, sp, 0, name, []byte("x")); !errors.Is(err, files.ErrBadName) {
				t.Errorf("name %q: %v", name, err)
			}
			if _, err := s.svc.CreateFolder(ctx, s.lea, sp, 0, name); !errors.Is(err, files.ErrBadName) {
				t.Errorf("folder %q: %v", name, err)
			}
		}
		if _, err := s.upload(s.lea, sp, 0, "vide.txt", nil); !errors.Is(err, files.ErrEmpty) {
			t.Errorf("0-byte file: %v", err)
		}
		if _, err := s.upload(s.lea, sp, 0, "gros.bin", make([]byte, 1<<20+1)); !errors.Is(err, files.ErrTooLarge) {
			t.Errorf("over the limit: %v", err)
		}
		html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
		if _, err := s.upload(s.lea, sp, 0, "photo.png", html); !errors.Is(err, files.ErrBadContent) {
			t.Errorf("HTML named .png: %v", err)
		}
		// The same HTML under its own name is kept, but never shown inline.
		n, err := s.upload(s.lea, sp, 0, "page.html", html)
		if err != nil || n.Inline || n.ContentType != "text/html" {
			t.Errorf("page.html: %+v %v", n, err)
		}
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		if n, err := s.upload(s.lea, sp, 0, "vraie.png", png); err != nil || !n.Inline || n.ContentType != "image/png" {
			t.Errorf("a real PNG: %+v %v", n, err)
		}
		// An interrupted upload (the body ends early) leaves nothing.
		before, usedBefore := s.objects(t), s.used(t, s.lea, sp)
		_, err = s.svc.Upload(ctx, s.lea, files.Upload{SpaceID: sp, Name: "coupé.txt", Size: 1000, Body: strings.NewReader(strings.Repeat("a", 600))})
		if !errors.Is(err, files.ErrInterrupted) {
			t.Errorf("interrupted upload: %v", err)
		}
		if s.objects(t) != before || s.used(t, s.lea, sp) != usedBefore {
			t.Error("interrupted upload left a version or a charge")
		}
		l, _ := s.svc.List(ctx, s.lea, sp, 0)
		for _, c := range l.Children {
			if c.Name == "coupé.txt" {
				t.Error("interrupted upload is listed")
			}
		}
		// Names: taken, moved into itself.
		a, _ := s.svc.CreateFolder(ctx, s.lea, sp, 0, "A")
		b, _ := s.svc.CreateFolder(ctx, s.lea, sp, a.ID, "B")
		if _, err := s.svc.CreateFolder(ctx, s.lea, sp, 0, "A"); !errors.Is(err, files.ErrExists) {
			t.Errorf("folder name taken: %v", err)
		}
		if _, err := s.svc.Move(ctx, s.lea, a.ID, b.ID); !errors.Is(err, files.ErrBadMove) {
			t.Errorf("folder into its own child: %v", err)
		}
		s.checkStore(t)
	})
}

func TestQuota(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{PersonQuotas: map[identity.Profile]int64{identity.Pupil: 1000, identity.Admin: 1}})
		ctx := s.ctx
		sp := s.personal(t, s.lea)
		if _, err := s.upload(s.lea, sp, 0, "a.txt", bytes.Repeat([]byte("a"), 600)); err != nil {
			t.Fatal(err)
		}
		_, err := s.upload(s.lea, sp, 0, "b.txt", bytes.Repeat([]byte("b"), 500))
		var qe *files.QuotaError
		if !errors.As(err, &qe) || qe.Limit != 1000 || qe.Used != 600 {
			t.Fatalf("over quota: %v", err)
		}
		if got := s.used(t, s.lea, sp); got != 600 {
			t.Errorf("used %d after a refused upload, want 600", got)
		}
		// Deleting to the bin keeps the bytes counted; purging frees them.
		l, _ := s.svc.List(ctx, s.lea, sp, 0)
		if err := s.svc.Delete(ctx, s.lea, l.Children[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := s.used(t, s.lea, sp); got != 600 {
			t.Errorf("used %d with the file in the bin", got)
		}
		if err := s.svc.Purge(ctx, s.lea, l.Children[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := s.used(t, s.lea, sp); got != 0 {
			t.Errorf("used %d after purge", got)
		}
		// The admin raises Léa's quota; a pupil may not.
		if _, err := s.svc.SetQuota(ctx, s.lea, "person", s.lea.UserID, 1<<30); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("pupil sets own quota: %v", err)
		}
		u, err := s.svc.SetQuota(ctx, s.admin, "person", s.lea.UserID, 5000)
		if err != nil || u.Limit != 5000 || u.Default {
			t.Fatalf("admin sets quota: %+v %v", u, err)
		}
		if _, err := s.upload(s.lea, sp, 0, "b.txt", bytes.Repeat([]byte("b"), 1500)); err != nil {
			t.Errorf("after the raise: %v", err)
		}
		// Two uploads racing for the last bytes: one wins.
		if _, err := s.svc.SetQuota(ctx, s.admin, "person", s.lea.UserID, 1500+800); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = s.upload(s.lea, sp, 0, "course"+string(rune('1'+i))+".txt", bytes.Repeat([]byte("c"), 500))
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("racing uploads: %v / %v, want one refused", errs[0], errs[1])
		}
		if got := s.used(t, s.lea, sp); got != 2000 {
			t.Errorf("used %d after the race, want 2000", got)
		}
		s.checkStore(t)
	})
}

// TestQuotaDefaults: the administrator's defaults per profile replace the
// built-in ones for accounts without an override, on both engines.
func TestQuotaDefaults(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{PersonQuotas: map[identity.Profile]int64{identity.Pupil: 1000, identity.Admin: 1}})
		ctx := s.ctx
		sp := s.personal(t, s.lea)
		if err := s.svc.SetQuotaDefault(ctx, s.lea, "eleve", 10); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("a pupil sets a default: %v", err)
		}
		if err := s.svc.SetQuotaDefault(ctx, s.admin, "inconnu", 10); !errors.Is(err, files.ErrInvalid) {
			t.Errorf("unknown subject: %v", err)
		}
		if err := s.svc.SetQuotaDefault(ctx, s.admin, "eleve", files.MaxQuota+1); !errors.Is(err, files.ErrInvalid) {
			t.Errorf("huge default: %v", err)
		}
		for _, n := range []int64{300, 400} { // set, then changed (upsert)
			if err := s.svc.SetQuotaDefault(ctx, s.admin, "eleve", n); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.upload(s.lea, sp, 0, "a.txt", bytes.Repeat([]byte("a"), 500))
		var qe *files.QuotaError
		if !errors.As(err, &qe) || qe.Limit != 400 {
			t.Fatalf("upload over the new default: %v", err)
		}
		ds, err := s.svc.QuotaDefaults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 7 || ds[0].Subject != "eleve" || ds[0].Limit != 400 || ds[0].Builtin != 1000 || !ds[0].Set || ds[1].Set {
			t.Errorf("defaults %+v", ds)
		}
		// An override beats the default; the default back to Préau's.
		if _, err := s.svc.SetQuota(ctx, s.admin, "person", s.lea.UserID, 800); err != nil {
			t.Fatal(err)
		}
		if _, err := s.upload(s.lea, sp, 0, "a.txt", bytes.Repeat([]byte("a"), 500)); err != nil {
			t.Errorf("within the override: %v", err)
		}
		if err := s.svc.SetQuotaDefault(ctx, s.admin, "eleve", 0); err != nil {
			t.Fatal(err)
		}
		if u, err := s.svc.Quota(ctx, s.lea, "person", s.lea.UserID); err != nil || u.Limit != 800 {
			t.Errorf("Léa reads her quota: %+v %v", u, err)
		}
	})
}

func TestVersionsAndBin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		now := time.Now()
		s := newSchool(t, d, files.Config{Now: func() time.Time { return now }})
		ctx := s.ctx
		sp := s.personal(t, s.teacherA)
		var n files.Node
		var err error
		for i := 1; i <= 7; i++ {
			if n, err = s.upload(s.teacherA, sp, 0, "notes.txt", []byte(strings.Repeat("v", i))); err != nil {
				t.Fatal(err)
			}
		}
		vs, err := s.svc.Versions(ctx, s.teacherA, n.ID)
		if err != nil || len(vs) != files.DefaultKeepVersions || vs[0].N != 7 || !vs[0].Current || vs[4].N != 3 {
			t.Fatalf("versions %+v %v", vs, err)
		}
		if got := s.used(t, s.teacherA, sp); got != 7+6+5+4+3 {
			t.Errorf("used %d, want the 5 kept versions", got)
		}
		if _, err := s.svc.RestoreVersion(ctx, s.teacherA, n.ID, 4); err != nil {
			t.Fatal(err)
		}
		if got := s.read(t, s.teacherA, n.ID); string(got) != "vvvv" {
			t.Errorf("restored version reads %q", got)
		}
		_, err = s.svc.Versions(ctx, s.lea, n.ID)
		mustNotFound(t, "someone else's versions", err)

		// Bin: a deleted folder hides what it holds; restore brings it back.
		f, _ := s.svc.CreateFolder(ctx, s.teacherA, sp, 0, "Vieux")
		inside, _ := s.upload(s.teacherA, sp, f.ID, "dedans.txt", []byte("x"))
		if err := s.svc.Delete(ctx, s.teacherA, f.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.svc.Open(ctx, s.teacherA, inside.ID, 0)
		mustNotFound(t, "file of a folder in the bin", err)
		bin, err := s.svc.Bin(ctx, s.teacherA, sp)
		if err != nil || len(bin) != 1 || bin[0].ID != f.ID {
			t.Fatalf("bin %+v %v", bin, err)
		}
		if b, _ := s.svc.Bin(ctx, s.lea, sp); len(b) != 0 {
			t.Error("someone else sees the bin")
		}
		s.svc.CreateFolder(ctx, s.teacherA, sp, 0, "Vieux") // the name is taken meanwhile
		r, err := s.svc.Restore(ctx, s.teacherA, f.ID)
		if err != nil || r.Name != "Vieux (2)" {
			t.Fatalf("restore %+v %v", r, err)
		}
		if got := s.read(t, s.teacherA, inside.ID); string(got) != "x" {
			t.Error("restored folder lost its file")
		}
		// After 30 days in the bin, Sweep deletes for good.
		if err := s.svc.Delete(ctx, s.teacherA, f.ID); err != nil {
			t.Fatal(err)
		}
		usedBefore := s.used(t, s.teacherA, sp)
		now = now.Add(31 * 24 * time.Hour)
		purged, err := s.svc.Sweep(ctx)
		if err != nil || purged != 1 {
			t.Fatalf("sweep: %d %v", purged, err)
		}
		if got := s.used(t, s.teacherA, sp); got != usedBefore-1 {
			t.Errorf("used %d after sweep, want %d", got, usedBefore-1)
		}
		_, err = s.svc.Restore(ctx, s.teacherA, f.ID)
		mustNotFound(t, "restore after sweep", err)
		s.checkStore(t)
	})
}

func TestConcurrentReplace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{})
		sp := s.personal(t, s.teacherA)
		contents := [][]byte{bytes.Repeat([]byte("1"), 1000), bytes.Repeat([]byte("2"), 2000), bytes.Repeat([]byte("3"), 3000), bytes.Repeat([]byte("4"), 4000)}
		var wg sync.WaitGroup
		errs := make([]error, len(contents))
		nodes := make([]files.Node, len(contents))
		for i := range contents {
			wg.Go(func() { nodes[i], errs[i] = s.upload(s.teacherA, sp, 0, "même.txt", contents[i]) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("upload %d: %v", i, err)
			}
		}
		l, _ := s.svc.List(s.ctx, s.teacherA, sp, 0)
		if len(l.Children) != 1 {
			t.Fatalf("%d files named même.txt", len(l.Children))
		}
		cur := l.Children[0]
		got := s.read(t, s.teacherA, cur.ID)
		if int64(len(got)) != cur.Size || !bytes.Equal(got, contents[len(got)/1000-1]) {
			t.Errorf("current version is %d bytes, node says %d", len(got), cur.Size)
		}
		vs, _ := s.svc.Versions(s.ctx, s.teacherA, cur.ID)
		if len(vs) != 4 || !vs[0].Current {
			t.Errorf("versions %+v", vs)
		}
		if used := s.used(t, s.teacherA, sp); used != 10000 {
			t.Errorf("used %d, want 10000", used)
		}
		s.checkStore(t)
	})
}

func TestCopyAndMove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{})
		ctx := s.ctx
		mine := s.personal(t, s.teacherA)
		spaceA := s.classSpace(t, s.teacherA, s.classA)
		f, _ := s.svc.CreateFolder(ctx, s.teacherA, mine, 0, "Séquence 1")
		doc, _ := s.upload(s.teacherA, mine, f.ID, "cours.pdf", pdf)
		c, err := s.svc.Copy(ctx, s.teacherA, f.ID, spaceA, 0)
		if err != nil || c.Name != "Séquence 1" || c.SpaceID != spaceA {
			t.Fatalf("copy %+v %v", c, err)
		}
		l, err := s.svc.List(ctx, s.lea, spaceA, c.ID)
		if err != nil || len(l.Children) != 1 || !bytes.Equal(s.read(t, s.lea, l.Children[0].ID), pdf) {
			t.Fatalf("copied folder as the pupil sees it: %+v %v", l, err)
		}
		if u, _ := s.svc.SpaceUsage(ctx, s.teacherA, spaceA); u.Used != int64(len(pdf)) || u.Kind != "class" {
			t.Errorf("class usage %+v", u)
		}
		// A pupil copies from the class space to their own.
		if _, err := s.svc.Copy(ctx, s.lea, l.Children[0].ID, s.personal(t, s.lea), 0); err != nil {
			t.Errorf("pupil copies a class file: %v", err)
		}
		if _, err := s.svc.Copy(ctx, s.lea, doc.ID, s.personal(t, s.lea), 0); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("pupil copies the teacher's own file: %v", err)
		}
		// Move and rename within a space.
		if _, err := s.svc.Move(ctx, s.teacherA, doc.ID, 0); err != nil {
			t.Fatal(err)
		}
		r, err := s.svc.Rename(ctx, s.teacherA, doc.ID, "  Cours complet.pdf ")
		if err != nil || r.Name != "Cours complet.pdf" || r.ParentID != 0 {
			t.Errorf("rename %+v %v", r, err)
		}
		if _, err := s.svc.Move(ctx, s.teacherA, doc.ID, c.ID); !errors.Is(err, files.ErrBadMove) && !errors.Is(err, files.ErrNotFound) {
			t.Errorf("move across spaces: %v", err)
		}
	})
}

func TestResumableUpload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { testResumable(t, newSchool(t, d, files.Config{})) })
}

// TestOnS3: the same service over MinIO (multipart uploads, server-side
// copy, ranges, presigned URLs), on SQLite.
func TestOnS3(t *testing.T) {
	st, err := stores.Open(context.Background(), testsvc.S3URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	s := newSchoolOn(t, dbtest.SQLite(t), st, files.Config{})
	t.Run("resumable", func(t *testing.T) { testResumable(t, s) })
	t.Run("small", func(t *testing.T) {
		sp := s.personal(t, s.lea)
		n, err := s.upload(s.lea, sp, 0, "exposé.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.read(t, s.lea, n.ID); !bytes.Equal(got, pdf) {
			t.Errorf("read back %q", got)
		}
		if _, err := s.svc.Upload(s.ctx, s.lea, files.Upload{SpaceID: sp, Name: "coupé.txt", Size: 1000, Body: strings.NewReader("court")}); !errors.Is(err, files.ErrInterrupted) {
			t.Errorf("interrupted upload: %v", err)
		}
		c, err := s.svc.Copy(s.ctx, s.lea, n.ID, sp, 0)
		if err != nil || c.Name != "exposé (2).pdf" || !bytes.Equal(s.read(t, s.lea, c.ID), pdf) {
			t.Errorf("copy %+v %v", c, err)
		}
		d, _ := s.svc.Open(s.ctx, s.lea, n.ID, 0)
		if u, err := s.svc.DirectURL(s.ctx, d); err != nil || !strings.Contains(u, "X-Amz-Expires=300") {
			t.Errorf("presigned URL %q %v", u, err)
		}
		if err := s.svc.Delete(s.ctx, s.lea, n.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.svc.Purge(s.ctx, s.lea, n.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.store.Stat(s.ctx, d.Key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("purged content still in the bucket: %v", err)
		}
	})
}

func testResumable(t *testing.T, s *school) {
	{
		ctx := s.ctx

		if !s.svc.Resumable() {
			t.Skip("the disk store takes no parts")
		}
		sp := s.personal(t, s.teacherA)
		content := make([]byte, files.PartSize*2+12345)
		rand.Read(content)
		u, err := s.svc.BeginUpload(ctx, s.teacherA, sp, 0, "vidéo.webm", int64(len(content)))
		if err != nil {
			t.Fatal(err)
		}
		if u.Parts != 3 {
			t.Fatalf("%d parts", u.Parts)
		}
		part := func(n int) []byte {
			end := min(int64(n)*u.PartSize, int64(len(content)))
			return content[int64(n-1)*u.PartSize : end]
		}
		// Part 1 arrives; part 2 is cut off by a dropped connection.
		if _, err := s.svc.PutPart(ctx, s.teacherA, u.ID, 1, int64(len(part(1))), bytes.NewReader(part(1))); err != nil {
			t.Fatal(err)
		}
		p2 := part(2)
		if _, err := s.svc.PutPart(ctx, s.teacherA, u.ID, 2, int64(len(p2)), bytes.NewReader(p2[:len(p2)/2])); !errors.Is(err, files.ErrInterrupted) {
			t.Errorf("cut part: %v", err)
		}
		if _, err := s.svc.PutPart(ctx, s.teacherA, u.ID, 3, int64(len(part(3))), bytes.NewReader(part(3))); err != nil {
			t.Fatal(err)
		}
		// Someone else cannot see or complete it.
		_, err = s.svc.UploadStatus(ctx, s.lea, u.ID)
		mustNotFound(t, "someone else's upload", err)
		_, err = s.svc.CompleteUpload(ctx, s.teacherA, u.ID)
		var mp *files.MissingPartsError
		if !errors.As(err, &mp) || len(mp.Missing) != 1 || mp.Missing[0] != 2 {
			t.Fatalf("complete with a part missing: %v", err)
		}
		if s.used(t, s.teacherA, sp) != 0 {
			t.Error("charged before completion")
		}
		st, _ := s.svc.UploadStatus(ctx, s.teacherA, u.ID)
		if len(st.Received) != 2 {
			t.Errorf("received %v", st.Received)
		}
		// The client resends the missing part, then completes.
		if _, err := s.svc.PutPart(ctx, s.teacherA, u.ID, 2, int64(len(p2)), bytes.NewReader(p2)); err != nil {
			t.Fatal(err)
		}
		n, err := s.svc.CompleteUpload(ctx, s.teacherA, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.read(t, s.teacherA, n.ID), content) {
			t.Error("assembled file differs")
		}
		if got := s.used(t, s.teacherA, sp); got != int64(len(content)) {
			t.Errorf("used %d", got)
		}
		// Range reads through the ReadSeeker.
		dl, _ := s.svc.Open(ctx, s.teacherA, n.ID, 0)
		r := s.svc.Reader(ctx, dl)
		r.Seek(files.PartSize-5, io.SeekStart)
		buf := make([]byte, 10)
		if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, content[files.PartSize-5:files.PartSize+5]) {
			t.Errorf("range read: %v", err)
		}
		r.Close()
		_, err = s.svc.UploadStatus(ctx, s.teacherA, u.ID)
		mustNotFound(t, "finished upload", err)
		// Over the resumable limit.
		if _, err := s.svc.BeginUpload(ctx, s.teacherA, sp, 0, "énorme.bin", files.DefaultMaxResumable+1); !errors.Is(err, files.ErrTooLarge) {
			t.Errorf("over the limit: %v", err)
		}
		// Aborted: nothing left.
		u2, _ := s.svc.BeginUpload(ctx, s.teacherA, sp, 0, "abandon.bin", 100)
		if err := s.svc.AbortUpload(ctx, s.teacherA, u2.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.svc.UploadStatus(ctx, s.teacherA, u2.ID)
		mustNotFound(t, "aborted upload", err)
		s.checkStore(t)
	}
}

func TestHandIns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSchool(t, d, files.Config{})
		ctx := s.ctx
		due := time.Now().Add(48 * time.Hour)
		if _, err := s.svc.CreateAssignment(ctx, s.teacherB, s.classA, "Exposé", "", due); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("teacher of another class sets an assignment: %v", err)
		}
		if _, err := s.svc.CreateAssignment(ctx, s.lea, s.classA, "Exposé", "", due); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("pupil sets an assignment: %v", err)
		}
		a, err := s.svc.CreateAssignment(ctx, s.teacherA, s.classA, "Exposé sur Jean Zay", "Un PDF.", due)
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.svc.Assignments(ctx, s.lea, s.classA)
		if err != nil || len(list) != 1 || list[0].HandedIn || list[0].Teacher {
			t.Fatalf("Léa's assignments: %+v %v", list, err)
		}
		_, err = s.svc.Assignments(ctx, s.hugo, s.classA)
		mustNotFound(t, "pupil of another class lists assignments", err)
		folder, err := s.svc.HandInFolder(ctx, s.lea, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		work, err := s.upload(s.lea, a.SpaceID, folder.ID, "exposé.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		tomFolder, _ := s.svc.HandInFolder(ctx, s.tom, a.ID)
		// Each pupil sees only their own hand-in.
		_, err = s.svc.Open(ctx, s.tom, work.ID, 0)
		mustNotFound(t, "classmate opens Léa's hand-in", err)
		l, err := s.svc.List(ctx, s.tom, a.SpaceID, 0)
		if err != nil || len(l.Children) != 1 || l.Children[0].ID != tomFolder.ID {
			t.Errorf("Tom lists the hand-in space: %+v %v", l, err)
		}
		_, err = s.svc.List(ctx, s.tom, a.SpaceID, folder.ID)
		mustNotFound(t, "classmate lists Léa's folder", err)
		if _, err := s.upload(s.tom, a.SpaceID, folder.ID, "intrus.txt", []byte("x")); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("classmate uploads into Léa's folder: %v", err)
		}
		if _, err := s.upload(s.lea, a.SpaceID, 0, "racine.txt", []byte("x")); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("pupil uploads at the root of the hand-in space: %v", err)
		}
		if err := s.svc.Delete(ctx, s.lea, folder.ID); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("pupil deletes own hand-in folder: %v", err)
		}
		_, err = s.svc.Open(ctx, s.parent, work.ID, 0)
		mustNotFound(t, "parent opens the hand-in", err)
		_, err = s.svc.Open(ctx, s.teacherB, work.ID, 0)
		mustNotFound(t, "teacher of another class opens the hand-in", err)
		// The teacher sees all, returns a corrected file, sees who is missing.
		if got := s.read(t, s.teacherA, work.ID); !bytes.Equal(got, pdf) {
			t.Error("teacher cannot read the hand-in")
		}
		corr, err := s.upload(s.teacherA, a.SpaceID, folder.ID, "exposé corrigé.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.read(t, s.lea, corr.ID); !bytes.Equal(got, pdf) {
			t.Error("pupil cannot read the corrected file")
		}
		if err := s.svc.Delete(ctx, s.lea, corr.ID); !errors.Is(err, files.ErrForbidden) {
			t.Errorf("pupil deletes the corrected file: %v", err)
		}
		hs, err := s.svc.HandIns(ctx, s.teacherA, a.ID)
		if err != nil || len(hs) != 2 {
			t.Fatalf("hand-ins %+v %v", hs, err)
		}
		for _, h := range hs {
			switch h.PupilID {
			case s.lea.UserID:
				if h.Files != 1 || h.Returned != 1 || h.Late || h.LastAt == nil {
					t.Errorf("Léa's hand-in %+v", h)
				}
			case s.tom.UserID:
				if h.Files != 0 {
					t.Errorf("Tom's hand-in %+v", h)
				}
			}
		}
		_, err = s.svc.HandIns(ctx, s.lea, a.ID)
		mustNotFound(t, "pupil lists every hand-in", err)
		list, _ = s.svc.Assignments(ctx, s.lea, s.classA)
		if !list[0].HandedIn {
			t.Error("Léa's assignment not marked handed in")
		}
	})
}
