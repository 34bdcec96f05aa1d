package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"preau/internal/testsvc"
	"preau/storage/s3"
)

// TestLoadtestFilesDisk: a short `preau loadtest files` against an
// in-process `preau serve --demo` on the local-directory store moves bytes
// without errors, checks every byte downloaded, and leaves no file, no
// content and no raised quota behind. Figures are not asserted: tests never
// judge wall-clock speed.
func TestLoadtestFilesDisk(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	// 3 MB: one request per file, as the page sends small files.
	sum := runFilesLoad(t, base, "--size", "3MB", "--concurrency", "2", "--duration", "2s", "--files", "4")
	if sum.Method != "one request" {
		t.Errorf("method %q, want one request", sum.Method)
	}
	checkNoFilesLeft(t, base)
	var left []string
	filepath.WalkDir(filepath.Join(dir, "files"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("contents left on disk: %v", left)
	}
}

// TestLoadtestFilesS3: the same on MinIO, with resumable parts (17 MB is
// over two 8 MiB parts), downloads by presigned redirect (the disk test
// covers downloads through Préau), the direct comparison, and a quota
// raised by the administrator for the run and put back after it.
func TestLoadtestFilesS3(t *testing.T) {
	storeURL := testsvc.S3URL(t)
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir, "--storage-url", storeURL)
	teacher := demoClient(t, base, "prof.demo")
	spaces := getJSON[struct {
		Spaces []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"spaces"`
	}](t, teacher, base+"/api/v1/files/spaces")
	var personal int64
	for _, s := range spaces.Spaces {
		if s.Kind == "personal" {
			personal = s.ID
		}
	}
	before := getJSON[quotaUsage](t, teacher, base+"/api/v1/files/spaces/"+itoa(personal)+"/quota")
	// A 2 GiB teacher quota is far above 4 × 17 MB: --files 200 makes the
	// run "need" 3.4 GB, so that the administrator raises it.
	sum := runFilesLoad(t, base, "--size", "17MB", "--concurrency", "2", "--duration", "2s", "--files", "200", "--s3-url", storeURL, "--presigned")
	if sum.Method != "resumable parts" {
		t.Errorf("method %q, want resumable parts", sum.Method)
	}
	if !sum.QuotaRaised {
		t.Error("quota not raised")
	}
	if sum.DirectFiles == 0 || sum.DirectBytes == 0 || sum.DirectUploadMBs <= 0 || sum.DirectDownloadMBs <= 0 {
		t.Errorf("direct figures missing: %+v", sum)
	}
	after := getJSON[quotaUsage](t, teacher, base+"/api/v1/files/spaces/"+itoa(personal)+"/quota")
	if after != before {
		t.Errorf("quota after the run %+v, before %+v", after, before)
	}
	checkNoFilesLeft(t, base)

	// Nothing left in the bucket: neither Préau's contents nor the direct
	// comparison's objects, nor unfinished uploads.
	sc, err := s3.ParseURL(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(sc.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(sc.AccessKey, sc.SecretKey, ""),
		Secure: sc.Secure, Region: sc.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for o := range c.ListObjects(ctx, sc.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("left in the bucket: %s %v", o.Key, o.Err)
	}
	for u := range c.ListIncompleteUploads(ctx, sc.Bucket, "", true) {
		t.Errorf("unfinished upload left: %s %v", u.Key, u.Err)
	}
}

// runFilesLoad runs the tool with args against base and checks the summary
// is sane.
func runFilesLoad(t *testing.T, base string, args ...string) filesSummary {
	t.Helper()
	cfg, err := parseLoadtestFiles(append([]string{"--url", base}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := loadtestFiles(ctx, cfg, tWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	if sum.Files == 0 || sum.Downloaded != sum.Files || sum.Bytes != int64(2*sum.Files)*cfg.Size {
		t.Errorf("files %d, downloaded %d, bytes %d", sum.Files, sum.Downloaded, sum.Bytes)
	}
	if sum.UploadMBs <= 0 || sum.DownloadMBs <= 0 {
		t.Errorf("upload %.1f MB/s, download %.1f MB/s", sum.UploadMBs, sum.DownloadMBs)
	}
	if sum.Errors != 0 || !sum.Cleaned {
		t.Errorf("errors %d, cleaned %v", sum.Errors, sum.Cleaned)
	}
	if sum.ServerIdleMemMB <= 0 || sum.ServerPeakMemMB <= 0 || sum.ServerMemSamples == 0 {
		t.Errorf("server memory not sampled: idle %.1f, peak %.1f, %d samples", sum.ServerIdleMemMB, sum.ServerPeakMemMB, sum.ServerMemSamples)
	}
	return sum
}

// checkNoFilesLeft: the teacher's personal space is empty again, bin included.
func checkNoFilesLeft(t *testing.T, base string) {
	t.Helper()
	teacher := demoClient(t, base, "prof.demo")
	spaces := getJSON[struct {
		Spaces []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"spaces"`
	}](t, teacher, base+"/api/v1/files/spaces")
	for _, s := range spaces.Spaces {
		if s.Kind != "personal" {
			continue
		}
		list := getJSON[struct {
			Children []struct {
				Name string `json:"name"`
			} `json:"children"`
		}](t, teacher, base+"/api/v1/files/spaces/"+itoa(s.ID)+"/items")
		if len(list.Children) != 0 {
			t.Errorf("left in the personal space: %+v", list.Children)
		}
		bin := getJSON[[]struct {
			Name string `json:"name"`
		}](t, teacher, base+"/api/v1/files/spaces/"+itoa(s.ID)+"/bin")
		if len(bin) != 0 {
			t.Errorf("left in the bin: %+v", bin)
		}
		u := getJSON[quotaUsage](t, teacher, base+"/api/v1/files/spaces/"+itoa(s.ID)+"/quota")
		if u.Used != 0 {
			t.Errorf("quota still charged: %+v", u)
		}
	}
}

