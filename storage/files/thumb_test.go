package files_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"preau/db"
	"preau/internal/dbtest"
	"preau/storage"
	"preau/storage/disk"
	"preau/storage/files"
)

// countingStore counts the reads of file contents ("v/" keys), to tell a
// thumbnail made from the file from one read back from the cache.
type countingStore struct {
	storage.Store
	contentGets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if strings.HasPrefix(key, "v/") {
		c.contentGets.Add(1)
	}
	return c.Store.Get(ctx, key, off, n)
}

func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

// hugePNG is a valid PNG header claiming 50,000 × 50,000 pixels, followed
// by a tiny IDAT: a few dozen bytes that would decode to 10 GB.
func hugePNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 50000)
	binary.BigEndian.PutUint32(ihdr[4:], 50000)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestThumbnail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ds, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ds.Close() })
		cs := &countingStore{Store: ds}
		s := newSchoolOn(t, d, cs, files.Config{})
		sp := s.personal(t, s.lea)

		var pngSrc, jpgSrc bytes.Buffer
		png.Encode(&pngSrc, testImage(800, 300))
		jpeg.Encode(&jpgSrc, testImage(300, 1000), nil)
		for _, c := range []struct {
			name  string
			data  []byte
			ctype string
			w, h  int
		}{
			{"photo.png", pngSrc.Bytes(), "image/png", 256, 96},
			{"photo.jpg", jpgSrc.Bytes(), "image/jpeg", 76, 256},
		} {
			n, err := s.upload(s.lea, sp, 0, c.name, c.data)
			if err != nil {
				t.Fatal(err)
			}
			before := cs.contentGets.Load()
			th, err := s.svc.Thumbnail(s.ctx, s.lea, n.ID, 256)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if th.ContentType != c.ctype {
				t.Errorf("%s: type %s, want %s", c.name, th.ContentType, c.ctype)
			}
			img, _, err := image.Decode(bytes.NewReader(th.Data))
			if err != nil {
				t.Fatalf("%s: thumbnail does not decode: %v", c.name, err)
			}
			if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
				t.Errorf("%s: thumbnail %v, want %d×%d", c.name, b, c.w, c.h)
			}
			if got := cs.contentGets.Load() - before; got != 1 {
				t.Errorf("%s: first thumbnail read the file %d times", c.name, got)
			}
			again, err := s.svc.Thumbnail(s.ctx, s.lea, n.ID, 256)
			if err != nil || !bytes.Equal(again.Data, th.Data) || again.ETag != th.ETag {
				t.Errorf("%s: second thumbnail differs: %v", c.name, err)
			}
			if got := cs.contentGets.Load() - before; got != 1 {
				t.Errorf("%s: second thumbnail read the file again (%d reads): not cached", c.name, got)
			}
			small, err := s.svc.Thumbnail(s.ctx, s.lea, n.ID, 64)
			if err != nil {
				t.Fatal(err)
			}
			if cfg, _, err := image.DecodeConfig(bytes.NewReader(small.Data)); err != nil || max(cfg.Width, cfg.Height) != 128 {
				t.Errorf("%s: small thumbnail %+v %v", c.name, cfg, err)
			}

			// Another pupil: not found, as for a download.
			if _, err := s.svc.Thumbnail(s.ctx, s.tom, n.ID, 256); !errors.Is(err, files.ErrNotFound) {
				t.Errorf("%s: Tom gets Léa's thumbnail: %v", c.name, err)
			}
		}

		// The decompression bomb is refused from its header.
		bomb, err := s.upload(s.lea, sp, 0, "bombe.png", hugePNG())
		if err != nil {
			t.Fatal(err)
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if _, err := s.svc.Thumbnail(s.ctx, s.lea, bomb.ID, 256); !errors.Is(err, files.ErrNoThumbnail) {
			t.Errorf("50,000 × 50,000 PNG: %v", err)
		}
		runtime.ReadMemStats(&m1)
		if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 64<<20 {
			t.Errorf("the refused bomb allocated %d bytes", grew)
		}

		// Not an image by its content.
		html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
		if _, err := s.upload(s.lea, sp, 0, "piège.png", html); !errors.Is(err, files.ErrBadContent) {
			t.Errorf("HTML named .png uploaded: %v", err)
		}
		page, err := s.upload(s.lea, sp, 0, "page.html", html)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Thumbnail(s.ctx, s.lea, page.ID, 256); !errors.Is(err, files.ErrNoThumbnail) {
			t.Errorf("thumbnail of an HTML page: %v", err)
		}
		// A PNG signature over garbage sniffs as PNG but does not decode.
		fake := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		fn, err := s.upload(s.lea, sp, 0, "faux.png", fake)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Thumbnail(s.ctx, s.lea, fn.ID, 256); !errors.Is(err, files.ErrNoThumbnail) {
			t.Errorf("thumbnail of a broken PNG: %v", err)
		}
	})
}
