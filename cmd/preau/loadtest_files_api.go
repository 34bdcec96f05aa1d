package main

// The Documents API as `preau loadtest files` drives it (docs/files.md): a
// signed-in client, uploads the way web/static/files.js sends them, downloads
// that stream into a content check, and the clean-up. The content is
// generated on the fly from one 1 MiB block, so a 1 GB file costs 1 MiB.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"
)

// filesAPI is one signed-in account and its personal space.
type filesAPI struct {
	cfg          filesLoadConfig
	c            *http.Client
	space        int64
	maxUpload    int64
	maxResumable int64
	partSize     int64
	canResume    bool
	direct       bool // parts may go straight to the store (presigned)
}

// loadHTTPClient is the tool's HTTP client: a session cookie, connections
// kept for every worker, no compression, large socket buffers.
func loadHTTPClient(conns int) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: conns + 2,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
		IdleConnTimeout:     time.Minute,
	}}
}

func newFilesAPI(ctx context.Context, cfg filesLoadConfig) (*filesAPI, error) {
	a := &filesAPI{cfg: cfg, c: loadHTTPClient(cfg.Concurrency)}
	if err := a.login(ctx, cfg.Login, cfg.Password); err != nil {
		return nil, err
	}
	var sp struct {
		Spaces []struct {
			ID       int64  `json:"id"`
			Kind     string `json:"kind"`
			CanWrite bool   `json:"can_write"`
		} `json:"spaces"`
		MaxUpload    int64 `json:"max_upload"`
		MaxResumable int64 `json:"max_resumable"`
		PartSize     int64 `json:"part_size"`
		Resumable    bool  `json:"resumable"`
		Direct       bool  `json:"direct"`
	}
	if err := a.call(ctx, http.MethodGet, "/api/v1/files/spaces", nil, http.StatusOK, &sp); err != nil {
		return nil, err
	}
	for _, s := range sp.Spaces {
		if s.Kind == "personal" && s.CanWrite {
			a.space = s.ID
		}
	}
	if a.space == 0 {
		return nil, fmt.Errorf("loadtest files: %s has no personal space", cfg.Login)
	}
	a.maxUpload, a.maxResumable, a.partSize, a.canResume = sp.MaxUpload, sp.MaxResumable, sp.PartSize, sp.Resumable
	a.direct = sp.Direct
	return a, nil
}

func (a *filesAPI) login(ctx context.Context, login, password string) error {
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	err := a.call(ctx, http.MethodPost, "/api/v1/auth/login", body, http.StatusOK, nil)
	if err != nil {
		return fmt.Errorf("loadtest files: login as %s (a `preau serve --demo`?): %w", login, err)
	}
	return nil
}

// call sends a JSON request and decodes the answer into out (nil: drop it).
func (a *filesAPI) call(ctx context.Context, method, path string, body []byte, want int, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.URL+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.do(req, want, out)
}

func (a *filesAPI) do(req *http.Request, want int, out any) error {
	resp, err := a.c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: HTTP %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// resumable tells whether the page would send a file of size in parts:
// past two parts, up to the resumable limit (web/static/files.js).
func (a *filesAPI) resumable(size int64) bool {
	return a.canResume && a.partSize > 0 && size > 2*a.partSize && size <= a.maxResumable
}

// quotaUsage is GET /spaces/{space}/quota.
type quotaUsage struct {
	Kind    string `json:"kind"`
	ID      int64  `json:"id"`
	Used    int64  `json:"used"`
	Limit   int64  `json:"limit"`
	Default bool   `json:"default"`
}

// ensureRoom makes sure the personal space can hold need more bytes. When
// it cannot, the administrator (--admin-login) raises its owner's quota for
// the run; the returned function puts the previous limit back (nil when
// nothing was changed).
func (a *filesAPI) ensureRoom(ctx context.Context, need int64, logf func(string, ...any)) (func(context.Context) error, error) {
	var u quotaUsage
	if err := a.call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/files/spaces/%d/quota", a.space), nil, http.StatusOK, &u); err != nil {
		return nil, fmt.Errorf("loadtest files: quota: %w", err)
	}
	if u.Used+need <= u.Limit {
		return nil, nil
	}
	if a.cfg.AdminLogin == "" {
		return nil, fmt.Errorf("loadtest files: the run needs %d MB and %s's space has %d MB free: lower --files or --size, or give --admin-login",
			need/1e6, a.cfg.Login, (u.Limit-u.Used)/1e6)
	}
	admin := &filesAPI{cfg: a.cfg, c: loadHTTPClient(1)}
	if err := admin.login(ctx, a.cfg.AdminLogin, a.cfg.AdminPassword); err != nil {
		return nil, err
	}
	set := func(ctx context.Context, limit int64) error {
		body, _ := json.Marshal(map[string]int64{"limit": limit})
		return admin.call(ctx, http.MethodPut, fmt.Sprintf("/api/v1/files/quotas/%s/%d", u.Kind, u.ID), body, http.StatusOK, nil)
	}
	limit := u.Used + need + 64<<20
	if err := set(ctx, limit); err != nil {
		return nil, fmt.Errorf("loadtest files: raise the quota as %s: %w", a.cfg.AdminLogin, err)
	}
	logf("%s's quota raised from %d to %d MB for the run (as %s)", a.cfg.Login, u.Limit/1e6, limit/1e6, a.cfg.AdminLogin)
	old := u.Limit
	if u.Default {
		old = 0 // back to the profile's default
	}
	return func(ctx context.Context) error { return set(ctx, old) }, nil
}

