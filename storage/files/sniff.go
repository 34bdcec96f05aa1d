package files

import (
	"net/http"
	"path"
	"strings"
)

// inlineTypes are the sniffed types a browser may show in the page
// (thumbnails, previews). Everything else is downloaded as an attachment.
var inlineTypes = map[string]bool{
	"image/png":       true,
	"image/jpeg":      true,
	"image/gif":       true,
	"image/webp":      true,
	"application/pdf": true,
}

// imageExts are the names that claim to be an image: their content must
// sniff as one.
// (SVG is not among them: it is text, may carry script, and is only ever
// downloaded.)
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".bmp": true, ".ico": true}

// Sniff returns the content type of a file from its first bytes
// (http.DetectContentType, which never answers with a type that runs script
// in an image). The name does not count: it only checks claims (CheckClaim).
func Sniff(head []byte) string {
	ct := http.DetectContentType(head)
	// Drop parameters such as "; charset=utf-8": we store the bare type.
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	return ct
}

// Inline reports whether content of this sniffed type may be shown in the
// browser rather than downloaded.
func Inline(contentType string) bool { return inlineTypes[contentType] }

// IsImage reports whether the sniffed type is an image the pages show as a
// thumbnail.
func IsImage(contentType string) bool {
	return strings.HasPrefix(contentType, "image/") && inlineTypes[contentType]
}

// checkClaim refuses a file whose name claims an image its content is not
// (an HTML page named photo.png).
func checkClaim(name, contentType string) error {
	ext := strings.ToLower(path.Ext(name))
	if !imageExts[ext] {
		return nil
	}
	if !strings.HasPrefix(contentType, "image/") {
		return ErrBadContent
	}
	return nil
}