// TestLoadtestFilesFlags: only this machine may be loaded, sizes parse,
// and the limits hold.
func TestLoadtestFilesFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.org:8080"},
		{"--s3-url", "s3://k:s@10.0.0.1:9000/b?secure=false"},
		{"--size", "3GB"},
		{"--size", "12 parsecs"},
		{"--concurrency", "0"},
		{"--duration", "1h"},
		{"--size", "1GB", "--files", "100"},
	} {
		if _, err := parseLoadtestFiles(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	for in, want := range map[string]int64{"3MB": 3e6, "100 MB": 1e8, "1GB": 1e9, "8MiB": 8 << 20, "1.5kB": 1500, "4096": 4096} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	c, err := parseLoadtestFiles([]string{"--url", "http://[::1]:8080", "--s3-url", "s3://k:s@127.0.0.1:9000/b?secure=false", "--concurrency", "3"})
	if err != nil || c.Files != 9 {
		t.Errorf("files %d, %v", c.Files, err)
	}
}

// TestGeneratedContent: the generator and the check agree, across block
// boundaries and through WriteTo, and a changed byte is caught.
func TestGeneratedContent(t *testing.T) {
	const size = 3<<20 + 12345
	var b strings.Builder
	if _, err := io.Copy(&b, &genReader{end: size}); err != nil {
		t.Fatal(err)
	}
	if err := checkContent(strings.NewReader(b.String()), size); err != nil {
		t.Fatal(err)
	}
	part := &genReader{off: 1<<20 - 7, end: 1<<20 + 9}
	got, _ := io.ReadAll(io.LimitReader(part, 100))
	if want := b.String()[1<<20-7 : 1<<20+9]; string(got) != want {
		t.Error("a part across a block boundary differs")
	}
	bad := []byte(b.String())
	bad[2<<20+5] ^= 1
	if err := checkContent(strings.NewReader(string(bad)), size); err == nil {
		t.Error("a changed byte passed")
	}
	if err := checkContent(strings.NewReader(b.String()[:size-1]), size); err == nil {
		t.Error("a short content passed")
	}
}

// getJSON decodes the answer to a GET, which must be 200.
func getJSON[T any](t *testing.T, c *http.Client, u string) T {
	t.Helper()
	var v T
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return v
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// tWriter sends the tool's progress lines to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestLoadtestFilesS3Direct: with a public address for MinIO (here
// localhost, another name of the test server), the tool sends the parts of
// large files straight to MinIO with presigned URLs, as the page does, and
// downloads by presigned redirect; every byte is checked and nothing is
// left behind.
func TestLoadtestFilesS3Direct(t *testing.T) {
	storeURL := testsvc.S3URL(t)
	sc, err := s3.ParseURL(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(sc.Endpoint, ":")
	base, _ := startServe(t, "--demo", "--data", t.TempDir(), "--storage-url", storeURL+"&public=http://localhost:"+port)
	sum := runFilesLoad(t, base, "--size", "17MB", "--concurrency", "2", "--duration", "2s", "--files", "3", "--presigned")
	if sum.Method != "presigned parts" || sum.DownloadVia != "presigned redirect" {
		t.Errorf("method %q, download via %q; want presigned parts and redirect", sum.Method, sum.DownloadVia)
	}
	checkNoFilesLeft(t, base)
}
