package main

// `preau loadtest files`: flags, the run (upload phase, download phase,
// clean-up; then the same directly against MinIO with --s3-url), the
// server's memory sampled from /metrics, and the summary. The Documents API
// client and the generated content are in loadtest_files_api.go, the direct
// MinIO side in loadtest_files_direct.go; docs/benchmarks.md has the figures.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the files load, so that a typo cannot fill a disk or run for
// hours.
const (
	maxFilesConcurrency = 64
	maxFilesPerPhase    = 1000
	maxFilesBytes       = 32 << 30 // files × size
	maxFilesDuration    = 10 * time.Minute
	maxFilesTimeout     = 30 * time.Minute
)

type filesLoadConfig struct {
	URL           string
	Login         string
	Password      string
	AdminLogin    string // raises Login's quota when the run needs more room
	AdminPassword string
	Size          int64
	Concurrency   int
	Duration      time.Duration // no file is started after it, in each phase
	Files         int           // at most this many files per phase
	Timeout       time.Duration // the whole run, clean-up included
	S3URL         string        // also measure directly against this MinIO/S3
	Presigned     bool          // presigned parts up and ?direct=1 down, where the server offers them
	AllowRemote   bool
	JSON          bool
}

func parseLoadtestFiles(args []string) (filesLoadConfig, error) {
	var c filesLoadConfig
	var size string
	fs := flag.NewFlagSet("loadtest files", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "the server, started with --demo (loopback only unless --allow-remote)")
	fs.StringVar(&c.Login, "login", "prof.demo", "the account whose personal space (\"Mes documents\") receives the files")
	fs.StringVar(&c.Password, "password", "preau-demo-2026", "its password")
	fs.StringVar(&c.AdminLogin, "admin-login", "admin.demo", "the administrator who raises --login's quota when the run needs more room (\"\": never)")
	fs.StringVar(&c.AdminPassword, "admin-password", "preau-demo-2026", "its password")
	fs.StringVar(&size, "size", "100MB", "size of each file: bytes or with a unit (kB, MB, GB = powers of 1000; KiB, MiB, GiB = powers of 1024)")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "clients uploading (then downloading) at the same time")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "in each phase, no file is started after this")
	fs.IntVar(&c.Files, "files", 0, "at most this many files per phase (0: 3 × --concurrency)")
	fs.DurationVar(&c.Timeout, "timeout", 15*time.Minute, "hard limit of the whole run; files in flight are abandoned (and cleaned up)")
	fs.StringVar(&c.S3URL, "s3-url", "", "also upload and download the same files directly to this MinIO/S3 with minio-go, for comparison: s3://KEY:SECRET@127.0.0.1:9000/bucket?secure=false")
	fs.BoolVar(&c.Presigned, "presigned", false, "as the page does on S3 with a public address: upload the parts of large files straight to MinIO with presigned URLs, and download with ?direct=1 (Préau checks access, MinIO carries the bytes)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a --url or --s3-url that is not this machine")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: preau loadtest files [flags]\n\nUploads then downloads generated files through the Documents API of a `preau serve --demo`\n"+
			"(as the page does: one request up to two parts, resumable parts beyond), deletes and purges them,\n"+
			"and reports the throughput and the server's peak memory; with --s3-url, the same directly against MinIO.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("loadtest files: unexpected argument %q", fs.Arg(0))
	}
	n, err := parseSize(size)
	if err != nil {
		return c, fmt.Errorf("loadtest files: --size: %w", err)
	}
	c.Size = n
	if c.Files == 0 {
		c.Files = 3 * c.Concurrency
	}
	switch {
	case c.Size < 1 || c.Size > 2<<30:
		return c, errors.New("loadtest files: --size: 1 byte to 2 GiB (the largest resumable upload)")
	case c.Concurrency < 1 || c.Concurrency > maxFilesConcurrency:
		return c, fmt.Errorf("loadtest files: --concurrency: 1 to %d", maxFilesConcurrency)
	case c.Files < 1 || c.Files > maxFilesPerPhase:
		return c, fmt.Errorf("loadtest files: --files: 1 to %d", maxFilesPerPhase)
	case int64(c.Files)*c.Size > maxFilesBytes:
		return c, fmt.Errorf("loadtest files: --files × --size: at most %d GiB", maxFilesBytes>>30)
	case c.Duration <= 0 || c.Duration > maxFilesDuration:
		return c, fmt.Errorf("loadtest files: --duration: up to %s", maxFilesDuration)
	case c.Timeout <= 0 || c.Timeout > maxFilesTimeout:
		return c, fmt.Errorf("loadtest files: --timeout: up to %s", maxFilesTimeout)
	}
	if !c.AllowRemote {
		if err := localOnly(c.URL); err != nil {
			return c, fmt.Errorf("%w (or --allow-remote)", err)
		}
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("loadtest files: --url %q: want http(s)://HOST:PORT", c.URL)
	}
	if c.S3URL != "" {
		if _, err := directConfig(c.S3URL, c.AllowRemote); err != nil {
			return c, err
		}
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	return c, nil
}

