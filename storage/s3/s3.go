// Package s3 is the scale-out storage engine: objects in a bucket of MinIO or
// any S3-compatible service, through minio-go. All Préau nodes share it, and
// browsers can be sent to it directly with presigned URLs.
//
// A store that cannot be reached fails fast with storage.ErrUnavailable:
// connections are given up after DialTimeout, a request is retried once, and
// an answer that does not come within ResponseTimeout is abandoned.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"preau/storage"
)

// Config locates the bucket. Endpoint and Bucket are required; the zero
// value of every other field is a sensible default.
type Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
	// Prefix is put before every key, to share a bucket ("preau/").
	Prefix string
	// Region defaults to us-east-1 (MinIO's); setting it spares minio-go
	// a request to look the bucket's region up.
	Region string
	// Secure: HTTPS.
	Secure bool
	// PublicURL is where browsers reach the same server
	// ("https://fichiers.ent.example.fr"), when it differs from Endpoint
	// (Préau talks to MinIO on a private network). Presigned URLs name it;
	// setting it tells Préau that browsers can download from the store
	// directly (Store.Public). Empty: presigned URLs name Endpoint.
	PublicURL string
	// PartSize is the part size of a large Put (default 16 MiB): each
	// running Put of more than PartSize bytes holds one such buffer.
	PartSize uint64
	// DialTimeout bounds each connection attempt (default 800 ms; two
	// attempts stay within about 2 s when the server is down).
	DialTimeout time.Duration
	// ResponseTimeout bounds the wait for an answer once a request is sent
	// (default 30 s: completing a large upload takes MinIO some time).
	ResponseTimeout time.Duration
}

const (
	defaultPartSize        = 16 << 20
	defaultDialTimeout     = 800 * time.Millisecond
	defaultResponseTimeout = 30 * time.Second
	// maxRetries counts attempts: one retry on a failed request, enough for
	// a connection that broke, short enough to fail fast when MinIO is down.
	maxRetries = 2
	// pingTimeout bounds Ping when ctx has no earlier deadline.
	pingTimeout = 2 * time.Second
)

// Store keeps objects in an S3 bucket.
type Store struct {
	cfg    Config
	client *minio.Client
	// signer makes presigned URLs: client, or one naming PublicURL. It only
	// signs (the region is set, so it never sends a request).
	signer *minio.Client
	core   minio.Core
	tr     *http.Transport
}

var (
	_ storage.Store         = (*Store)(nil)
	_ storage.Uploader      = (*Store)(nil)
	_ storage.Presigner     = (*Store)(nil)
	_ storage.PartPresigner = (*Store)(nil)
)

// New returns a Store for cfg without contacting the server.
func New(cfg Config) (*Store, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("s3: no endpoint")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("s3: bucket %q: %w", cfg.Bucket, err)
	}
	if cfg.Prefix != "" {
		cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
		if !storage.ValidKey(cfg.Prefix) {
			return nil, fmt.Errorf("s3: prefix %q: lower-case letters, digits, '-', '_', '.' and '/' only", cfg.Prefix)
		}
		cfg.Prefix += "/"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = defaultPartSize
	}
	if cfg.PartSize < storage.MinPartSize {
		return nil, fmt.Errorf("s3: part size %d is below S3's minimum %d", cfg.PartSize, storage.MinPartSize)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.ResponseTimeout == 0 {
		cfg.ResponseTimeout = defaultResponseTimeout
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 2 * time.Second
	tr.ResponseHeaderTimeout = cfg.ResponseTimeout
	tr.ExpectContinueTimeout = time.Second
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.Secure,
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	signer := client
	if cfg.PublicURL != "" {
		pu, err := url.Parse(cfg.PublicURL)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || (pu.Path != "" && pu.Path != "/") || pu.RawQuery != "" {
			return nil, fmt.Errorf("s3: public URL %q: give the scheme and host only, e.g. https://fichiers.example.fr", cfg.PublicURL)
		}
		signer, err = minio.New(pu.Host, &minio.Options{
			Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure:       pu.Scheme == "https",
			Region:       cfg.Region,
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return nil, fmt.Errorf("s3: public URL: %w", err)
		}
	}
	return &Store{cfg: cfg, client: client, signer: signer, core: minio.Core{Client: client}, tr: tr}, nil
}

// Public reports whether browsers are known to reach the store (a public
// URL is configured): pages may then send downloads straight to it.
func (s *Store) Public() bool { return s.cfg.PublicURL != "" }

// PublicOrigin is the public URL ("https://fichiers.example.fr"), or "":
// pages that send parts straight to the store allow it in their CSP.
func (s *Store) PublicOrigin() string { return s.cfg.PublicURL }

// Open returns a Store for cfg, creating the bucket if it does not exist.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ok, err := s.client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, s.mapErr("open", cfg.Bucket, err)
	}
	if !ok {
		err := s.client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if code := errorCode(err); err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return nil, s.mapErr("create bucket", cfg.Bucket, err)
		}
	}
	return s, nil
}

// Bucket returns the name of the store's bucket.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// Close releases idle connections.
func (s *Store) Close() error {
	s.tr.CloseIdleConnections()
	return nil
}

// object returns the object name of key, or ErrBadKey.
func (s *Store) object(op, key string) (string, error) {
	if !storage.ValidKey(key) {
		return "", fmt.Errorf("s3: %s %q: %w", op, key, storage.ErrBadKey)
	}
	return s.cfg.Prefix + key, nil
}