func (a *filesAPI) mkdir(ctx context.Context, name string) (int64, error) {
	body, _ := json.Marshal(map[string]any{"parent": 0, "name": name})
	var n struct {
		ID int64 `json:"id"`
	}
	if err := a.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/files/spaces/%d/folders", a.space), body, http.StatusCreated, &n); err != nil {
		return 0, fmt.Errorf("loadtest files: folder: %w", err)
	}
	return n.ID, nil
}

// upload sends one generated file of size bytes into folder and returns its id.
func (a *filesAPI) upload(ctx context.Context, folder int64, name string, size int64) (int64, error) {
	var n struct {
		ID int64 `json:"id"`
	}
	if !a.resumable(size) {
		u := fmt.Sprintf("%s/api/v1/files/spaces/%d/upload?folder=%d&name=%s", a.cfg.URL, a.space, folder, url.QueryEscape(name))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &genReader{end: size})
		if err != nil {
			return 0, err
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		if err := a.do(req, http.StatusCreated, &n); err != nil {
			return 0, fmt.Errorf("upload %s: %w", name, err)
		}
		return n.ID, nil
	}
	body, _ := json.Marshal(map[string]any{"space": a.space, "folder": folder, "name": name, "size": size})
	var up struct {
		ID       string `json:"id"`
		Parts    int    `json:"parts"`
		PartSize int64  `json:"part_size"`
	}
	if err := a.call(ctx, http.MethodPost, "/api/v1/files/uploads", body, http.StatusCreated, &up); err != nil {
		return 0, fmt.Errorf("upload %s: begin: %w", name, err)
	}
	err := func() error {
		// One part after the other, as the page sends them.
		urls := map[int]string{}
		for p := 1; p <= up.Parts; p++ {
			off := int64(p-1) * up.PartSize
			end := min(off+up.PartSize, size)
			if a.cfg.Presigned && a.direct {
				if err := a.directPart(ctx, up.ID, p, off, end, urls); err != nil {
					return fmt.Errorf("part %d: %w", p, err)
				}
				continue
			}
			u := fmt.Sprintf("%s/api/v1/files/uploads/%s/parts/%d", a.cfg.URL, up.ID, p)
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, &genReader{off: off, end: end})
			if err != nil {
				return err
			}
			req.ContentLength = end - off
			req.Header.Set("Content-Type", "application/octet-stream")
			if err := a.do(req, http.StatusOK, nil); err != nil {
				return fmt.Errorf("part %d: %w", p, err)
			}
		}
		return a.call(ctx, http.MethodPost, "/api/v1/files/uploads/"+up.ID+"/complete", nil, http.StatusCreated, &n)
	}()
	if err != nil {
		// Drop the parts already sent (best effort; they expire anyway).
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		a.call(actx, http.MethodDelete, "/api/v1/files/uploads/"+up.ID, nil, http.StatusNoContent, nil)
		cancel()
		return 0, fmt.Errorf("upload %s: %w", name, err)
	}
	return n.ID, nil
}