// parseSize reads "100MB", "1 GiB", "3mb", "4096".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') && s[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(s[:i]), strings.ToLower(strings.TrimSpace(s[i:]))
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 {
		return 0, fmt.Errorf("%q: want a size such as 3MB, 100MB, 1GB or 8MiB", s)
	}
	if f*mult > 1<<40 {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return int64(f * mult), nil
}

// filesSummary is what a run measured; the JSON names are stable. MB are
// 10^6 bytes in throughputs; memory is in MiB (2^20), as in the other load
// tools.
type filesSummary struct {
	SizeBytes   int64   `json:"size_bytes"`
	Concurrency int     `json:"concurrency"`
	Method      string  `json:"upload_method"` // "one request", "resumable parts" or "presigned parts"
	Files       int     `json:"files"`         // uploaded through Préau
	Bytes       int64   `json:"bytes"`         // uploaded + downloaded through Préau
	UploadS     float64 `json:"upload_s"`
	UploadMBs   float64 `json:"upload_mb_s"`
	Downloaded  int     `json:"downloaded"`
	DownloadVia string  `json:"download_via"` // "préau" or "presigned redirect" (--presigned)
	DownloadS   float64 `json:"download_s"`
	DownloadMBs float64 `json:"download_mb_s"`
	// Directly against MinIO/S3 (--s3-url); 0 without it.
	DirectFiles       int     `json:"direct_files"`
	DirectBytes       int64   `json:"direct_bytes"`
	DirectUploadMBs   float64 `json:"direct_upload_mb_s"`
	DirectDownloadMBs float64 `json:"direct_download_mb_s"`
	UploadRatio       float64 `json:"upload_ratio"`   // through Préau / direct
	DownloadRatio     float64 `json:"download_ratio"` // through Préau / direct
	Errors            int64   `json:"errors"`         // failed uploads, downloads, content mismatches, clean-up failures
	// From the server's /metrics, sampled every 200 ms during the Préau
	// phases; 0 when it has none.
	ServerIdleMemMB  float64 `json:"server_idle_mem_mb"` // RSS before the run
	ServerPeakMemMB  float64 `json:"server_peak_mem_mb"` // peak RSS
	ServerPeakOverMB float64 `json:"server_peak_over_idle_mb"`
	ServerPeakHeapMB float64 `json:"server_peak_heap_stack_mb"` // peak Go heap in use + stacks
	ServerMemSamples int     `json:"server_mem_samples"`
	QuotaRaised      bool    `json:"quota_raised"` // --admin-login raised --login's quota for the run (restored after)
	Cleaned          bool    `json:"cleaned"`      // every file deleted and purged, the quota restored
	LoadAvg          float64 `json:"load_avg_1m"`  // this machine's, at the end (measurements are noisy when high)
}

