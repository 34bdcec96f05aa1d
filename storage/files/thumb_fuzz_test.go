package files

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// FuzzMakeThumb feeds arbitrary bytes to the thumbnail maker, the one parser
// of uploaded images: it either refuses them with ErrNoThumbnail or returns
// an image that decodes, of the announced type, no larger than asked.
func FuzzMakeThumb(f *testing.F) {
	img := image.NewRGBA(image.Rect(0, 0, 90, 40))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	f.Add(bytes.Clone(b.Bytes()))
	b.Reset()
	jpeg.Encode(&b, img, nil)
	f.Add(bytes.Clone(b.Bytes()))
	b.Reset()
	pal := image.NewPaletted(image.Rect(0, 0, 3, 200), color.Palette{color.Black, color.White})
	gif.Encode(&b, pal, nil)
	f.Add(bytes.Clone(b.Bytes()))
	f.Add([]byte("<html><body>not an image</body></html>"))

	const size = 64
	f.Fuzz(func(t *testing.T, src []byte) {
		// Large but allowed images only cost time here (a 6,000 × 6,000
		// PNG of zeros is small): the size limits have their own tests.
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(src)); err == nil && cfg.Width*cfg.Height > 1<<16 {
			t.Skip("over 65,536 pixels")
		}
		out, ct, err := makeThumb(src, size)
		if err != nil {
			if !errors.Is(err, ErrNoThumbnail) {
				t.Fatalf("refused without ErrNoThumbnail: %v", err)
			}
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("thumbnail does not decode: %v", err)
		}
		if want := "image/" + format; want != ct {
			t.Fatalf("thumbnail is %s, announced %s", format, ct)
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > size || cfg.Height > size {
			t.Fatalf("thumbnail is %d×%d, want within 1…%d", cfg.Width, cfg.Height, size)
		}
	})
}
