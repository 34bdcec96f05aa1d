package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"

	"preau/identity"
)

// ErrNoThumbnail: the file is not an image we can shrink (not a JPEG, PNG
// or GIF by its content, or too large to decode safely).
var ErrNoThumbnail = errors.New("files: no thumbnail")

// Thumbnail limits. A 50,000 × 50,000 PNG is a few kilobytes on disk and
// 10 GB once decoded: the header is read first (image.DecodeConfig) and such
// images are refused before any pixel is allocated.
const (
	MaxThumbnail    = 256      // longest side of a thumbnail, in pixels
	maxThumbSource  = 20 << 20 // bytes of the image file
	maxThumbPixels  = 40e6     // width × height of the image file
	maxThumbCached  = 1 << 20  // bytes read back from the cache
	thumbSmallSide  = 128
	thumbSamplesMax = 4 // samples per axis averaged into a thumbnail pixel
	maxThumbDecodes = 2 // images decoded at once per node (≈ 160 MB each at most)
)

// thumbSizes are the sizes made, so that a version has at most this many
// cached thumbnails (dropKeys deletes them with it).
var thumbSizes = []int{thumbSmallSide, MaxThumbnail}

// Thumb is a small image of a file, to show in a listing.
type Thumb struct {
	Data        []byte
	ContentType string // image/jpeg or image/png
	ETag        string // changes with the version
}

// thumbKey is where the thumbnail of a version is cached: a server-made key
// derived from the version's key, so each version is shrunk once.
func thumbKey(versionKey string, size int) string {
	h := sha256.Sum256([]byte(versionKey))
	return "t/" + hex.EncodeToString(h[:16]) + "-" + strconv.Itoa(size)
}

// thumbSize snaps a requested size to one of thumbSizes.
func thumbSize(size int) int {
	if size > 0 && size <= thumbSmallSide {
		return thumbSmallSide
	}
	return MaxThumbnail
}

// Thumbnail returns a small JPEG or PNG of an image file, at most size
// pixels on its long side (snapped to 128 or 256), with the same access
// check as a download (ErrNotFound outside the caller's reach). Only
// content that sniffed and decodes as JPEG, PNG or GIF is shrunk; anything
// else, or an image over 20 MiB or 40 megapixels, is ErrNoThumbnail. The
// result is cached in the store; a failure to cache only costs a recompute.
func (s *Service) Thumbnail(ctx context.Context, p *identity.Principal, id int64, size int) (Thumb, error) {
	d, err := s.Open(ctx, p, id, 0)
	if err != nil {
		return Thumb{}, err
	}
	switch d.ContentType {
	case "image/jpeg", "image/png", "image/gif":
	default:
		return Thumb{}, ErrNoThumbnail
	}
	if d.Size > maxThumbSource {
		return Thumb{}, ErrNoThumbnail
	}
	size = thumbSize(size)
	key := thumbKey(d.Key, size)
	etag := `"` + key[len("t/"):] + `"`
	if b, ok := s.cachedThumb(ctx, key); ok {
		return Thumb{Data: b, ContentType: Sniff(b), ETag: etag}, nil
	}
	// Decoding is the costly part: wait for one of a few slots, so that a
	// page of large photos (or a crafted file) cannot take the node's memory.
	select {
	case s.thumbs <- struct{}{}:
		defer func() { <-s.thumbs }()
	case <-ctx.Done():
		return Thumb{}, ctx.Err()
	}
	body, err := s.store.Get(ctx, d.Key, 0, -1)
	if err != nil {
		return Thumb{}, storeErr("get", err)
	}
	src, err := io.ReadAll(io.LimitReader(body, maxThumbSource+1))
	body.Close()
	if err != nil {
		return Thumb{}, storeErr("read", err)
	}
	if len(src) > maxThumbSource {
		return Thumb{}, ErrNoThumbnail
	}
	out, ctype, err := makeThumb(src, size)
	if err != nil {
		return Thumb{}, err
	}
	if err := s.store.Put(ctx, key, bytes.NewReader(out), int64(len(out))); err != nil {
		s.log.Warn("files: cache thumbnail", "key", key, "err", err)
	}
	return Thumb{Data: out, ContentType: ctype, ETag: etag}, nil
}

// cachedThumb reads a cached thumbnail; any failure is a miss.
func (s *Service) cachedThumb(ctx context.Context, key string) ([]byte, bool) {
	r, err := s.store.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, false
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxThumbCached+1))
	if err != nil || len(b) == 0 || len(b) > maxThumbCached {
		return nil, false
	}
	if ct := Sniff(b); ct != "image/jpeg" && ct != "image/png" {
		return nil, false
	}
	return b, true
}

// makeThumb decodes src, after checking its header, and encodes it shrunk
// to at most size pixels on its long side: a JPEG stays a JPEG, a PNG or a
// GIF (which may be transparent) becomes a PNG.
func makeThumb(src []byte, size int) ([]byte, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrNoThumbnail, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || float64(cfg.Width)*float64(cfg.Height) > maxThumbPixels {
		return nil, "", fmt.Errorf("%w: %d×%d pixels", ErrNoThumbnail, cfg.Width, cfg.Height)
	}
	var img image.Image
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(src))
	case "png":
		img, err = png.Decode(bytes.NewReader(src))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(src)) // the first frame
	default:
		return nil, "", fmt.Errorf("%w: format %s", ErrNoThumbnail, format)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrNoThumbnail, err)
	}
	small := shrink(img, size)
	var buf bytes.Buffer
	if format == "jpeg" {
		err = jpeg.Encode(&buf, small, &jpeg.Options{Quality: 80})
		return buf.Bytes(), "image/jpeg", err
	}
	err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, small)
	return buf.Bytes(), "image/png", err
}

// shrink scales img so that its long side is at most size, averaging a grid
// of at most 4 × 4 samples of the source box under each new pixel (a box
// filter, sampled so that the cost does not grow with the source).
func shrink(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := w, h
	if w > size || h > size {
		if w >= h {
			tw, th = size, max(1, h*size/w)
		} else {
			tw, th = max(1, w*size/h), size
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		y0, y1 := b.Min.Y+y*h/th, b.Min.Y+(y+1)*h/th
		ny := min(max(y1-y0, 1), thumbSamplesMax)
		for x := range tw {
			x0, x1 := b.Min.X+x*w/tw, b.Min.X+(x+1)*w/tw
			nx := min(max(x1-x0, 1), thumbSamplesMax)
			var r, g, bl, a uint64
			for j := range ny {
				sy := y0 + (2*j+1)*(y1-y0)/(2*ny)
				for i := range nx {
					sx := x0 + (2*i+1)*(x1-x0)/(2*nx)
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					r, g, bl, a = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca)
				}
			}
			n := uint64(nx * ny)
			dst.SetRGBA(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), uint8(a / n >> 8)})
		}
	}
	return dst
}

// thumbKeys are the cached thumbnails of a version's content.
func thumbKeys(versionKey string) []string {
	out := make([]string, 0, len(thumbSizes))
	for _, n := range thumbSizes {
		out = append(out, thumbKey(versionKey, n))
	}
	return out
}
