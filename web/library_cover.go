package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"preau/ent/library"
	"preau/storage/files"
)

// Covers of the CDI's titles (docs/library.md): the documentaliste picks an
// image of their Documents; the CDI keeps its own copy (like a notice's
// documents), so the cover stays when the file is changed or deleted. A
// cover is never fetched from an address on the web: that would tell a
// third party which pupils look at which book.

// maxCover bounds a cover image.
const maxCover = 5 << 20

// coverTypes are the image types a cover may have (sniffed at upload).
var coverTypes = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}

type libCoverDoc struct {
	ID   int64
	Name string
}

// libCoverDocs lists the images of u's personal Documents (the root and
// its folders, one level down; 100 at most) that may become a cover.
func (s *Server) libCoverDocs(ctx context.Context, u *user) ([]libCoverDoc, error) {
	if s.cfg.Files == nil {
		return nil, nil
	}
	sp, err := s.cfg.Files.PersonalSpace(ctx, u.Principal)
	if err != nil {
		return nil, err
	}
	root, err := s.cfg.Files.List(ctx, u.Principal, sp.ID, 0)
	if err != nil {
		return nil, err
	}
	var out []libCoverDoc
	add := func(prefix string, ns []files.Node) {
		for _, n := range ns {
			if n.Kind == files.File && len(out) < 100 && n.Size <= maxCover && isCoverType(n.ContentType) {
				out = append(out, libCoverDoc{ID: n.ID, Name: prefix + n.Name})
			}
		}
	}
	add("", root.Children)
	for _, f := range root.Children {
		if f.Kind != files.Folder || len(out) >= 100 {
			continue
		}
		l, err := s.cfg.Files.List(ctx, u.Principal, sp.ID, f.ID)
		if err != nil {
			return nil, err
		}
		add(f.Name+" / ", l.Children)
	}
	return out, nil
}

func isCoverType(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	for _, t := range coverTypes {
		if strings.EqualFold(strings.TrimSpace(ct), t) {
			return true
		}
	}
	return false
}

// libCoverSubmit sets the cover of a title from the document of the form
// ("document"; 0 removes the cover).
func (s *Server) libCoverSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	b, err := s.reachLibBook(ctx, u, pathID(r, "id"))
	if err == nil && !library.Manages(u.Principal, b.StructureID) {
		err = library.ErrNotFound
	}
	if err != nil {
		s.libError(w, r, err)
		return
	}
	if s.cfg.Files == nil {
		s.error(w, r, http.StatusBadRequest, "Les documents ne sont pas disponibles sur ce serveur.")
		return
	}
	var c library.Cover
	if id := libFormID(r, "document"); id != 0 {
		a, err := s.cfg.Files.CopyAttachment(ctx, u.Principal, id)
		switch {
		case errors.Is(err, files.ErrNotFound):
			s.error(w, r, http.StatusBadRequest, "Cette image est introuvable dans vos Documents.")
			return
		case errors.Is(err, files.ErrTooLarge):
			s.error(w, r, http.StatusBadRequest, fmt.Sprintf("Une couverture fait %d Mo au plus.", maxCover>>20))
			return
		case err != nil:
			s.fail(w, r, err)
			return
		}
		if !isCoverType(a.ContentType) || a.Size > maxCover {
			s.cfg.Files.DropAttachmentCopies(a.Key)
			s.error(w, r, http.StatusBadRequest, fmt.Sprintf("Une couverture est une image JPEG, PNG, WebP ou GIF de %d Mo au plus.", maxCover>>20))
			return
		}
		c = library.Cover{Key: a.Key, Name: a.Name, ContentType: a.ContentType, SHA256: a.SHA256, Size: a.Size}
	}
	old, err := s.library().SetCover(ctx, b.ID, c)
	if err != nil {
		if c.Key != "" {
			s.cfg.Files.DropAttachmentCopies(c.Key)
		}
		s.libError(w, r, err)
		return
	}
	if old != "" {
		s.cfg.Files.DropAttachmentCopies(old)
	}
	http.Redirect(w, r, fmt.Sprintf("/cdi/livres/%d?ok=couverture", b.ID), http.StatusSeeOther)
}

// libCoverServe sends a title's cover to those who read its catalogue:
// an image of an allowed type, with nosniff and a sandboxing CSP.
func (s *Server) libCoverServe(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	b, err := s.reachLibBook(ctx, u, pathID(r, "id"))
	if err != nil || s.cfg.Files == nil {
		s.notFound(w, r)
		return
	}
	c, err := s.library().Cover(ctx, b.ID)
	if err != nil || !isCoverType(c.ContentType) {
		s.notFound(w, r)
		return
	}
	d, err := s.cfg.Files.OpenAttachmentCopy(c.Key, c.Name, c.Size, c.ContentType, c.SHA256)
	if err != nil {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", c.ContentType)
	h.Set("Content-Disposition", contentDisposition(true, c.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	if d.SHA256 != "" {
		h.Set("ETag", `"`+d.SHA256+`"`)
	}
	rs := s.cfg.Files.Reader(ctx, d)
	defer rs.Close()
	http.ServeContent(w, r, "", time.Time{}, rs)
}
