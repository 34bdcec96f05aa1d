package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where screenshots outlive the test: $PREAU_SCREENSHOTS.
func screenshotDir() string { return os.Getenv("PREAU_SCREENSHOTS") }

// Screenshot saves a PNG of the whole page of ctx and returns its path:
// $PREAU_SCREENSHOTS/<test>-<name>.png when that variable is set, otherwise
// <t.TempDir()>/<name>.png (removed with the test). It is a debugging aid: a
// failure to take it is logged, not fatal, and the path is then "".
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("browsertest: screenshot %q: %v", name, err)
		return ""
	}
	var path string
	if dir := screenshotDir(); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Logf("browsertest: screenshot %q: %v", name, err)
			return ""
		}
		path = filepath.Join(dir, safeName(t.Name())+"-"+safeName(name)+".png")
	} else {
		path = filepath.Join(t.TempDir(), safeName(name)+".png")
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Logf("browsertest: screenshot %q: %v", name, err)
		return ""
	}
	return path
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// WaitText returns an action that waits until the first element matching the
// CSS selector exists and its text contains substr, both with runs of
// white space folded to one space. It keeps waiting across navigations, so it
// may follow a click that submits a form. When the context ends first, its
// error says what the element held.
func WaitText(selector, substr string) chromedp.Action[chromedp.Void] {
	want := fold(substr)
	sel, _ := json.Marshal(selector) // a JSON string is a JS string literal
	js := `(() => { const el = document.querySelector(` + string(sel) + `);` +
		` return el ? {found: true, text: el.textContent} : {found: false, text: ""}; })()`
	type state struct {
		Found bool   `json:"found"`
		Text  string `json:"text"`
	}
	return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		var last state
		var lastErr error
		answered := false
		for {
			s, err := chromedp.Evaluate[state](js)(ctx, tgt)
			switch {
			case err == nil && s.Found && strings.Contains(fold(s.Text), want):
				return chromedp.Void{}, nil
			case err == nil:
				last, lastErr, answered = s, nil, true
			case ctx.Err() == nil:
				// During a navigation the old document is gone and the
				// new one not ready yet: try again.
				lastErr = err
			}
			select {
			case <-ctx.Done():
				var seen string
				switch {
				case lastErr != nil:
					seen = "last error: " + lastErr.Error()
				case !answered:
					seen = "the page never answered"
				case !last.Found:
					seen = "no such element"
				default:
					seen = fmt.Sprintf("text was %q", clip(fold(last.Text), 300))
				}
				return chromedp.Void{}, fmt.Errorf("browsertest: wait for %q in %s: %w (%s)",
					substr, selector, ctx.Err(), seen)
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
}

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ClickXPath returns an action that waits until an element matches the XPath
// expression and clicks it, finding and clicking in one evaluation in the
// page. Unlike chromedp.Click(chromedp.Search(...)), which finds the node and
// then clicks it in two round trips, it cannot fail with "Could not find node
// with given id" when a list is redrawn in between (the live page redraws its
// participant, hand and lobby lists on every room event).
func ClickXPath(xpath string) chromedp.Action[chromedp.Void] {
	x, _ := json.Marshal(xpath) // a JSON string is a JS string literal
	js := `(() => { const el = document.evaluate(` + string(x) + `, document, null,` +
		` XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;` +
		` if (!el) return false; el.click(); return true; })()`
	return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		var lastErr error
		for {
			ok, err := chromedp.Evaluate[bool](js)(ctx, tgt)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			lastErr = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("click %s: %w (last error %v)", xpath, ctx.Err(), lastErr)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
