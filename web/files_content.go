package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"preau/storage/files"
)

// apiFileContent sends a file's content with range support (a video plays
// and seeks). It is an attachment (RFC 6266) unless ?inline=1 asks to show
// it and it sniffed as an allowed image or a PDF; either way nosniff and a
// sandboxing CSP keep the browser from running anything in it. With
// ?direct=1 on an S3 store it redirects to a presigned URL instead.
func (s *Server) apiFileContent(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var version int64
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.notFound(w, r)
			return
		}
		version = n
	}
	d, err := s.cfg.Files.Open(r.Context(), currentUser(r).Principal, id, version)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	inline := r.URL.Query().Get("inline") == "1" && files.Inline(d.ContentType)
	if r.URL.Query().Get("direct") == "1" && !inline {
		// On S3, the bytes may go straight from MinIO to the browser: a
		// presigned URL, valid 5 minutes, handed out after the check above.
		u, err := s.cfg.Files.DirectURL(r.Context(), d)
		if err != nil {
			s.fileError(w, r, err)
			return
		}
		if u != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, u, http.StatusFound)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", downloadType(d.ContentType))
	h.Set("Content-Disposition", contentDisposition(inline, d.Node.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	if inline && d.ContentType == "application/pdf" {
		// Browsers refuse to run their PDF viewer in a sandboxed document;
		// the viewer runs no script from the file.
		h.Set("Content-Security-Policy", "default-src 'none'; object-src 'self'; frame-ancestors 'self'")
	} else {
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; sandbox")
	}
	h.Set("Cache-Control", "private, no-cache")
	if d.SHA256 != "" {
		h.Set("ETag", `"`+d.SHA256+`"`)
	} else {
		h.Set("ETag", `"`+strings.ReplaceAll(d.Key, "/", "-")+`"`)
	}
	rs := s.cfg.Files.Reader(r.Context(), d)
	defer rs.Close()
	http.ServeContent(bigCopyWriter{w}, r, "", d.Node.UpdatedAt, rs)
}

// copyBufs holds the buffers of bigCopyWriter: one per download in flight.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

const (
	copyBufSize = 256 << 10
	copyFill    = 128 << 10 // read at least this much before writing
)

// bigCopyWriter copies a download from the store to the client in writes of
// at least copyFill bytes instead of net/http's 32 KiB: each write is a
// system call, and a 100 MB file then takes ≈ 800 of them instead of 3,200
// (docs/benchmarks.md, "Files"). Only ReadFrom differs; Write, headers and
// status go to the wrapped writer.
type bigCopyWriter struct{ http.ResponseWriter }

// ReadFrom implements io.ReaderFrom, which io.Copy in http.ServeContent uses.
func (w bigCopyWriter) ReadFrom(src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := 0, error(nil)
		for n < copyFill && err == nil {
			var k int
			k, err = src.Read(buf[n:])
			n += k
		}
		if n > 0 {
			m, werr := w.ResponseWriter.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// downloadType is the Content-Type a file is sent with: its sniffed type
// where that cannot run script, application/octet-stream otherwise (an
// HTML page is downloaded, never rendered from our origin).
func downloadType(ct string) string {
	switch {
	case files.Inline(ct), strings.HasPrefix(ct, "video/"), strings.HasPrefix(ct, "audio/"),
		ct == "text/plain", ct == "application/zip", ct == "application/x-gzip", ct == "application/ogg":
		if ct == "text/plain" {
			return "text/plain; charset=utf-8"
		}
		return ct
	}
	return "application/octet-stream"
}

// contentDisposition builds an RFC 6266 header: an ASCII fallback name for
// old clients and the real name as UTF-8 in filename* (RFC 8187).
func contentDisposition(inline bool, name string) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	var ascii, ext strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%':
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	const attrChar = "!#$&+-.^_`|~"
	for _, b := range []byte(name) {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', strings.IndexByte(attrChar, b) >= 0:
			ext.WriteByte(b)
		default:
			ext.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(b)|0x100, 16)[1:]))
		}
	}
	return kind + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// apiFileThumbnail sends a small JPEG or PNG of an image file (?size=128 or
// 256, the default), made once per version and cached in the store. It is
// an image made by Préau, not the user's bytes, and is cached by the
// browser for a day: the pages add the version's date to its URL.
func (s *Server) apiFileThumbnail(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	size := files.MaxThumbnail
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.notFound(w, r)
			return
		}
		size = n
	}
	th, err := s.cfg.Files.Thumbnail(r.Context(), currentUser(r).Principal, id, size)
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", th.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("ETag", th.ETag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == th.ETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(th.Data)))
	w.Write(th.Data)
}

// serveDownload sends d, a Documents file attached somewhere (a message, a
// notice, a homework entry, a course, a justification, an application), as
// a download under name: never rendered by the browser (a sandbox, no
// sniffing), revalidated each time, with its SHA-256 as ETag when known.
// The caller has checked the access.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, d files.Download, name string, modified time.Time) {
	h := w.Header()
	h.Set("Content-Type", downloadType(d.ContentType))
	h.Set("Content-Disposition", contentDisposition(false, name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	if d.SHA256 != "" {
		h.Set("ETag", `"`+d.SHA256+`"`)
	}
	rs := s.cfg.Files.Reader(r.Context(), d)
	defer rs.Close()
	http.ServeContent(w, r, "", modified, rs)
}

// serveVersion sends version n of Documents file id, as it was attached to a
// homework entry or a course item, for download under name; the caller has
// checked the access. A version pruned since answers 404.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request, id, n int64, name string) {
	ctx := r.Context()
	d, err := s.cfg.Files.OpenVersion(ctx, id, n)
	if errors.Is(err, files.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveDownload(w, r, d, name, d.Node.CreatedAt)
}
