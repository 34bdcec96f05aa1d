package browsertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/testsvc"
)

// DefaultTimeout bounds the life of a page when Browser.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// startTimeout bounds the start of Chromium and the opening of a tab.
const startTimeout = 30 * time.Second

// Browser is one headless Chromium process. Its pages may be used from
// several goroutines, one goroutine per page.
type Browser struct {
	// Timeout bounds the life of each page opened after it is set; zero
	// means DefaultTimeout. Live-lesson tests that run longer raise it.
	Timeout time.Duration

	ctx context.Context // owns the process: the first chromedp.Run ran on it
	out *tailBuffer     // Chromium's stdout and stderr, for failure messages
}

// New starts Chromium (found by testsvc.Chromium, so the test skips or fails
// when it is missing) and stops it when the test and its subtests end. It fails
// the test, with Chromium's own output, when the browser cannot start.
func New(t testing.TB) *Browser {
	t.Helper()
	path := testsvc.Chromium(t)
	out := &tailBuffer{max: 16 << 10}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.NoSandbox, // tests run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machine has no internet: without these, Chromium keeps trying
		// to reach Google's hosts and fills its log with refused connections.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Pages in a background window must not be throttled: a live lesson
		// test drives several users at once.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		// Live lessons: a synthetic camera and microphone, and getUserMedia
		// permission prompts accepted without a click.
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(out),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)

	// The first Run binds the process to the context it is given, so it gets
	// ctx itself; the timeout is enforced from outside.
	if err := within(startTimeout, func() error { return chromedp.Do(ctx) }); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("browsertest: start %s: %v\nchromium output:\n%s", path, err, out)
	}
	t.Cleanup(func() {
		// Close gracefully, so that Chromium's children exit with it.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: stop chromium: %v", err)
		}
		ccancel()
		cancel()
		cancelAlloc()
	})
	return &Browser{ctx: ctx, out: out}
}

// NewPage opens a tab in a new browser context: its cookies, storage and
// cache are its own, so each page can be a different user. The returned
// context runs chromedp actions in that tab; it ends after b.Timeout, and the
// tab is closed when the test ends. JS errors of the page are recorded from
// the start (see JSErrors).
func (b *Browser) NewPage(t testing.TB) context.Context {
	t.Helper()
	return b.open(t, b.ctx, chromedp.WithNewBrowserContext())
}

// NewTab opens a further tab for the same user as the page ctx: it shares its
// browser context, hence its cookies. Otherwise it is like NewPage.
func (b *Browser) NewTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	if pageOf(ctx) == nil {
		t.Fatalf("browsertest: NewTab: ctx is not a page of browsertest")
	}
	return b.open(t, ctx)
}

func (b *Browser) open(t testing.TB, parent context.Context, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	p := &page{name: t.Name()}
	opts = append(opts, chromedp.WithListener(p.record))
	tabCtx, cancelTab := chromedp.NewContext(context.WithValue(parent, pageKey{}, p), opts...)
	// As for the browser, the first Run binds the tab to its context.
	if err := within(startTimeout, func() error { return chromedp.Do(tabCtx) }); err != nil {
		cancelTab()
		t.Fatalf("browsertest: open a tab: %v\nchromium output:\n%s", err, b.out)
	}
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, timeout)
	t.Cleanup(func() {
		if t.Failed() {
			p.report(t, tabCtx)
		}
		cancelTimeout()
		cancelTab()
	})
	return ctx
}

// within runs f and gives up after d. f keeps running in the background when
// it overruns; the caller then cancels the context f uses.
func within(d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("no answer after %v", d)
	}
}

// tailBuffer keeps the last max bytes written to it. Chromium writes from its
// own goroutine, hence the lock.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
