package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/directory/csvimport"
	"preau/identity"
)

// The import pages: upload a CSV file of pupils, parents or teachers for one
// school, see what it changes (or would change, in a simulation), and
// download the activation codes of the new accounts.

func (s *Server) importPages(r chi.Router) {
	r.Get("/admin/import", s.importPage)
	r.With(s.limitBody(s.cfg.MaxImport+1<<20)).Post("/admin/import", s.importSubmit)
	r.Get("/admin/import/codes/{id}", s.importCodes)
}

// importable lists the structures the user may import into.
func (s *Server) importable(r *http.Request) ([]directory.Structure, error) {
	u := currentUser(r)
	all, err := s.dir.Structures(r.Context())
	if err != nil {
		return nil, err
	}
	var out []directory.Structure
	for _, st := range all {
		if u.Can(identity.Import, identity.Create, targetStructure(st.ID)) {
			out = append(out, st)
		}
	}
	return out, nil
}

type importData struct {
	AdminNav
	Structures []directory.Structure
	UAI        string
	Kind       string
	DryRun     bool
	Done       bool
	Report     csvimport.Report
	Changes    []string
	More       int
	RowErrors  []csvimport.RowError
	CodesID    string
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) {
	sts, err := s.importable(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(sts) == 0 {
		s.notFound(w, r)
		return
	}
	s.render(w, r, http.StatusOK, "admin_import", view{Title: "Importer des comptes",
		Data: importData{AdminNav: navFor(currentUser(r), "import"), Structures: sts, DryRun: true}})
}

// changeLog keeps the first lines of an import's changes for the page and
// counts the rest.
type changeLog struct {
	lines []string
	more  int
	part  []byte
}

const maxShownChanges = 300

func (c *changeLog) Write(p []byte) (int, error) {
	c.part = append(c.part, p...)
	for {
		i := strings.IndexByte(string(c.part), '\n')
		if i < 0 {
			break
		}
		if len(c.lines) < maxShownChanges {
			c.lines = append(c.lines, string(c.part[:i]))
		} else {
			c.more++
		}
		c.part = c.part[i+1:]
	}
	return len(p), nil
}

func (s *Server) importSubmit(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	sts, err := s.importable(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(sts) == 0 {
		s.notFound(w, r)
		return
	}
	d := importData{AdminNav: navFor(u, "import"), Structures: sts}
	page := func(code int, msg string) {
		s.render(w, r, code, "admin_import", view{Title: "Importer des comptes", Error: msg, Data: d})
	}
	mr, err := r.MultipartReader()
	if err != nil {
		page(http.StatusBadRequest, "Formulaire illisible : choisissez un fichier CSV.")
		return
	}
	// Fields come before the file in the form, so the file streams straight
	// into the import without being stored.
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				page(http.StatusRequestEntityTooLarge, fmt.Sprintf("Fichier trop gros : au plus %d Mo.", s.cfg.MaxImport>>20))
				return
			}
			page(http.StatusBadRequest, "Aucun fichier reçu : choisissez un fichier CSV.")
			return
		}
		name := part.FormName()
		if name != "fichier" {
			b := make([]byte, 200)
			n, _ := part.Read(b)
			v := strings.TrimSpace(string(b[:n]))
			switch name {
			case "uai":
				d.UAI = v
			case "type":
				d.Kind = v
			case "simulation":
				d.DryRun = v != ""
			}
			continue
		}
		var st *directory.Structure
		for i := range sts {
			if sts[i].UAI == d.UAI {
				st = &sts[i]
			}
		}
		if st == nil {
			page(http.StatusBadRequest, "Choisissez l'établissement.")
			return
		}
		var kind csvimport.Kind
		if d.Kind != "" {
			if kind, err = csvimport.ParseKind(d.Kind); err != nil {
				page(http.StatusBadRequest, err.Error())
				return
			}
		}
		codes, err := s.codes.create(u.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		changes := &changeLog{}
		rep, err := csvimport.Import(r.Context(), s.db, http.MaxBytesReader(w, part, s.cfg.MaxImport), csvimport.Options{
			UAI: st.UAI, Kind: kind, DryRun: d.DryRun, Codes: codes.f, Changes: changes, ByUserID: u.UserID})
		codes.f.Close()
		d.Report, d.Changes, d.More = rep, changes.lines, changes.more
		var re *csvimport.RowErrors
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &re):
			s.codes.drop(codes.id)
			d.RowErrors = re.Rows
			page(http.StatusUnprocessableEntity, "Le fichier contient des erreurs : rien n'a été importé. Corrigez les lignes indiquées puis recommencez.")
			return
		case errors.As(err, &mbe):
			s.codes.drop(codes.id)
			page(http.StatusRequestEntityTooLarge, fmt.Sprintf("Fichier trop gros : au plus %d Mo.", s.cfg.MaxImport>>20))
			return
		case err != nil:
			s.codes.drop(codes.id)
			if strings.Contains(err.Error(), "csvimport:") || strings.Contains(err.Error(), "db:") {
				s.fail(w, r, err)
				return
			}
			page(http.StatusBadRequest, err.Error())
			return
		}
		d.Done = true
		if rep.Codes > 0 && !d.DryRun {
			d.CodesID = codes.id
		} else {
			s.codes.drop(codes.id)
		}
		s.log.Info("import", "by", u.UserID, "uai", st.UAI, "kind", rep.Kind, "rows", rep.Rows, "created", rep.Created,
			"updated", rep.Updated, "dry_run", d.DryRun)
		v := view{Title: "Importer des comptes", Data: d}
		if d.DryRun {
			v.Flash = "Simulation terminée : rien n'a été enregistré."
		} else {
			v.Flash = "Import terminé."
		}
		s.render(w, r, http.StatusOK, "admin_import", v)
		return
	}
}

func (s *Server) importCodes(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	path, ok := s.codes.take(chi.URLParam(r, "id"), u.UserID)
	if !ok {
		s.error(w, r, http.StatusNotFound, "Ce fichier de codes n'est plus disponible (il ne se télécharge qu'une fois, dans les 30 minutes). Générez de nouveaux codes depuis la page de la classe.")
		return
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="codes-activation.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// codeStash keeps the activation-code files of recent imports until their
// importer downloads them (once) or 30 minutes pass. The files live in the
// temporary directory; a stash entry is only valid on the node that made it.
type codeStash struct {
	mu      sync.Mutex
	entries map[string]stashEntry
}

type stashEntry struct {
	path    string
	user    int64
	expires time.Time
}

type stashFile struct {
	id string
	f  *os.File
}

const stashTTL = 30 * time.Minute

func (c *codeStash) create(user int64) (stashFile, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	f, err := os.CreateTemp("", "preau-codes-*.csv")
	if err != nil {
		return stashFile{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]stashEntry{}
	}
	now := time.Now()
	for k, e := range c.entries { // expired files go
		if now.After(e.expires) {
			os.Remove(e.path)
			delete(c.entries, k)
		}
	}
	c.entries[id] = stashEntry{path: f.Name(), user: user, expires: now.Add(stashTTL)}
	return stashFile{id: id, f: f}, nil
}

func (c *codeStash) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		os.Remove(e.path)
		delete(c.entries, id)
	}
}

// take hands the file to its owner once; the caller removes it.
func (c *codeStash) take(id string, user int64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || e.user != user || time.Now().After(e.expires) {
		return "", false
	}
	delete(c.entries, id)
	return e.path, true
}

// close removes every stashed file; called at shutdown.
func (c *codeStash) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		os.Remove(e.path)
		delete(c.entries, k)
	}
}