func (s filesSummary) print(w io.Writer) {
	fmt.Fprintf(w, "%d clients, files of %s (%s)\n", s.Concurrency, mbString(s.SizeBytes), s.Method)
	fmt.Fprintf(w, "through Préau: upload %d files in %.1f s = %.1f MB/s; download (via %s) %d in %.1f s = %.1f MB/s\n",
		s.Files, s.UploadS, s.UploadMBs, s.DownloadVia, s.Downloaded, s.DownloadS, s.DownloadMBs)
	if s.DirectFiles > 0 {
		fmt.Fprintf(w, "directly to MinIO: upload %.1f MB/s, download %.1f MB/s; Préau/direct: upload %.0f %%, download %.0f %%\n",
			s.DirectUploadMBs, s.DirectDownloadMBs, 100*s.UploadRatio, 100*s.DownloadRatio)
	}
	fmt.Fprintf(w, "server memory: idle %.0f MiB, peak %.0f MiB (+%.0f MiB), peak Go heap+stacks %.0f MiB (%d samples)\n",
		s.ServerIdleMemMB, s.ServerPeakMemMB, s.ServerPeakOverMB, s.ServerPeakHeapMB, s.ServerMemSamples)
	fmt.Fprintf(w, "errors %d; cleaned up: %v; quota raised for the run: %v; load average %.2f\n", s.Errors, s.Cleaned, s.QuotaRaised, s.LoadAvg)
}

func mbString(n int64) string {
	if n >= 1e9 {
		return strconv.FormatFloat(float64(n)/1e9, 'f', -1, 64) + " GB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + " MB"
}

// runLoadtestFiles is `preau loadtest files`.
func runLoadtestFiles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLoadtestFiles(args)
	if err != nil {
		return err
	}
	sum, err := loadtestFiles(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	return writeSummary(stdout, cfg.JSON, sum)
}

// loadtestFiles runs the whole load. Errors during the phases are counted,
// not returned; an error is returned when the run cannot start.
func loadtestFiles(ctx context.Context, cfg filesLoadConfig, logw io.Writer) (filesSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "loadtest files: "+format+"\n", args...) }
	sum := filesSummary{SizeBytes: cfg.Size, Concurrency: cfg.Concurrency, DownloadVia: "préau"}
	if cfg.Presigned {
		sum.DownloadVia = "presigned redirect"
	}

	api, err := newFilesAPI(ctx, cfg)
	if err != nil {
		return sum, err
	}
	sum.Method = "one request"
	if api.resumable(cfg.Size) {
		sum.Method = "resumable parts"
		if cfg.Presigned && api.direct {
			sum.Method = "presigned parts"
		}
	} else if cfg.Size > api.maxUpload {
		return sum, fmt.Errorf("loadtest files: --size %d: over the server's one-request limit (%d) and it takes no resumable uploads", cfg.Size, api.maxUpload)
	}
	// Clean-up and quota restore run even when ctx ends: a run never leaves
	// files or a raised quota behind.
	cleanCtx := context.WithoutCancel(ctx)
	restore, err := api.ensureRoom(ctx, int64(cfg.Files)*cfg.Size, logf)
	if err != nil {
		return sum, err
	}
	sum.QuotaRaised = restore != nil
	folder, err := api.mkdir(ctx, "Test de charge "+time.Now().Format("2006-01-02 15.04.05"))
	if err != nil {
		if restore != nil {
			restore(cleanCtx)
		}
		return sum, err
	}

	var errs atomic.Int64
	m0 := scrapeMetrics(ctx, cfg.URL)
	sum.ServerIdleMemMB = m0.rssBytes / (1 << 20)
	sampler := startMemSampler(ctx, cfg.URL)

	logf("uploading files of %s through Préau (%s), %d clients, at most %d files or %s…",
		mbString(cfg.Size), sum.Method, cfg.Concurrency, cfg.Files, cfg.Duration)
	ids := make([]int64, 0, cfg.Files)
	var mu sync.Mutex
	up := runPhase(ctx, cfg, cfg.Files, func(ctx context.Context, i int) error {
		id, err := api.upload(ctx, folder, fmt.Sprintf("fichier-%04d.bin", i+1), cfg.Size)
		if err != nil {
			return err
		}
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
		return nil
	}, &errs, logf)
	sum.Files, sum.UploadS = up.done, up.elapsed.Seconds()
	sum.UploadMBs = up.mbs(cfg.Size)

	if len(ids) > 0 {
		logf("downloading the %d files…", len(ids))
		down := runPhase(ctx, cfg, len(ids), func(ctx context.Context, i int) error {
			return api.download(ctx, ids[i], cfg.Size)
		}, &errs, logf)
		sum.Downloaded, sum.DownloadS = down.done, down.elapsed.Seconds()
		sum.DownloadMBs = down.mbs(cfg.Size)
	}
	peak := sampler.stop()
	sum.ServerPeakMemMB, sum.ServerPeakHeapMB, sum.ServerMemSamples = peak.rss/(1<<20), peak.heap/(1<<20), peak.n
	if sum.ServerIdleMemMB > 0 && sum.ServerPeakMemMB > 0 {
		sum.ServerPeakOverMB = sum.ServerPeakMemMB - sum.ServerIdleMemMB
	}
	sum.Bytes = int64(sum.Files+sum.Downloaded) * cfg.Size

	logf("deleting and purging the folder…")
	sum.Cleaned = true
	if err := api.removeFolder(cleanCtx, folder); err != nil {
		logf("clean-up: %v", err)
		errs.Add(1)
		sum.Cleaned = false
	}
	if restore != nil {
		if err := restore(cleanCtx); err != nil {
			logf("quota restore: %v", err)
			errs.Add(1)
			sum.Cleaned = false
		}
	}

	if cfg.S3URL != "" && ctx.Err() == nil {
		d, err := runDirect(ctx, cfg, &errs, logf)
		if err != nil {
			logf("direct: %v", err)
			errs.Add(1)
		}
		sum.DirectFiles, sum.DirectBytes = d.files, d.bytes
		sum.DirectUploadMBs, sum.DirectDownloadMBs = d.upMBs, d.downMBs
		if d.upMBs > 0 {
			sum.UploadRatio = sum.UploadMBs / d.upMBs
		}
		if d.downMBs > 0 {
			sum.DownloadRatio = sum.DownloadMBs / d.downMBs
		}
	}
	sum.Errors = errs.Load()
	sum.LoadAvg = loadAverage()
	return sum, nil
}