// Put stores exactly size bytes of r under key. Up to PartSize bytes go in
// one request; beyond, minio-go sends parts of PartSize bytes (held in
// memory one at a time) and drops them if anything fails.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	obj, err := s.object("put", key)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("s3: put %q: size %d: %w", key, size, storage.ErrSize)
	}
	src := &sourceReader{r: storage.ExactReader(r, size)}
	if size == 0 {
		// minio-go sends nothing and reads nothing: check r is empty first.
		if _, err := src.Read(make([]byte, 1)); err != io.EOF {
			return s.mapPutErr(ctx, "put", key, src, err)
		}
	}
	_, err = s.client.PutObject(ctx, s.cfg.Bucket, obj, src, size, minio.PutObjectOptions{
		PartSize:    s.cfg.PartSize,
		ContentType: "application/octet-stream",
		// No SHA-256 of the payload for the signature: Préau already hashes
		// what it stores (files.Service), and minio-go then sends a CRC32C
		// trailer that MinIO checks — the same integrity for a fraction of
		// the CPU (docs/storage.md, "Figures").
		DisableContentSha256: true,
	})
	if err != nil {
		return s.mapPutErr(ctx, "put", key, src, err)
	}
	return nil
}

// sourceReader remembers the error of the reader a Put reads from, so that
// it is reported as such and not taken for a failure of the server. The
// HTTP transport may read it from its own goroutine.
type sourceReader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
	return n, err
}

func (s *sourceReader) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// mapPutErr blames, in order, the caller's context (the reader's error
// then is a consequence), the content, the server.
func (s *Store) mapPutErr(ctx context.Context, op, key string, src *sourceReader, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("s3: %s %q: %w", op, key, ctx.Err())
	}
	if err := src.failure(); err != nil {
		return fmt.Errorf("s3: %s %q: %w", op, key, err)
	}
	return s.mapErr(op, key, err)
}

// Get returns length bytes of the object from offset (length < 0: to the
// end); an offset past the end gives an empty reader. The body streams from
// the server: nothing is held in memory.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	obj, err := s.object("get", key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("s3: get %q: negative offset %d", key, offset)
	}
	if length == 0 {
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		opts.SetRange(offset, offset+length-1)
	case offset > 0:
		opts.SetRange(offset, 0)
	}
	body, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, obj, opts)
	if errorCode(err) == "InvalidRange" {
		// The object exists and the range starts at or past its end.
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, s.mapErr("get", key, err)
	}
	return &bodyReader{body: body, s: s, key: key}, nil
}

// bodyReader marks a failure in the middle of a download as ErrUnavailable.
type bodyReader struct {
	body io.ReadCloser
	s    *Store
	key  string
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		err = b.s.mapErr("read", b.key, err)
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.body.Close() }

// Stat describes the object under key.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	obj, err := s.object("stat", key)
	if err != nil {
		return storage.Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, obj, minio.StatObjectOptions{})
	if err != nil {
		return storage.Info{}, s.mapErr("stat", key, err)
	}
	return storage.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete removes the object under key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	obj, err := s.object("delete", key)
	if err != nil {
		return err
	}
	err = s.client.RemoveObject(ctx, s.cfg.Bucket, obj, minio.RemoveObjectOptions{})
	if err != nil && errorCode(err) != "NoSuchKey" {
		return s.mapErr("delete", key, err)
	}
	return nil
}

// Copy makes dst a copy of src on the server (CopyObject): the bytes do
// not pass through Préau.
func (s *Store) Copy(ctx context.Context, dst, src string) error {
	srcObj, err := s.object("copy", src)
	if err != nil {
		return err
	}
	dstObj, err := s.object("copy", dst)
	if err != nil {
		return err
	}
	if dst == src {
		// S3 refuses to copy an object onto itself unchanged.
		_, err := s.Stat(ctx, src)
		return err
	}
	_, err = s.client.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: dstObj},
		minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: srcObj})
	if err != nil {
		return s.mapErr("copy", src, err)
	}
	return nil
}

// Ping checks that the bucket answers, within ctx's deadline or 2 s.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s.mapErr("ping", s.cfg.Bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3: ping: bucket %q is gone: %w", s.cfg.Bucket, storage.ErrUnavailable)
	}
	return nil
}

// errorCode is the S3 error code in err ("NoSuchKey"), or "".
func errorCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

// mapErr turns a minio-go error into the store's errors.
func (s *Store) mapErr(op, key string, err error) error {
	var resp minio.ErrorResponse
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("s3: %s %q: %w", op, key, err)
	case errors.As(err, &resp):
		switch resp.Code {
		case "NoSuchKey", "NoSuchUpload", "InvalidPart", "NoSuchVersion":
			return fmt.Errorf("s3: %s %q: %w (%s)", op, key, storage.ErrNotFound, resp.Code)
		case "EntityTooSmall", "IncompleteBody", "InvalidPartOrder":
			return fmt.Errorf("s3: %s %q: %w (%s)", op, key, storage.ErrSize, resp.Code)
		case "NoSuchBucket", "SlowDown", "SlowDownWrite", "SlowDownRead", "ServiceUnavailable",
			"XMinioServerNotInitialized", "XMinioStorageFull", "RequestTimeout":
			return fmt.Errorf("s3: %s %q: %w: %w", op, key, storage.ErrUnavailable, err)
		}
		if resp.StatusCode >= 500 {
			return fmt.Errorf("s3: %s %q: %w: %w", op, key, storage.ErrUnavailable, err)
		}
		if resp.StatusCode == http.StatusNotFound && resp.Code == "" {
			return fmt.Errorf("s3: %s %q: %w", op, key, storage.ErrNotFound)
		}
		return fmt.Errorf("s3: %s %q: %w", op, key, err)
	case unreachable(err):
		return fmt.Errorf("s3: %s %q: %w: %w", op, key, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("s3: %s %q: %w", op, key, err)
}

// unreachable: the error of a server that does not answer (refused, reset,
// timed out, a connection that broke mid-way).
func unreachable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF)
}
