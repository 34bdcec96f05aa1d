package files_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"preau/internal/dbtest"
	"preau/internal/testsvc"
	"preau/storage/files"
	"preau/storage/s3"
)

// putURL sends body to a presigned URL, as the browser does.
func putURL(t *testing.T, u string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDirectParts: on an S3 store with a public address, the parts of a
// resumable upload go straight to MinIO with presigned URLs; Préau checks
// each part's size in the store, refuses a part of the wrong size, sniffs
// the joined file and charges the quota at completion; another user gets
// no URL for the upload.
func TestDirectParts(t *testing.T) {
	cfg, err := s3.ParseURL(testsvc.S3URL(t))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(cfg.Endpoint, ":")
	cfg.PublicURL = "http://localhost:" + port // another name of the test server
	st, err := s3.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := newSchoolOn(t, dbtest.SQLite(t), st, files.Config{})
	if !s.svc.DirectUploads() || s.svc.DirectOrigin() != cfg.PublicURL {
		t.Fatalf("direct uploads %v, origin %q", s.svc.DirectUploads(), s.svc.DirectOrigin())
	}
	sp := s.personal(t, s.lea)
	content := make([]byte, files.PartSize+1234)
	rand.Read(content)
	up, err := s.svc.BeginUpload(s.ctx, s.lea, sp, 0, "mesure.bin", int64(len(content)))
	if err != nil || up.Parts != 2 {
		t.Fatalf("begin: %+v %v", up, err)
	}
	if _, _, err := s.svc.PartURLs(s.ctx, s.tom, up.ID, 1, 2); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("another pupil's part URLs: %v", err)
	}
	for _, bad := range [][2]int{{3, 1}, {0, 1}, {1, 0}, {1, files.MaxPartURLs + 1}} {
		if _, _, err := s.svc.PartURLs(s.ctx, s.lea, up.ID, bad[0], bad[1]); !errors.Is(err, files.ErrInvalid) {
			t.Errorf("parts %v: %v", bad, err)
		}
	}
	urls, exp, err := s.svc.PartURLs(s.ctx, s.lea, up.ID, 1, 8) // asks 8, gets the 2 there are
	if err != nil || len(urls) != 2 || urls[0].N != 1 || urls[1].N != 2 || exp.IsZero() {
		t.Fatalf("part URLs %+v %v", urls, err)
	}
	for _, u := range urls {
		if pu, _ := url.Parse(u.URL); !strings.HasPrefix(u.URL, cfg.PublicURL+"/") || pu.Query().Get("X-Amz-Expires") != "300" {
			t.Fatalf("part URL %s", u.URL)
		}
	}
	send := func(n int, body []byte) {
		t.Helper()
		if code := putURL(t, urls[n-1].URL, body); code != http.StatusOK {
			t.Fatalf("PUT part %d: %d", n, code)
		}
	}
	received := func() []int {
		t.Helper()
		st, err := s.svc.UploadStatus(s.ctx, s.lea, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st.Received
	}
	// Part 2 too long (a client trying to store more than announced): it
	// does not count, and completing says it is missing.
	send(2, append(bytes.Clone(content[files.PartSize:]), 'x'))
	send(1, content[:files.PartSize])
	if got := received(); len(got) != 1 || got[0] != 1 {
		t.Errorf("received %v, want [1]", got)
	}
	var mp *files.MissingPartsError
	if _, err := s.svc.CompleteUpload(s.ctx, s.lea, up.ID); !errors.As(err, &mp) || len(mp.Missing) != 1 || mp.Missing[0] != 2 {
		t.Fatalf("complete with a part of the wrong size: %v", err)
	}
	send(2, content[files.PartSize:])
	if got := received(); len(got) != 2 {
		t.Errorf("received %v, want both", got)
	}
	before := s.used(t, s.lea, sp)
	n, err := s.svc.CompleteUpload(s.ctx, s.lea, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.read(t, s.lea, n.ID); !bytes.Equal(got, content) {
		t.Error("the file read back differs")
	}
	if used := s.used(t, s.lea, sp); used != before+int64(len(content)) {
		t.Errorf("quota %d after, %d before", used, before)
	}
	// An HTML page named like an image, sent straight to the store: the
	// joined object is sniffed and refused, and nothing is kept.
	page := append([]byte("<!DOCTYPE html><html><script>alert(1)</script>"), make([]byte, 6<<20)...)
	up, err = s.svc.BeginUpload(s.ctx, s.lea, sp, 0, "photo.png", int64(len(page)))
	if err != nil || up.Parts != 1 {
		t.Fatalf("begin: %+v %v", up, err)
	}
	if urls, _, err = s.svc.PartURLs(s.ctx, s.lea, up.ID, 1, 1); err != nil {
		t.Fatal(err)
	}
	send(1, page)
	if _, err := s.svc.CompleteUpload(s.ctx, s.lea, up.ID); !errors.Is(err, files.ErrBadContent) {
		t.Errorf("HTML named .png: %v", err)
	}
	if used := s.used(t, s.lea, sp); used != before+int64(len(content)) {
		t.Errorf("quota changed by a refused file: %d", used)
	}
}
