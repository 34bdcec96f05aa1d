package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/storage/files"
)

// The Documents API (/api/v1/files/…, docs/files.md): spaces, folders,
// uploads (one request, or resumable in parts), downloads with ranges,
// rename/move/copy, bin, versions, shares, quotas and hand-in assignments.
// Config.Files nil: every route answers 404. The content store unreachable:
// 503 with a French message, within 2 seconds, while the rest of the site
// keeps working.

// filesAPI mounts the routes. Upload routes take their own body limits (the
// rest of /api/v1 is capped at Config.MaxBody), so they are mounted beside
// /api/v1 rather than inside it.
func (s *Server) filesAPI(r chi.Router) {
	r.Use(s.requireAPI, s.filesEnabled, s.filesStoreUp)
	small := s.limitBody(s.cfg.MaxBody)
	r.With(small).Get("/spaces", s.apiFileSpaces)
	r.With(small).Get("/spaces/{space}/items", s.apiFileList)
	r.With(small).Post("/spaces/{space}/folders", s.apiFileMkdir)
	r.Post("/spaces/{space}/upload", s.apiFileUpload)
	r.With(small).Get("/spaces/{space}/quota", s.apiFileQuota)
	r.With(small).Get("/spaces/{space}/bin", s.apiFileBin)
	r.With(small).Post("/uploads", s.apiUploadBegin)
	r.With(small).Get("/uploads/{upload}", s.apiUploadStatus)
	r.Put("/uploads/{upload}/parts/{n}", s.apiUploadPart)
	r.With(small).Post("/uploads/{upload}/part-urls", s.apiUploadPartURLs)
	r.With(small).Post("/uploads/{upload}/complete", s.apiUploadComplete)
	r.With(small).Delete("/uploads/{upload}", s.apiUploadAbort)
	r.With(small).Get("/items/{id}", s.apiFileGet)
	r.With(small).Patch("/items/{id}", s.apiFileUpdate)
	r.With(small).Delete("/items/{id}", s.apiFileDelete)
	r.Get("/items/{id}/content", s.apiFileContent)
	r.With(small).Get("/items/{id}/thumbnail", s.apiFileThumbnail)
	r.With(small).Post("/items/{id}/copy", s.apiFileCopy)
	r.With(small).Post("/items/{id}/restore", s.apiFileRestore)
	r.With(small).Post("/items/{id}/purge", s.apiFilePurge)
	r.With(small).Get("/items/{id}/versions", s.apiFileVersions)
	r.With(small).Post("/items/{id}/versions/{n}/restore", s.apiFileVersionRestore)
	r.With(small).Get("/items/{id}/shares", s.apiFileShares)
	r.With(small).Put("/items/{id}/shares", s.apiFileShare)
	r.With(small).Delete("/items/{id}/shares/{kind}/{grantee}", s.apiFileUnshare)
	r.With(small).Get("/quotas/{kind}/{subject}", s.apiFileGetQuota)
	r.With(small).Put("/quotas/{kind}/{subject}", s.apiFileSetQuota)
	r.With(small).Get("/quota-defaults", s.apiQuotaDefaults)
	r.With(small).Put("/quota-defaults/{subject}", s.apiSetQuotaDefault)
	r.With(small).Get("/classes/{class}/assignments", s.apiAssignments)
	r.With(small).Post("/classes/{class}/assignments", s.apiAssignmentCreate)
	r.With(small).Get("/assignments/{assignment}", s.apiAssignment)
	r.With(small).Get("/assignments/{assignment}/handins", s.apiHandIns)
	r.With(small).Post("/assignments/{assignment}/folder", s.apiHandInFolder)
}

