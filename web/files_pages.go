package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"preau/identity"
	"preau/storage/files"
)

// The Documents pages: the spaces tree, a folder's list, the bin, what is
// shared with the user, and the hand-in view. Lists are rendered here;
// static/files.js uploads (file picker or drag-and-drop, with progress,
// resumable for large files) and runs the actions through /api/v1/files.

func (s *Server) filesPages(r chi.Router) {
	r.Get("/documents", s.documentsHome)
	r.Get("/documents/partages", s.documentsShared)
	r.Get("/documents/espace/{space}", s.documentsSpace)
	r.Post("/documents/espace/{space}/envoyer", s.documentsUploadForm)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/documents/espace/{space}/dossier", s.documentsFolderForm)
	r.Get("/documents/espace/{space}/corbeille", s.documentsBin)
	r.Get("/documents/devoirs/{assignment}", s.documentsAssignment)
}

// docRow is a line of a folder list.
type docRow struct {
	files.Node
	Href    string // folder page or download
	Preview string // inline view of an image or PDF
	Size    string
	Date    string
	Folder  bool
}

type classOption struct {
	ID   int64
	Name string
}

type documentsData struct {
	Spaces       []files.Space
	Space        files.Space
	Listing      files.Listing
	FolderID     int64
	Rows         []docRow
	Usage        files.Usage
	UsageText    string
	MaxUpload    int64
	MaxResumable int64
	PartSize     int64
	Resumable    bool
	Direct       bool // parts go straight to the store (presigned)
	// ShareClasses are the classes the user may share with.
	ShareClasses []classOption
	CanShare     bool
	Assignments  []files.Assignment
	CanAssign    bool
	Tab          string // "space", "bin", "shared"
}

// filesReady answers 404 without a files service, 503 when its store is
// down; ok false when an answer was written.
func (s *Server) filesReady(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Files == nil {
		s.notFound(w, r)
		return false
	}
	if err := s.filesPing(r.Context()); err != nil {
		s.log.Warn("files: store unreachable", "err", err)
		s.error(w, r, http.StatusServiceUnavailable, msgFilesDown)
		return false
	}
	return true
}

func (s *Server) filePageError(w http.ResponseWriter, r *http.Request, err error) {
	code, _, msg := fileFailure(err)
	if code == http.StatusNotFound {
		s.notFound(w, r)
		return
	}
	if code >= 500 {
		s.log.Error("files page", "path", r.URL.Path, "err", err)
	}
	s.error(w, r, code, msg)
}

func (s *Server) documentsHome(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	sp, err := s.cfg.Files.PersonalSpace(r.Context(), currentUser(r).Principal)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/documents/espace/"+strconv.FormatInt(sp.ID, 10), http.StatusSeeOther)
}

// baseData fills what every Documents page shows: the spaces tree.
func (s *Server) baseData(r *http.Request) (documentsData, error) {
	max1, max2 := s.cfg.Files.Limits()
	d := documentsData{MaxUpload: max1, MaxResumable: max2, PartSize: files.PartSize, Resumable: s.cfg.Files.Resumable(),
		Direct: s.cfg.Files.DirectUploads()}
	var err error
	d.Spaces, err = s.cfg.Files.Spaces(r.Context(), currentUser(r).Principal)
	return d, err
}

func (s *Server) documentsSpace(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	space, ok1 := idParam(r, "space")
	folder, ok2 := queryID(r, "dossier")
	if !ok1 || !ok2 {
		s.notFound(w, r)
		return
	}
	v, err := s.spaceView(r, space, folder)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	v.Flash = spaceFlash(r.URL.Query())
	s.render(w, r, http.StatusOK, "documents", v)
}

// spaceView builds the page of a folder of a space (0: its root).
func (s *Server) spaceView(r *http.Request, space, folder int64) (view, error) {
	ctx := r.Context()
	u := currentUser(r)
	d, err := s.baseData(r)
	if err != nil {
		return view{}, err
	}
	d.Tab, d.FolderID = "space", folder
	if d.Listing, err = s.cfg.Files.List(ctx, u.Principal, space, folder); err != nil {
		return view{}, err
	}
	d.Space = d.Listing.Space
	for _, n := range d.Listing.Children {
		d.Rows = append(d.Rows, s.docRow(n))
	}
	if d.Listing.CanWrite || folder == 0 {
		if d.Usage, err = s.cfg.Files.SpaceUsage(ctx, u.Principal, space); err == nil {
			d.UsageText = frBytes(d.Usage.Used) + " utilisés sur " + frBytes(d.Usage.Limit)
		}
	}
	d.CanShare = d.Space.CanWrite && d.Space.Kind != files.HandIn
	if d.CanShare {
		for _, id := range u.Classes {
			if c, err := s.dir.Class(ctx, id); err == nil {
				d.ShareClasses = append(d.ShareClasses, classOption{c.ID, c.Name})
			}
		}
	}
	if d.Space.Kind == files.ClassKind && folder == 0 {
		if d.Assignments, err = s.cfg.Files.Assignments(ctx, u.Principal, d.Space.ClassID); err != nil && !errors.Is(err, files.ErrNotFound) {
			return view{}, err
		}
		c, _ := s.dir.Class(ctx, d.Space.ClassID)
		d.CanAssign = u.Can(identity.Assignment, identity.Create, identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}})
	}
	return view{Title: "Documents — " + d.Space.Name, Data: d}, nil
}

