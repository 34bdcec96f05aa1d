package s3

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"preau/storage"
)

// PresignGet returns a URL that downloads key for ttl (at most
// storage.MaxPresignTTL), offered as an attachment named filename
// (RFC 6266) of type contentType. Call it only after Préau's own access
// check: whoever holds the URL can download until it expires.
func (s *Store) PresignGet(ctx context.Context, key, filename, contentType string, ttl time.Duration) (string, error) {
	obj, err := s.object("presign get", key)
	if err != nil {
		return "", err
	}
	ttl, err = capTTL(ttl)
	if err != nil {
		return "", fmt.Errorf("s3: presign get %q: %w", key, err)
	}
	params := url.Values{}
	params.Set("response-content-disposition", ContentDisposition(filename))
	params.Set("response-content-type", safeContentType(contentType))
	u, err := s.signer.PresignedGetObject(ctx, s.cfg.Bucket, obj, ttl, params)
	if err != nil {
		return "", s.mapErr("presign get", key, err)
	}
	return u.String(), nil
}

// PresignPut returns a URL the browser PUTs the content of key to, valid
// for ttl (at most storage.MaxPresignTTL). S3 cannot bind the URL to a
// size: Stat the object afterwards and check it.
func (s *Store) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	obj, err := s.object("presign put", key)
	if err != nil {
		return "", err
	}
	ttl, err = capTTL(ttl)
	if err != nil {
		return "", fmt.Errorf("s3: presign put %q: %w", key, err)
	}
	u, err := s.signer.PresignedPutObject(ctx, s.cfg.Bucket, obj, ttl)
	if err != nil {
		return "", s.mapErr("presign put", key, err)
	}
	return u.String(), nil
}

// PresignPart returns a URL the browser PUTs part n of an upload to, valid
// for ttl (at most storage.MaxPresignTTL). The size is not bound: check it
// with PartSizes.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, n int, ttl time.Duration) (string, error) {
	obj, err := s.object("presign part", key)
	if err != nil {
		return "", err
	}
	if uploadID == "" || n < 1 || n > maxParts {
		return "", fmt.Errorf("s3: presign part %d of %q: %w", n, key, storage.ErrNotFound)
	}
	if ttl, err = capTTL(ttl); err != nil {
		return "", fmt.Errorf("s3: presign part %q: %w", key, err)
	}
	q := url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {uploadID}}
	u, err := s.signer.Presign(ctx, http.MethodPut, s.cfg.Bucket, obj, ttl, q)
	if err != nil {
		return "", s.mapErr("presign part", key, err)
	}
	return u.String(), nil
}

// PartSizes lists the parts of an upload the store holds, by number.
func (s *Store) PartSizes(ctx context.Context, key, uploadID string) (map[int]int64, error) {
	obj, err := s.object("list parts", key)
	if err != nil {
		return nil, err
	}
	have, err := s.listParts(ctx, obj, uploadID)
	if err != nil {
		return nil, s.mapErr("list parts", key, err)
	}
	out := make(map[int]int64, len(have))
	for n, p := range have {
		out[n] = p.Size
	}
	return out, nil
}

// capTTL bounds ttl by storage.MaxPresignTTL (SECURITY.md: ≤ 5 minutes).
func capTTL(ttl time.Duration) (time.Duration, error) {
	if ttl < time.Second {
		return 0, fmt.Errorf("presigned URL valid for %v: at least a second", ttl)
	}
	return min(ttl, storage.MaxPresignTTL), nil
}

// ContentDisposition returns an attachment Content-Disposition for a file
// name (RFC 6266 §4.1): an ASCII fallback in filename= and the exact name,
// percent-encoded UTF-8, in filename*= (RFC 8187 §3.2). Control characters
// and path separators of the name are dropped or replaced.
func ContentDisposition(filename string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		case r == '/' || r == '\\':
			return '_'
		}
		return r
	}, strings.ToValidUTF8(filename, "_"))
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		name = "fichier"
	}
	ascii := strings.Map(func(r rune) rune {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '%' && r != ';' {
			return r
		}
		return '_'
	}, name)
	return fmt.Sprintf("attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, rfc8187(name))
}

// rfc8187 percent-encodes s, keeping only attr-char (RFC 8187 §3.2.1).
func rfc8187(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// safeContentType returns contentType if it parses as a media type, else
// application/octet-stream.
func safeContentType(contentType string) string {
	if contentType == "" {
		return "application/octet-stream"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "application/octet-stream"
	}
	return mime.FormatMediaType(mt, params)
}