// filesEnabled answers 404 when the site has no files service.
func (s *Server) filesEnabled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Files == nil {
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// storePing remembers a failed check of the content store for a second, so
// that a burst of requests does not wait on a dead store one by one. A good
// check is not remembered: the next request after an outage sees it.
type storePing struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

const msgFilesDown = "Les documents sont momentanément indisponibles (stockage injoignable). Réessayez dans quelques minutes ; le reste de Préau fonctionne."

// filesStoreUp answers 503 within 2 seconds when the content store is
// unreachable, before a route that needs it reads a request body.
func (s *Server) filesStoreUp(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.filesPing(r.Context()); err != nil {
			s.log.Warn("files: store unreachable", "err", err)
			w.Header().Set("Retry-After", "30")
			s.error(w, r, http.StatusServiceUnavailable, msgFilesDown)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) filesPing(ctx context.Context) error {
	p := &s.storePing
	p.mu.Lock()
	if p.err != nil && time.Since(p.at) < time.Second {
		err := p.err
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := s.cfg.Files.Ping(ctx)
	p.mu.Lock()
	p.at, p.err = time.Now(), err
	p.mu.Unlock()
	return err
}

// fileFailure turns a files error into a status, a code and a French message.
func fileFailure(err error) (int, string, string) {
	var ne *files.NameError
	var qe *files.QuotaError
	var mp *files.MissingPartsError
	switch {
	case errors.Is(err, files.ErrNotFound):
		return http.StatusNotFound, "not_found", "Ce document n'existe pas, ou vous n'y avez pas accès."
	case errors.Is(err, files.ErrForbidden):
		return http.StatusForbidden, "read_only", "Vous pouvez consulter cet élément, mais pas le modifier."
	case errors.As(err, &ne):
		return http.StatusBadRequest, "bad_name", ne.Msg
	case errors.Is(err, files.ErrExists):
		return http.StatusConflict, "name_taken", "Un élément porte déjà ce nom dans ce dossier."
	case errors.Is(err, files.ErrEmpty):
		return http.StatusBadRequest, "empty_file", "Le fichier est vide (0 octet) : il n'a pas été envoyé."
	case errors.Is(err, files.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", "Le fichier est trop gros (100 Mo au plus en un envoi, 2 Go en envoi par morceaux)."
	case errors.Is(err, files.ErrBadContent):
		return http.StatusUnsupportedMediaType, "bad_content", "Le contenu de ce fichier ne correspond pas à son nom (par exemple une page web nommée « .png ») : il a été refusé."
	case errors.Is(err, files.ErrNoThumbnail):
		return http.StatusUnsupportedMediaType, "no_thumbnail", "Pas de vignette pour ce fichier : seules les images JPEG, PNG et GIF de taille raisonnable en ont une."
	case errors.Is(err, files.ErrInterrupted):
		return http.StatusBadRequest, "interrupted", "L'envoi a été interrompu avant la fin : rien n'a été enregistré. Réessayez."
	case errors.As(err, &mp):
		return http.StatusConflict, "parts_missing", fmt.Sprintf("Il manque %d morceau(x) du fichier : renvoyez-les puis terminez l'envoi.", len(mp.Missing))
	case errors.Is(err, files.ErrBadMove):
		return http.StatusBadRequest, "bad_move", "Impossible de déplacer un dossier dans lui-même, ou vers un autre espace (copiez-le plutôt)."
	case errors.As(err, &qe):
		who := "Votre espace"
		if qe.Kind == "class" {
			who = "L'espace de la classe"
		}
		return http.StatusInsufficientStorage, "quota_full", fmt.Sprintf("%s est plein : %s utilisés sur %s, il manque %s. Supprimez des fichiers et videz la corbeille, ou demandez plus de place à l'administrateur.",
			who, frBytes(qe.Used), frBytes(qe.Limit), frBytes(qe.Used+qe.Need-qe.Limit))
	case errors.Is(err, files.ErrInvalid):
		return http.StatusBadRequest, "invalid", "Requête invalide : " + strings.TrimPrefix(err.Error(), "files: invalid request: ") + "."
	case errors.Is(err, files.ErrUnavailable):
		return http.StatusServiceUnavailable, "storage_unavailable", msgFilesDown
	}
	return http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible. Réessayez dans un instant."
}

func (s *Server) fileError(w http.ResponseWriter, r *http.Request, err error) {
	code, errCode, msg := fileFailure(err)
	if code >= 500 && code != http.StatusInsufficientStorage {
		s.log.Error("files", "path", r.URL.Path, "err", err)
	}
	var mp *files.MissingPartsError
	if errors.As(err, &mp) {
		writeJSON(w, code, struct {
			apiErrorBody
			Missing []int `json:"missing"`
		}{apiErrorBody{errCode, msg}, mp.Missing})
		return
	}
	apiError(w, code, errCode, msg)
}

// frBytes writes a size the French way: "1,5 Mo".
func frBytes(n int64) string {
	units := []string{"octets", "Ko", "Mo", "Go", "To"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d %s", n, units[0])
	}
	return strings.Replace(strconv.FormatFloat(f, 'f', 1, 64), ".", ",", 1) + " " + units[i]
}

func idParam(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	return id, err == nil && id > 0
}

// queryID reads an optional id from the query string (absent: 0).
func queryID(r *http.Request, name string) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id >= 0
}

func (s *Server) apiFileSpaces(w http.ResponseWriter, r *http.Request) {
	p := currentUser(r).Principal
	sps, err := s.cfg.Files.Spaces(r.Context(), p)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	shared, err := s.cfg.Files.SharedWithMe(r.Context(), p)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	max1, max2 := s.cfg.Files.Limits()
	writeJSON(w, http.StatusOK, map[string]any{"spaces": sps, "shared": shared,
		"max_upload": max1, "max_resumable": max2, "part_size": files.PartSize, "resumable": s.cfg.Files.Resumable(),
		"direct": s.cfg.Files.DirectUploads()})
}

func (s *Server) apiFileList(w http.ResponseWriter, r *http.Request) {
	space, ok1 := idParam(r, "space")
	folder, ok2 := queryID(r, "folder")
	if !ok1 || !ok2 {
		s.notFound(w, r)
		return
	}
	l, err := s.cfg.Files.List(r.Context(), currentUser(r).Principal, space, folder)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

type mkdirRequest struct {
	Parent int64  `json:"parent"`
	Name   string `json:"name"`
}

func (s *Server) apiFileMkdir(w http.ResponseWriter, r *http.Request) {
	space, ok := idParam(r, "space")
	if !ok {
		s.notFound(w, r)
		return
	}
	var req mkdirRequest
	if !readJSON(w, r, &req) {
		return
	}
	n, err := s.cfg.Files.CreateFolder(r.Context(), currentUser(r).Principal, space, req.Parent, req.Name)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

// apiFileUpload takes a file in one request: the raw bytes as the body
// (Content-Length required), the name and folder in the query string. The
// body is streamed to the store.
func (s *Server) apiFileUpload(w http.ResponseWriter, r *http.Request) {
	space, ok1 := idParam(r, "space")
	folder, ok2 := queryID(r, "folder")
	if !ok1 || !ok2 {
		s.notFound(w, r)
		return
	}
	if r.ContentLength < 0 {
		apiError(w, http.StatusLengthRequired, "length_required", "La taille du fichier (Content-Length) est requise.")
		return
	}
	maxUp, _ := s.cfg.Files.Limits()
	if r.ContentLength > maxUp {
		s.fileError(w, r, files.ErrTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUp)
	n, err := s.cfg.Files.Upload(r.Context(), currentUser(r).Principal, files.Upload{SpaceID: space, FolderID: folder,
		Name: r.URL.Query().Get("name"), Size: r.ContentLength, Body: r.Body})
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func (s *Server) apiFileQuota(w http.ResponseWriter, r *http.Request) {
	space, ok := idParam(r, "space")
	if !ok {
		s.notFound(w, r)
		return
	}
	u, err := s.cfg.Files.SpaceUsage(r.Context(), currentUser(r).Principal, space)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiFileBin(w http.ResponseWriter, r *http.Request) {
	space, ok := idParam(r, "space")
	if !ok {
		s.notFound(w, r)
		return
	}
	ns, err := s.cfg.Files.Bin(r.Context(), currentUser(r).Principal, space)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ns)
}

type beginUploadRequest struct {
	Space  int64  `json:"space"`
	Folder int64  `json:"folder"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
}

func (s *Server) apiUploadBegin(w http.ResponseWriter, r *http.Request) {
	var req beginUploadRequest
	if !readJSON(w, r, &req) {
		return
	}
	u, err := s.cfg.Files.BeginUpload(r.Context(), currentUser(r).Principal, req.Space, req.Folder, req.Name, req.Size)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiUploadStatus(w http.ResponseWriter, r *http.Request) {
	u, err := s.cfg.Files.UploadStatus(r.Context(), currentUser(r).Principal, chi.URLParam(r, "upload"))
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUploadPart(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	if err != nil || n < 1 {
		s.notFound(w, r)
		return
	}
	if r.ContentLength < 0 {
		apiError(w, http.StatusLengthRequired, "length_required", "La taille du morceau (Content-Length) est requise.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, files.PartSize)
	u, err := s.cfg.Files.PutPart(r.Context(), currentUser(r).Principal, chi.URLParam(r, "upload"), n, r.ContentLength, r.Body)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// apiUploadPartURLs hands out presigned URLs (5 minutes) that the browser
// PUTs parts straight to, where the store allows it (docs/files.md).
func (s *Server) apiUploadPartURLs(w http.ResponseWriter, r *http.Request) {
	var req struct {
		From  int `json:"from"`
		Count int `json:"count"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	urls, exp, err := s.cfg.Files.PartURLs(r.Context(), currentUser(r).Principal, chi.URLParam(r, "upload"), req.From, req.Count)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		URLs      []files.PartURL `json:"urls"`
		ExpiresAt time.Time       `json:"expires_at"`
	}{urls, exp})
}

func (s *Server) apiUploadComplete(w http.ResponseWriter, r *http.Request) {
	n, err := s.cfg.Files.CompleteUpload(r.Context(), currentUser(r).Principal, chi.URLParam(r, "upload"))
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func (s *Server) apiUploadAbort(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Files.AbortUpload(r.Context(), currentUser(r).Principal, chi.URLParam(r, "upload")); err != nil {
		s.fileError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// withID runs fn with the {id} of the URL, 404 when it is not one.
func (s *Server) withID(w http.ResponseWriter, r *http.Request, fn func(id int64) (any, error)) {
	id, ok := idParam(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	v, err := fn(id)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiFileGet(w http.ResponseWriter, r *http.Request) {
	s.withID(w, r, func(id int64) (any, error) { return s.cfg.Files.Get(r.Context(), currentUser(r).Principal, id) })
}

// updateRequest renames (name) and/or moves (parent, within the space).
type updateRequest struct {
	Name   *string `json:"name"`
	Parent *int64  `json:"parent"`
}

func (s *Server) apiFileUpdate(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.withID(w, r, func(id int64) (any, error) {
		p := currentUser(r).Principal
		var n files.Node
		var err error
		if req.Parent != nil {
			if n, err = s.cfg.Files.Move(r.Context(), p, id, *req.Parent); err != nil {
				return nil, err
			}
		}
		if req.Name != nil {
			if n, err = s.cfg.Files.Rename(r.Context(), p, id, *req.Name); err != nil {
				return nil, err
			}
		}
		if req.Name == nil && req.Parent == nil {
			return nil, fmt.Errorf("%w: nothing to change", files.ErrInvalid)
		}
		return n, nil
	})
}

func (s *Server) apiFileDelete(w http.ResponseWriter, r *http.Request) {
	s.withID(w, r, func(id int64) (any, error) {
		return nil, s.cfg.Files.Delete(r.Context(), currentUser(r).Principal, id)
	})
}

type copyRequest struct {
	Space  int64 `json:"space"`
	Folder int64 `json:"folder"`
}

func (s *Server) apiFileCopy(w http.ResponseWriter, r *http.Request) {
	var req copyRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.withID(w, r, func(id int64) (any, error) {
		return s.cfg.Files.Copy(r.Context(), currentUser(r).Principal, id, req.Space, req.Folder)
	})
}

func (s *Server) apiFileRestore(w http.ResponseWriter, r *http.Request) {
	s.withID(w, r, func(id int64) (any, error) { return s.cfg.Files.Restore(r.Context(), currentUser(r).Principal, id) })
}

func (s *Server) apiFilePurge(w http.ResponseWriter, r *http.Request) {
	s.withID(w, r, func(id int64) (any, error) {
		return nil, s.cfg.Files.Purge(r.Context(), currentUser(r).Principal, id)
	})
}

func (s *Server) apiFileVersions(w http.ResponseWriter, r *http.Request) {
	s.withID(w, r, func(id int64) (any, error) { return s.cfg.Files.Versions(r.Context(), currentUser(r).Principal, id) })
}

func (s *Server) apiFileVersionRestore(w http.ResponseWriter, r *http.Request) {
	n, ok := idParam(r, "n")
	if !ok {
		s.notFound(w, r)
		return
	}
	s.withID(w, r, func(id int64) (any, error) {
		return s.cfg.Files.RestoreVersion(r.Context(), currentUser(r).Principal, id, n)
	})
}

func (s *Server) apiFileShares(w http.ResponseWriter, r *http.Request) {
	s.withID(w, r, func(id int64) (any, error) { return s.cfg.Files.Shares(r.Context(), currentUser(r).Principal, id) })
}

type shareRequest struct {
	Kind  string `json:"kind"` // person | class
	ID    int64  `json:"id"`
	Write bool   `json:"write"`
}

func (s *Server) apiFileShare(w http.ResponseWriter, r *http.Request) {
	var req shareRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.withID(w, r, func(id int64) (any, error) {
		return s.cfg.Files.SetShare(r.Context(), currentUser(r).Principal, id, req.Kind, req.ID, req.Write)
	})
}

func (s *Server) apiFileUnshare(w http.ResponseWriter, r *http.Request) {
	grantee, ok := idParam(r, "grantee")
	if !ok {
		s.notFound(w, r)
		return
	}
	s.withID(w, r, func(id int64) (any, error) {
		return nil, s.cfg.Files.RemoveShare(r.Context(), currentUser(r).Principal, id, chi.URLParam(r, "kind"), grantee)
	})
}

type quotaRequest struct {
	Limit int64 `json:"limit"`
}

func (s *Server) apiFileSetQuota(w http.ResponseWriter, r *http.Request) {
	subject, ok := idParam(r, "subject")
	if !ok {
		s.notFound(w, r)
		return
	}
	var req quotaRequest
	if !readJSON(w, r, &req) {
		return
	}
	u, err := s.cfg.Files.SetQuota(r.Context(), currentUser(r).Principal, chi.URLParam(r, "kind"), subject, req.Limit)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiFileGetQuota(w http.ResponseWriter, r *http.Request) {
	subject, ok := idParam(r, "subject")
	if !ok {
		s.notFound(w, r)
		return
	}
	u, err := s.cfg.Files.Quota(r.Context(), currentUser(r).Principal, chi.URLParam(r, "kind"), subject)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiQuotaDefaults(w http.ResponseWriter, r *http.Request) {
	ds, err := s.cfg.Files.QuotaDefaults(r.Context())
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ds)
}

func (s *Server) apiSetQuotaDefault(w http.ResponseWriter, r *http.Request) {
	var req quotaRequest
	if !readJSON(w, r, &req) {
		return
	}
	ctx, p := r.Context(), currentUser(r).Principal
	if err := s.cfg.Files.SetQuotaDefault(ctx, p, chi.URLParam(r, "subject"), req.Limit); err != nil {
		s.fileError(w, r, err)
		return
	}
	s.apiQuotaDefaults(w, r)
}

func (s *Server) apiAssignments(w http.ResponseWriter, r *http.Request) {
	class, ok := idParam(r, "class")
	if !ok {
		s.notFound(w, r)
		return
	}
	as, err := s.cfg.Files.Assignments(r.Context(), currentUser(r).Principal, class)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, as)
}

type assignmentRequest struct {
	Title        string    `json:"title"`
	Instructions string    `json:"instructions"`
	DueAt        time.Time `json:"due_at"`
}

func (s *Server) apiAssignmentCreate(w http.ResponseWriter, r *http.Request) {
	class, ok := idParam(r, "class")
	if !ok {
		s.notFound(w, r)
		return
	}
	var req assignmentRequest
	if !readJSON(w, r, &req) {
		return
	}
	a, err := s.cfg.Files.CreateAssignment(r.Context(), currentUser(r).Principal, class, req.Title, req.Instructions, req.DueAt)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiAssignment(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "assignment")
	if !ok {
		s.notFound(w, r)
		return
	}
	a, err := s.cfg.Files.GetAssignment(r.Context(), currentUser(r).Principal, id)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiHandIns(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "assignment")
	if !ok {
		s.notFound(w, r)
		return
	}
	hs, err := s.cfg.Files.HandIns(r.Context(), currentUser(r).Principal, id)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hs)
}

func (s *Server) apiHandInFolder(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "assignment")
	if !ok {
		s.notFound(w, r)
		return
	}
	n, err := s.cfg.Files.HandInFolder(r.Context(), currentUser(r).Principal, id)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}