func (s *Server) docRow(n files.Node) docRow {
	row := docRow{Node: n, Date: frDateTime(n.UpdatedAt), Folder: n.Kind == files.Folder}
	if row.Folder {
		row.Href = "/documents/espace/" + strconv.FormatInt(n.SpaceID, 10) + "?dossier=" + strconv.FormatInt(n.ID, 10)
	} else {
		content := "/api/v1/files/items/" + strconv.FormatInt(n.ID, 10) + "/content"
		row.Href, row.Preview = content, content+"?inline=1"
		if s.cfg.Files.DirectDownloads() {
			// Straight from MinIO after the access check: Préau does not
			// carry the bytes (docs/benchmarks.md, download figures).
			row.Href += "?direct=1"
		}
		row.Size = frBytes(n.Size)
	}
	return row
}

func (s *Server) documentsBin(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	space, ok := idParam(r, "space")
	if !ok {
		s.notFound(w, r)
		return
	}
	u := currentUser(r)
	d, err := s.baseData(r)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	d.Tab = "bin"
	if d.Listing, err = s.cfg.Files.List(r.Context(), u.Principal, space, 0); err != nil {
		s.filePageError(w, r, err)
		return
	}
	d.Space = d.Listing.Space
	bin, err := s.cfg.Files.Bin(r.Context(), u.Principal, space)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	for _, n := range bin {
		row := s.docRow(n)
		row.Href = ""
		if n.DeletedAt != nil {
			row.Date = frDateTime(*n.DeletedAt)
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, http.StatusOK, "documents", view{Title: "Corbeille — " + d.Space.Name, Data: d})
}

func (s *Server) documentsShared(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	d, err := s.baseData(r)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	d.Tab = "shared"
	shared, err := s.cfg.Files.SharedWithMe(r.Context(), currentUser(r).Principal)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	for _, n := range shared {
		d.Rows = append(d.Rows, s.docRow(n))
	}
	s.render(w, r, http.StatusOK, "documents", view{Title: "Partagés avec moi", Data: d})
}

type assignmentData struct {
	Assignment files.Assignment
	Due        string
	HandIns    []handInRow
	Missing    int
	// Pupil side: their folder and what it holds.
	Folder    files.Node
	Rows      []docRow
	MaxUpload int64
}

type handInRow struct {
	files.HandInStatus
	Href string
	Last string
}

func (s *Server) documentsAssignment(w http.ResponseWriter, r *http.Request) {
	if !s.filesReady(w, r) {
		return
	}
	id, ok := idParam(r, "assignment")
	if !ok {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	p := currentUser(r).Principal
	a, err := s.cfg.Files.GetAssignment(ctx, p, id)
	if err != nil {
		s.filePageError(w, r, err)
		return
	}
	max1, _ := s.cfg.Files.Limits()
	d := assignmentData{Assignment: a, Due: frDateTime(a.DueAt), MaxUpload: max1}
	if a.Teacher {
		hs, err := s.cfg.Files.HandIns(ctx, p, id)
		if err != nil {
			s.filePageError(w, r, err)
			return
		}
		for _, h := range hs {
			row := handInRow{HandInStatus: h}
			if h.FolderID != 0 {
				row.Href = "/documents/espace/" + strconv.FormatInt(a.SpaceID, 10) + "?dossier=" + strconv.FormatInt(h.FolderID, 10)
			}
			if h.LastAt != nil {
				row.Last = frDateTime(*h.LastAt)
			}
			if h.Files == 0 {
				d.Missing++
			}
			d.HandIns = append(d.HandIns, row)
		}
	} else {
		if d.Folder, err = s.cfg.Files.HandInFolder(ctx, p, id); err != nil {
			s.filePageError(w, r, err)
			return
		}
		l, err := s.cfg.Files.List(ctx, p, a.SpaceID, d.Folder.ID)
		if err != nil {
			s.filePageError(w, r, err)
			return
		}
		for _, n := range l.Children {
			d.Rows = append(d.Rows, s.docRow(n))
		}
	}
	s.render(w, r, http.StatusOK, "documents_assignment", view{Title: a.Title, Data: d})
}