// phaseResult is one phase's count and wall time.
type phaseResult struct {
	done    int
	elapsed time.Duration
}

func (p phaseResult) mbs(size int64) float64 {
	if p.elapsed <= 0 {
		return 0
	}
	return float64(p.done) * float64(size) / 1e6 / p.elapsed.Seconds()
}

// runPhase runs op on items 0..n-1 with cfg.Concurrency workers; no item
// starts after cfg.Duration. The wall time ends with the last op. A worker
// stops after three errors in a row (a full quota, a server gone).
func runPhase(ctx context.Context, cfg filesLoadConfig, n int, op func(context.Context, int) error,
	errs *atomic.Int64, logf func(string, ...any)) phaseResult {
	var next, done atomic.Int64
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, n) {
		wg.Go(func() {
			failures := 0
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := op(ctx, i); err != nil {
					errs.Add(1)
					logf("%v", err)
					if failures++; failures == 3 {
						return
					}
					continue
				}
				failures = 0
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return phaseResult{done: int(done.Load()), elapsed: time.Since(start)}
}

// memSampler reads the server's /metrics every 200 ms and keeps the peaks.
type memSampler struct {
	cancel context.CancelFunc
	done   chan memPeak
}

type memPeak struct {
	rss, heap float64
	n         int
}

func startMemSampler(ctx context.Context, base string) *memSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &memSampler{cancel: cancel, done: make(chan memPeak, 1)}
	go func() {
		var p memPeak
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if m := scrapeMetrics(ctx, base); m.ok {
				p.rss, p.heap, p.n = max(p.rss, m.rssBytes), max(p.heap, m.heapStacks), p.n+1
			}
			select {
			case <-ctx.Done():
				s.done <- p
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling (after one last sample) and returns the peaks.
func (s *memSampler) stop() memPeak {
	s.cancel()
	return <-s.done
}

// loadAverage is this machine's one-minute load average (0 where there is
// no /proc/loadavg).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}
