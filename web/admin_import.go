package web

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/db"
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
		// The codes file is built in memory, then kept in the database
		// only if the import went through.
		var codes bytes.Buffer
		changes := &changeLog{}
		rep, err := csvimport.Import(r.Context(), s.db, http.MaxBytesReader(w, part, s.cfg.MaxImport), csvimport.Options{
			UAI: st.UAI, Kind: kind, DryRun: d.DryRun, Codes: &codes, Changes: changes, ByUserID: u.UserID})
		d.Report, d.Changes, d.More = rep, changes.lines, changes.more
		var re *csvimport.RowErrors
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &re):
			d.RowErrors = re.Rows
			page(http.StatusUnprocessableEntity, "Le fichier contient des erreurs : rien n'a été importé. Corrigez les lignes indiquées puis recommencez.")
			return
		case errors.As(err, &mbe):
			page(http.StatusRequestEntityTooLarge, fmt.Sprintf("Fichier trop gros : au plus %d Mo.", s.cfg.MaxImport>>20))
			return
		case err != nil:
			if strings.Contains(err.Error(), "csvimport:") || strings.Contains(err.Error(), "db:") {
				s.fail(w, r, err)
				return
			}
			page(http.StatusBadRequest, err.Error())
			return
		}
		d.Done = true
		s.log.Info("import", "by", u.UserID, "uai", st.UAI, "kind", rep.Kind, "rows", rep.Rows, "created", rep.Created,
			"updated", rep.Updated, "dry_run", d.DryRun)
		var lost string
		if rep.Codes > 0 && !d.DryRun {
			if d.CodesID, err = stashCodes(r.Context(), s.db, u.UserID, codes.Bytes(), time.Now()); err != nil {
				// The accounts exist; their codes can be issued again.
				s.log.Error("import: keep codes file", "by", u.UserID, "err", err)
				lost = "Les comptes ont été créés, mais le fichier des codes d'activation n'a pas pu être conservé. Générez de nouveaux codes depuis la page de chaque classe."
			}
		}
		v := view{Title: "Importer des comptes", Error: lost, Data: d}
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
	csv, err := takeCodes(r.Context(), s.db, chi.URLParam(r, "id"), u.UserID, time.Now())
	if errors.Is(err, db.ErrNotFound) {
		s.error(w, r, http.StatusNotFound, "Ce fichier de codes n'est plus disponible (il ne se télécharge qu'une fois, dans les 30 minutes). Générez de nouveaux codes depuis la page de la classe.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="codes-activation.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(csv)))
	w.Write(csv)
}

// The activation codes file of an import waits in the database (table
// import_codes) until its importer downloads it, once, or codesTTL passes,
// so that any node serves the download. The codes are secrets: the row is
// deleted as it is read, expired rows go with PurgeImportCodes, and the file
// is sealed (AES-256-GCM) with a key derived from the download id, of which
// only a hash is stored: a copy of the database, or a backup taken meanwhile,
// does not reveal the codes.
const codesTTL = 30 * time.Minute

func codesIDHash(id string) string {
	sum := sha256.Sum256([]byte("preau-import-codes:" + id))
	return hex.EncodeToString(sum[:])
}

// codesAEAD is the cipher of the file behind id (a separate derivation from
// codesIDHash, so the stored hash is no key).
func codesAEAD(id string) cipher.AEAD {
	key := sha256.Sum256([]byte("preau-import-codes-key:" + id))
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

// stashCodes keeps csv for user and returns the id of its download link.
func stashCodes(ctx context.Context, d *db.DB, user int64, csv []byte, now time.Time) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	g := codesAEAD(id)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	sealed := g.Seal(nonce, nonce, csv, nil)
	if _, err := d.Exec(ctx, "INSERT INTO import_codes (id_hash, user_id, sealed, expires_at_ms) VALUES (?, ?, ?, ?)",
		codesIDHash(id), user, sealed, now.Add(codesTTL).UnixMilli()); err != nil {
		return "", fmt.Errorf("web: keep import codes: %w", err)
	}
	return id, nil
}

// takeCodes hands the file to its importer once, whichever node asks: the
// row is deleted as it is read. Another user, an expired or spent id get
// db.ErrNotFound (and the file stays for its owner).
func takeCodes(ctx context.Context, d *db.DB, id string, user int64, now time.Time) ([]byte, error) {
	var sealed []byte
	err := d.QueryRow(ctx, "DELETE FROM import_codes WHERE id_hash = ? AND user_id = ? AND expires_at_ms > ? RETURNING sealed",
		codesIDHash(id), user, now.UnixMilli()).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, db.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("web: take import codes: %w", err)
	}
	g := codesAEAD(id)
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("web: take import codes: truncated file")
	}
	csv, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], nil)
	if err != nil {
		return nil, fmt.Errorf("web: take import codes: %w", err)
	}
	return csv, nil
}

// PurgeImportCodes deletes the activation codes files that expired without
// being downloaded; main calls it periodically.
func (s *Server) PurgeImportCodes(ctx context.Context) (int64, error) {
	return purgeCodes(ctx, s.db, time.Now())
}

func purgeCodes(ctx context.Context, d *db.DB, now time.Time) (int64, error) {
	res, err := d.Exec(ctx, "DELETE FROM import_codes WHERE expires_at_ms <= ?", now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("web: purge import codes: %w", err)
	}
	return res.RowsAffected()
}
