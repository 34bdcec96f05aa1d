package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"preau/storage/files"
)

// Forms of the Documents page that work without JavaScript (an old browser,
// a script blocked by a school proxy): sending files with a plain
// multipart form and creating a folder. With the script, files.js sends the
// same files through the API with progress and resumable parts instead.

// maxFormFiles bounds the files of one form; maxFormOverhead is what a
// multipart body may add to the files' bytes (boundaries, headers, fields).
const (
	maxFormFiles    = 20
	maxFormOverhead = 1 << 20
)

// spaceFlash is the confirmation shown after a form, from the redirect's
// query.
func spaceFlash(q url.Values) string {
	if n, err := strconv.Atoi(q.Get("envoyes")); err == nil && n > 0 {
		if n == 1 {
			return "1 fichier envoyé."
		}
		return strconv.Itoa(n) + " fichiers envoyés."
	}
	if q.Get("dossier-cree") == "1" {
		return "Le dossier est créé."
	}
	return ""
}

func spaceURL(space, folder int64, extra string) string {
	u := "/documents/espace/" + strconv.FormatInt(space, 10)
	var q []string
	if folder != 0 {
		q = append(q, "dossier="+strconv.FormatInt(folder, 10))
	}
	if extra != "" {
		q = append(q, extra)
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	return u
}

// formFailure shows the folder's page again with a French message: what
// was refused and, when earlier files of the form went in, how many.
func (s *Server) formFailure(w http.ResponseWriter, r *http.Request, space, folder int64, sent int, name string, err error) {
	code, _, msg := fileFailure(err)
	if code == http.StatusNotFound {
		s.notFound(w, r)
		return
	}
	if code >= 500 && code != http.StatusInsufficientStorage {
		s.log.Error("files form", "path", r.URL.Path, "err", err)
	}
	if name != "" {
		msg = "« " + name + " » : " + msg
	}
	if sent > 0 {
		msg = fmt.Sprintf("%d fichier(s) envoyé(s), puis : %s", sent, msg)
	}
	v, verr := s.spaceView(r, space, folder)
	if verr != nil {
		s.filePageError(w, r, verr)
		return
	}
	v.Error = msg
	s.render(w, r, code, "documents", v)
}

// documentsUploadForm stores the files of a multipart form in a folder.
// Each part is spooled to a temporary file first (the store needs the exact
// size, which a multipart part does not announce), at most the one-request
// limit, then uploaded like an API upload and the temporary file removed.
func (s *Server) documentsUploadForm(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	space, ok := idParam(r, "space")
	if !ok {
		s.notFound(w, r)
		return
	}
	maxFile, _ := s.cfg.Files.Limits()
	r.Body = http.MaxBytesReader(w, r.Body, maxFile*maxFormFiles+maxFormOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire d'envoi illisible : choisissez un ou plusieurs fichiers puis « Envoyer ».")
		return
	}
	var folder int64
	sent := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.formFailure(w, r, space, folder, sent, "", fmt.Errorf("%w: %v", files.ErrInterrupted, err))
			return
		}
		if part.FileName() == "" {
			if part.FormName() == "dossier" {
				v, _ := io.ReadAll(io.LimitReader(part, 32))
				if folder, err = strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err != nil || folder < 0 {
					s.notFound(w, r)
					return
				}
			}
			part.Close()
			continue
		}
		if sent == maxFormFiles {
			s.formFailure(w, r, space, folder, sent, "", fmt.Errorf("%w: %d fichiers au plus par envoi", files.ErrInvalid, maxFormFiles))
			return
		}
		name := part.FileName()
		if err := s.uploadPart(r, space, folder, name, part, maxFile); err != nil {
			s.formFailure(w, r, space, folder, sent, name, err)
			return
		}
		sent++
	}
	if sent == 0 {
		s.formFailure(w, r, space, folder, 0, "", fmt.Errorf("%w: aucun fichier choisi", files.ErrInvalid))
		return
	}
	http.Redirect(w, r, spaceURL(space, folder, "envoyes="+strconv.Itoa(sent)), http.StatusSeeOther)
}

// uploadPart spools one part to a temporary file and uploads it.
func (s *Server) uploadPart(r *http.Request, space, folder int64, name string, part *multipart.Part, limit int64) error {
	defer part.Close()
	tmp, err := os.CreateTemp("", "preau-form-*")
	if err != nil {
		return fmt.Errorf("files form: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	n, err := io.Copy(tmp, io.LimitReader(part, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return files.ErrTooLarge
		}
		return fmt.Errorf("%w: %v", files.ErrInterrupted, err)
	}
	if n > limit {
		return files.ErrTooLarge
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("files form: %w", err)
	}
	_, err = s.cfg.Files.Upload(r.Context(), currentUser(r).Principal,
		files.Upload{SpaceID: space, FolderID: folder, Name: name, Size: n, Body: tmp})
	return err
}

// documentsFolderForm creates a folder from the page's form.
func (s *Server) documentsFolderForm(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	space, ok := idParam(r, "space")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	folder, err := strconv.ParseInt(r.PostForm.Get("dossier"), 10, 64)
	if err != nil || folder < 0 {
		folder = 0
	}
	if _, err := s.cfg.Files.CreateFolder(r.Context(), currentUser(r).Principal, space, folder, r.PostForm.Get("nom")); err != nil {
		s.formFailure(w, r, space, folder, 0, "", err)
		return
	}
	http.Redirect(w, r, spaceURL(space, folder, "dossier-cree=1"), http.StatusSeeOther)
}
