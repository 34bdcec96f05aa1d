package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"preau/internal/dbtest"
	"preau/storage/files"
)

func TestFileThumbnailAPI(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	lea, hugo := fs.session(t, fs.lea), fs.session(t, fs.hugo)
	w := serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(lea))
	personal := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces[0].ID

	src := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for y := range 400 {
		for x := range 600 {
			src.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var pngData, jpgData bytes.Buffer
	png.Encode(&pngData, src)
	jpeg.Encode(&jpgData, src, nil)
	for _, c := range []struct {
		name  string
		data  []byte
		ctype string
	}{{"dessin.png", pngData.Bytes(), "image/png"}, {"photo.jpg", jpgData.Bytes(), "image/jpeg"}} {
		w = fs.upload(personal, 0, c.name, c.data, lea)
		wantCode(t, w, http.StatusCreated, c.name)
		n := decodeBody[files.Node](t, w)
		url := fmt.Sprintf("/api/v1/files/items/%d/thumbnail", n.ID)
		w = serve(fs.h, "GET", url, "", withCookie(lea))
		wantCode(t, w, http.StatusOK, c.name+" thumbnail")
		h := w.Header()
		if h.Get("Content-Type") != c.ctype || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "private, max-age=86400" {
			t.Errorf("%s: headers %v", c.name, h)
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(w.Body.Bytes()))
		if err != nil || cfg.Width != 256 || cfg.Height != 170 {
			t.Errorf("%s: thumbnail %+v %v", c.name, cfg, err)
		}
		etag := h.Get("ETag")
		wantCode(t, serve(fs.h, "GET", url, "", withCookie(lea), withHeader("If-None-Match", etag)), http.StatusNotModified, c.name+" revalidated")
		// Another pupil's file: as if it did not exist.
		wantCode(t, serve(fs.h, "GET", url, "", withCookie(hugo)), http.StatusNotFound, c.name+" seen by Hugo")
	}

	// Not an image: 415 with a French message.
	w = fs.upload(personal, 0, "page.html", []byte("<html><body>hi</body></html>"), lea)
	page := decodeBody[files.Node](t, w)
	w = serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/items/%d/thumbnail", page.ID), "", withCookie(lea))
	wantCode(t, w, http.StatusUnsupportedMediaType, "thumbnail of a page")
	if e := decodeBody[apiErrorBody](t, w); !strings.Contains(e.Message, "vignette") {
		t.Errorf("message %s", w.Body.String())
	}

	// The Documents list shows image thumbnails.
	w = serve(fs.h, "GET", fmt.Sprintf("/documents/espace/%d", personal), "", withCookie(lea))
	wantCode(t, w, http.StatusOK, "Documents page")
	if !strings.Contains(w.Body.String(), `/thumbnail?size=128&amp;v=`) || !strings.Contains(w.Body.String(), `loading="lazy"`) {
		t.Errorf("no thumbnail in the list:\n%s", w.Body.String())
	}

	// Store down: 503 like the other file routes.
	fs.store.down = true
	wantCode(t, serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/items/%d/thumbnail", page.ID), "", withCookie(lea)), http.StatusServiceUnavailable, "store down")
	fs.store.down = false
	fs.srv.storePing.mu.Lock()
	fs.srv.storePing.at = time.Time{}
	fs.srv.storePing.mu.Unlock()
}
