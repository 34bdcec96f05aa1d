package s3_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/internal/testsvc"
	"preau/storage"
	"preau/storage/s3"
	"preau/storage/storetest"
)

// open returns a store on a fresh bucket of the test MinIO.
func open(t testing.TB) *s3.Store {
	t.Helper()
	cfg, err := s3.ParseURL(testsvc.S3URL(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

// A prefix shares a bucket: keys of two prefixes do not meet.
func TestPrefix(t *testing.T) {
	cfg, err := s3.ParseURL(testsvc.S3URL(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, b := cfg, cfg
	a.Prefix, b.Prefix = "school-a", "school-b/files"
	sa, err := s3.Open(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := s3.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Put(ctx, "k", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Stat(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat through the other prefix = %v; want ErrNotFound", err)
	}
	id, err := sb.BeginUpload(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	// Sweep of a only sees a's uploads.
	if n, err := sa.Sweep(ctx, -time.Hour); err != nil || n != 0 {
		t.Fatalf("Sweep(a) = %d, %v; want 0, nil", n, err)
	}
	if n, err := sb.Sweep(ctx, -time.Hour); err != nil || n != 1 {
		t.Fatalf("Sweep(b) = %d, %v; want 1, nil", n, err)
	}
	if err := sb.PutPart(ctx, "k", id, 1, strings.NewReader("x"), 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutPart to a swept upload = %v; want ErrNotFound", err)
	}
}

func TestSweep(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.BeginUpload(ctx, "left"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("Sweep of a young upload = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.Sweep(ctx, -time.Minute); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1, nil", n, err)
	}
}

// TestPresignExpired: a presigned URL stops working when it expires; MinIO
// answers 403 "Request has expired". Préau's pages never hand out a stored
// URL: each click on a download goes through ?direct=1 and gets a fresh one.
func TestPresignExpired(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.Put(ctx, "doc", strings.NewReader("bientôt périmé"), int64(len("bientôt périmé"))); err != nil {
		t.Fatal(err)
	}
	raw, err := s.PresignGet(ctx, "doc", "doc.txt", "text/plain", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // past the expiry (S3 counts whole seconds)
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "expired") {
		t.Errorf("GET of an expired URL = %d %s; want 403 …expired…", resp.StatusCode, body)
	}
}

// TestPresignPublic: with a public URL, presigned URLs name it (here
// localhost, another name of the test server) and work from there.
func TestPresignPublic(t *testing.T) {
	cfg, err := s3.ParseURL(testsvc.S3URL(t))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(cfg.Endpoint, ":")
	cfg.PublicURL = "http://localhost:" + port
	ctx := context.Background()
	s, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Public() {
		t.Error("Public() = false with a public URL")
	}
	if err := s.Put(ctx, "doc", strings.NewReader("public"), 6); err != nil {
		t.Fatal(err)
	}
	raw, err := s.PresignGet(ctx, "doc", "doc.txt", "text/plain", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, cfg.PublicURL+"/") {
		t.Fatalf("presigned URL %s does not name %s", raw, cfg.PublicURL)
	}
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "public" {
		t.Errorf("GET %s = %d %q", raw, resp.StatusCode, body)
	}
	if open(t).Public() {
		t.Error("Public() = true without a public URL")
	}
}

func TestPresign(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	content := "Bonjour à tous"
	if err := s.Put(ctx, "doc", strings.NewReader(content), int64(len(content))); err != nil {
		t.Fatal(err)
	}
	raw, err := s.PresignGet(ctx, "doc", "Compte rendu “été” 2026.txt", "text/plain; charset=utf-8", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if got := u.Query().Get("X-Amz-Expires"); got != "300" {
		t.Errorf("X-Amz-Expires = %s; want 300 (capped at MaxPresignTTL)", got)
	}
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != content {
		t.Fatalf("GET presigned = %d %q; want 200 %q", resp.StatusCode, body, content)
	}
	wantCD := `attachment; filename="Compte rendu __t__ 2026.txt"; filename*=UTF-8''Compte%20rendu%20%E2%80%9C%C3%A9t%C3%A9%E2%80%9D%202026.txt`
	if got := resp.Header.Get("Content-Disposition"); got != wantCD {
		t.Errorf("Content-Disposition = %s\nwant %s", got, wantCD)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %s", got)
	}
	// A tampered URL is refused.
	resp, err = http.Get(strings.Replace(raw, "doc?", "doc2?", 1))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("GET of a tampered presigned URL = 200")
		}
	}

	raw, err = s.PresignPut(ctx, "upload", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, raw, strings.NewReader("from the browser"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT presigned = %d", resp.StatusCode)
	}
	if info, err := s.Stat(ctx, "upload"); err != nil || info.Size != int64(len("from the browser")) {
		t.Fatalf("Stat after presigned PUT = %+v, %v", info, err)
	}
	if _, err := s.PresignGet(ctx, "../x", "a", "", time.Minute); !errors.Is(err, storage.ErrBadKey) {
		t.Errorf("PresignGet of a bad key = %v; want ErrBadKey", err)
	}
	if _, err := s.PresignPut(ctx, "x", 0); err == nil {
		t.Errorf("PresignPut with ttl 0 = nil error")
	}
}

// deadServer returns the address of a port nobody listens on.
func deadServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentServer accepts connections and never answers, like a hung MinIO.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// Every call gives up with ErrUnavailable when the server is down or hung,
// without waiting on minio-go's long default retries.
func TestUnavailable(t *testing.T) {
	for name, cfg := range map[string]s3.Config{
		"down": {Endpoint: deadServer(t)},
		"hung": {Endpoint: silentServer(t), ResponseTimeout: 300 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Bucket, cfg.AccessKey, cfg.SecretKey = "preau", "k", "secret-key"
			s, err := s3.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			calls := map[string]func() error{
				"Ping": func() error { return s.Ping(ctx) },
				"Put":  func() error { return s.Put(ctx, "k", strings.NewReader("x"), 1) },
				"Get": func() error {
					_, err := s.Get(ctx, "k", 0, -1)
					return err
				},
				"Stat": func() error {
					_, err := s.Stat(ctx, "k")
					return err
				},
				"Delete": func() error { return s.Delete(ctx, "k") },
				"Copy":   func() error { return s.Copy(ctx, "a", "b") },
				"BeginUpload": func() error {
					_, err := s.BeginUpload(ctx, "k")
					return err
				},
				"PutPart":        func() error { return s.PutPart(ctx, "k", "id", 1, strings.NewReader("x"), 1) },
				"CompleteUpload": func() error { return s.CompleteUpload(ctx, "k", "id", 1) },
				"AbortUpload":    func() error { return s.AbortUpload(ctx, "k", "id") },
				"Open": func() error {
					_, err := s3.Open(ctx, cfg)
					return err
				},
			}
			for call, fn := range calls {
				start := time.Now()
				err := fn()
				took := time.Since(start)
				t.Logf("%s: %v after %v", call, err, took.Round(time.Millisecond))
				if !errors.Is(err, storage.ErrUnavailable) {
					t.Errorf("%s = %v; want ErrUnavailable", call, err)
				}
				// A guard against hanging, not a speed check: minio-go's
				// defaults would retry for tens of seconds.
				if took > 10*time.Second {
					t.Errorf("%s took %v to give up", call, took)
				}
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url  string
		want s3.Config
	}{
		{"s3://ak:sk@127.0.0.1:9000/preau?secure=false",
			s3.Config{Endpoint: "127.0.0.1:9000", AccessKey: "ak", SecretKey: "sk", Bucket: "preau"}},
		{"s3://ak:sk@minio:9000/preau",
			s3.Config{Endpoint: "minio:9000", AccessKey: "ak", SecretKey: "sk", Bucket: "preau", Secure: true}},
		{"s3s://ak:s%2Fk%40x@s3.example.fr/preau/college-a?region=eu-west-3",
			s3.Config{Endpoint: "s3.example.fr", AccessKey: "ak", SecretKey: "s/k@x", Bucket: "preau",
				Prefix: "college-a", Region: "eu-west-3", Secure: true}},
		{"s3://ak:sk@h:1/b?secure=true",
			s3.Config{Endpoint: "h:1", AccessKey: "ak", SecretKey: "sk", Bucket: "b", Secure: true}},
		{"s3://ak:sk@minio:9000/b?secure=false&public=https://fichiers.example.fr",
			s3.Config{Endpoint: "minio:9000", AccessKey: "ak", SecretKey: "sk", Bucket: "b", PublicURL: "https://fichiers.example.fr"}},
	} {
		got, err := s3.ParseURL(c.url)
		if err != nil || got != c.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", c.url, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"http://ak:topsecret@h:9000/b",
		"s3://h:9000/b",
		"s3://ak@h:9000/b",
		"s3://ak:topsecret@h:9000/",
		"s3://ak:topsecret@/b",
		"s3://ak:topsecret@h:9000/b?secure=maybe",
		"s3s://ak:topsecret@h:9000/b?secure=false",
		"s3://ak:topsecret@h:9000/b?sekure=false",
		"s3://ak:top secret@h:9000/b",
	} {
		_, err := s3.ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) = nil error", bad)
		} else if strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), "top secret") {
			t.Errorf("ParseURL(%q) error quotes the secret: %v", bad, err)
		}
	}
	if _, err := s3.New(s3.Config{Endpoint: "h:1", Bucket: "b", Prefix: "../x"}); err == nil {
		t.Errorf("New with prefix ../x = nil error")
	}
	for _, pub := range []string{"fichiers.example.fr", "ftp://x", "https://x/chemin", "https://x?a=1", "https://"} {
		if _, err := s3.New(s3.Config{Endpoint: "h:1", Bucket: "b", PublicURL: pub}); err == nil {
			t.Errorf("New with public URL %q = nil error", pub)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for name, want := range map[string]string{
		"rapport.pdf":      `attachment; filename="rapport.pdf"; filename*=UTF-8''rapport.pdf`,
		"élève; \"x\".odt": `attachment; filename="_l_ve_ _x_.odt"; filename*=UTF-8''%C3%A9l%C3%A8ve%3B%20%22x%22.odt`,
		"../../etc/passwd": `attachment; filename=".._.._etc_passwd"; filename*=UTF-8''.._.._etc_passwd`,
		"a\r\nSet-Cookie:": `attachment; filename="aSet-Cookie:"; filename*=UTF-8''aSet-Cookie%3A`,
		"":                 `attachment; filename="fichier"; filename*=UTF-8''fichier`,
		"100%.txt":         `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`,
	} {
		if got := s3.ContentDisposition(name); got != want {
			t.Errorf("ContentDisposition(%q) =\n%s\nwant\n%s", name, got, want)
		}
	}
}

func BenchmarkPutGet(b *testing.B) {
	storetest.Benchmark(b, open(b))
}