// directPart sends bytes [off, end) as part n straight to the store, as the
// page does when Préau offers it: presigned URLs asked from Préau a batch at
// a time (urls keeps them, by part), a PUT to the store without Préau's
// session cookie.
func (a *filesAPI) directPart(ctx context.Context, upload string, n int, off, end int64, urls map[int]string) error {
	if urls[n] == "" {
		body, _ := json.Marshal(map[string]int{"from": n, "count": 8})
		var got struct {
			URLs []struct {
				N   int    `json:"n"`
				URL string `json:"url"`
			} `json:"urls"`
		}
		if err := a.call(ctx, http.MethodPost, "/api/v1/files/uploads/"+upload+"/part-urls", body, http.StatusOK, &got); err != nil {
			return err
		}
		for _, u := range got.URLs {
			urls[u.N] = u.URL
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, urls[n], &genReader{off: off, end: end})
	if err != nil {
		return err
	}
	req.ContentLength = end - off
	resp, err := (&http.Client{Transport: a.c.Transport}).Do(req)
	if err != nil {
		return fmt.Errorf("presigned PUT: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("presigned PUT: HTTP %d", resp.StatusCode)
	}
	return nil
}

// download streams a file's content into a check of every byte.
func (a *filesAPI) download(ctx context.Context, id, size int64) error {
	u := fmt.Sprintf("%s/api/v1/files/items/%d/content", a.cfg.URL, id)
	if a.cfg.Presigned {
		u += "?direct=1" // followed to MinIO; on disk Préau sends the bytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := a.getNoRedirect(req)
	if err != nil {
		return fmt.Errorf("download %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusFound && a.cfg.Presigned {
		// The presigned URL carries its own authorisation: fetch it
		// without Préau's session cookie.
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			return fmt.Errorf("download %d: redirect: %w", id, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp, err = (&http.Client{Transport: a.c.Transport}).Do(req); err != nil {
			return fmt.Errorf("download %d: presigned: %w", id, err)
		}
		defer resp.Body.Close()
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %d: HTTP %d", id, resp.StatusCode)
	}
	if err := checkContent(resp.Body, size); err != nil {
		return fmt.Errorf("download %d: %w", id, err)
	}
	return nil
}

// getNoRedirect sends req with the session, not following a redirect.
func (a *filesAPI) getNoRedirect(req *http.Request) (*http.Response, error) {
	c := *a.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c.Do(req)
}

// removeFolder moves the run's folder to the bin, then purges it for good
// (contents deleted, quota given back).
func (a *filesAPI) removeFolder(ctx context.Context, folder int64) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := a.call(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/files/items/%d", folder), nil, http.StatusNoContent, nil); err != nil {
		return err
	}
	return a.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/files/items/%d/purge", folder), nil, http.StatusNoContent, nil)
}

// loadBlock is the content of every generated file, repeated: 1 MiB of
// ChaCha8 output, which neither compresses nor deduplicates within a part.
var loadBlock = func() []byte {
	b := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{'p', 'r', 'e', 'a', 'u'}).Read(b)
	return b
}()

// genReader yields bytes off..end of the generated content.
type genReader struct{ off, end int64 }

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.end {
		return 0, io.EOF
	}
	i := g.off % int64(len(loadBlock))
	n := copy(p[:min(int64(len(p)), g.end-g.off)], loadBlock[i:])
	g.off += int64(n)
	return n, nil
}

// WriteTo hands the block out in large slices (io.Copy prefers it).
func (g *genReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for g.off < g.end {
		i := g.off % int64(len(loadBlock))
		n, err := w.Write(loadBlock[i:min(int64(len(loadBlock)), i+g.end-g.off)])
		g.off += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

var errContent = errors.New("content differs from what was uploaded")

// checkContent reads r to its end and checks it is the generated content
// of the given size (a comparison per read: cheap next to the I/O).
func checkContent(r io.Reader, size int64) error {
	buf := make([]byte, 256<<10)
	var off int64
	for {
		n, err := r.Read(buf)
		for p := buf[:n]; len(p) > 0; {
			i := off % int64(len(loadBlock))
			k := min(len(p), len(loadBlock)-int(i))
			if off+int64(k) > size || !bytes.Equal(p[:k], loadBlock[i:int(i)+k]) {
				return fmt.Errorf("at byte %d: %w", off, errContent)
			}
			p, off = p[k:], off+int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != size {
		return fmt.Errorf("%d bytes, want %d: %w", off, size, errContent)
	}
	return nil
}
