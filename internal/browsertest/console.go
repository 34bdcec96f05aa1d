package browsertest

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// maxMessages bounds what a page keeps; a page that logs in a loop must not
// eat the test's memory.
const maxMessages = 1000

type pageKey struct{}

// page is what browsertest keeps about one tab: the console messages it
// reported, in order.
type page struct {
	name string

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	dropped  int
}

func pageOf(ctx context.Context) *page {
	p, _ := ctx.Value(pageKey{}).(*page)
	return p
}

// record runs in the tab's event loop (chromedp.WithListener): it must be quick
// and send no command.
func (p *page) record(ev any) {
	var m chromedp.ConsoleMessage
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		m = chromedp.ConsoleMessage{Type: chromedp.ConsoleType(ev.Type), Text: argsText(ev.Args), Stack: ev.StackTrace}
		if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
			f := st.CallFrames[0]
			m.URL, m.Line, m.Column = f.URL, f.LineNumber, f.ColumnNumber
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		m = chromedp.ConsoleMessage{Type: chromedp.ConsoleException, Text: d.Text, URL: d.URL,
			Line: d.LineNumber, Column: d.ColumnNumber, Stack: d.StackTrace, Exception: d}
		if d.Exception != nil {
			// The description of an Error is its message then its stack.
			desc, _, _ := strings.Cut(valueText(d.Exception), "\n    at ")
			m.Text = strings.TrimSpace(d.Text + " " + desc)
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		m = chromedp.ConsoleMessage{Type: chromedp.ConsoleType(e.Level), Text: e.Text, URL: e.URL,
			Line: e.LineNumber, Stack: e.StackTrace, Source: string(e.Source)}
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.messages) >= maxMessages {
		p.dropped++
		return
	}
	p.messages = append(p.messages, m)
}

// isError reports whether m is something a page under test must not produce.
func isError(m chromedp.ConsoleMessage) bool {
	if m.Source == string(log.EntrySourceNetwork) && isFavicon(m.URL) {
		// Chromium asks every origin for /favicon.ico by itself; a page
		// under test did not, and a bare test server has none.
		return false
	}
	switch m.Type {
	case chromedp.ConsoleError, chromedp.ConsoleException, "assert":
		return true
	}
	return false
}

func isFavicon(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Path == "/favicon.ico"
}

// Messages returns everything the page of ctx reported so far: console calls
// of every level, uncaught exceptions and browser log entries (network,
// security, …), in the order Chromium sent them. It returns nil when ctx is
// not a page of browsertest.
func Messages(ctx context.Context) []chromedp.ConsoleMessage {
	p := pageOf(ctx)
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), p.messages...)
}

// JSErrors returns the errors the page of ctx reported so far: uncaught
// exceptions and unhandled promise rejections, console.error and failed
// console.assert calls, and browser log entries of level error — among them
// Content-Security-Policy violations (an inline script) and failed loads.
// Everything reported before the last action on ctx returned is included.
func JSErrors(ctx context.Context) []chromedp.ConsoleMessage {
	var errs []chromedp.ConsoleMessage
	for _, m := range Messages(ctx) {
		if isError(m) {
			errs = append(errs, m)
		}
	}
	return errs
}

// NoJSErrors fails the test, listing them, when the page of ctx reported
// errors (see JSErrors).
func NoJSErrors(t testing.TB, ctx context.Context) {
	t.Helper()
	if pageOf(ctx) == nil {
		t.Fatalf("browsertest: NoJSErrors: ctx is not a page of browsertest")
	}
	errs := JSErrors(ctx)
	if len(errs) == 0 {
		return
	}
	var b strings.Builder
	for _, m := range errs {
		b.WriteString("\n\t")
		b.WriteString(describe(m))
	}
	t.Errorf("browsertest: the page reported %d JS error(s):%s", len(errs), b.String())
}

// WaitJSError waits until the page of ctx has reported an error whose text
// contains substr, and returns it. It is for tests that expect an error.
func WaitJSError(ctx context.Context, substr string) (chromedp.ConsoleMessage, error) {
	for {
		for _, m := range JSErrors(ctx) {
			if strings.Contains(m.Text, substr) {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return chromedp.ConsoleMessage{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// report logs what the page reported, and leaves a screenshot in
// $PREAU_SCREENSHOTS; it runs when a test has failed.
func (p *page) report(t testing.TB, tabCtx context.Context) {
	p.mu.Lock()
	msgs := append([]chromedp.ConsoleMessage(nil), p.messages...)
	dropped := p.dropped
	p.mu.Unlock()
	if len(msgs) > 0 {
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString("\n\t")
			b.WriteString(describe(m))
		}
		if dropped > 0 {
			b.WriteString("\n\t… and later messages dropped")
		}
		t.Logf("browsertest: console of a page of %s:%s", p.name, b.String())
	}
	if screenshotDir() != "" {
		ctx, cancel := context.WithTimeout(tabCtx, 5*time.Second)
		defer cancel()
		if path := Screenshot(t, ctx, "failed"); path != "" {
			t.Logf("browsertest: screenshot of the failed page: %s", path)
		}
	}
}

func describe(m chromedp.ConsoleMessage) string {
	s := m.String()
	if m.Source != "" {
		s = "[" + m.Source + "] " + s
	}
	if m.URL != "" {
		s += " (" + m.URL + ")"
	}
	return s
}

// argsText renders console arguments roughly as the DevTools console does,
// without its %s formatting.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, valueText(a))
	}
	return strings.Join(parts, " ")
}

func valueText(o *runtime.RemoteObject) string {
	if o.Type == runtime.RemoteObjectTypeString {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	}
	switch {
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}
