package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preau/internal/browsertest"
	"preau/internal/testsvc"
	"preau/storage/files"
	"preau/storage/s3"
)

// TestBrowserDocuments: prof.demo uploads a file through the Documents page
// (file picker, progress, list), shares it with 3e A from the share dialog,
// and eleve.demo finds it under "Partagés avec moi" and downloads the very
// same bytes.
func TestBrowserDocuments(t *testing.T) {
	b := browsertest.New(t)
	// Two uploads (one of 16 MiB in parts), a share, a copy and a hand-in
	// take a while on 2 loaded cores under -race: a page's life is a bound
	// against hanging, not a timing.
	b.Timeout = 3 * time.Minute
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	classA := demoClassID(t, dir, "3e A")

	name := "Fiche d'exercices été.txt"
	content := fmt.Sprintf("Exercices pour la 3e A — %d\nThéorème de Pythagore.\n", time.Now().UnixNano())
	local := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(local, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// A second file, large enough to go in parts (resumable upload).
	bigName := "vidéo du cours.webm"
	big := bytes.Repeat([]byte("0123456789abcdef"), (2*files.PartSize+12345)/16)
	bigPath := filepath.Join(t.TempDir(), bigName)
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}

	teacher := browserLogin(t, b, base, "/documents", "prof.demo")
	row := fmt.Sprintf(`//tr[@data-name=%q]`, name)
	// Each step is bounded well within the page's life, so that a failure
	// still leaves time to read the page's state (uploads, errors, the
	// dialog) and take a screenshot.
	teacherStep := func(what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(teacher, d)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			state, _ := chromedp.Run(teacher, chromedp.Evaluate[string](`[
				'uploads: ' + (document.getElementById('uploads')?.textContent ?? '').trim(),
				'files-error: ' + (document.getElementById('files-error')?.textContent ?? ''),
				'share dialog open: ' + document.getElementById('share-dialog')?.open,
				'share-error: ' + (document.getElementById('share-error')?.textContent ?? ''),
				'share-class: ' + document.getElementById('share-class')?.value].join('\n')`))
			browsertest.Screenshot(t, teacher, "documents-teacher")
			t.Fatalf("teacher %s: %v\npage:\n%s", what, err, state)
		}
	}
	teacherStep("uploads", 90*time.Second,
		browsertest.WaitText("h1", "Mes documents"),
		chromedp.SetUploadFiles(chromedp.ID("fichiers"), []string{local, bigPath}),
		// files.js uploads both with a progress bar each, then reloads.
		browsertest.WaitText("[data-testid=files]", name),
		browsertest.WaitText("[data-testid=files]", bigName),
	)
	// Clicks in the page (ClickXPath), not at coordinates: a dialog that is
	// still being laid out cannot turn "Partager" into "Fermer".
	teacherStep("shares with 3e A", 60*time.Second,
		browsertest.ClickXPath(row+`//button[@data-action="share"]`),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
		chromedp.SetValue(chromedp.ID("share-class"), strconv.FormatInt(classA, 10)),
		browsertest.ClickXPath(`//button[@data-testid="share-submit"]`),
		browsertest.WaitText("[data-testid=share-list]", "3e A"),
	)
	teacherSpace, err := chromedp.Run(teacher, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	gotBig, err := chromedp.Run(teacher, chromedp.Evaluate[int](fmt.Sprintf(`(async () => {
		const a = document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
		const b = await (await fetch(a.href)).arrayBuffer();
		return b.byteLength;
	})()`, fmt.Sprintf(`//tr[@data-name=%q]//a[@data-testid="item-link"]`, bigName)), chromedp.EvalAwaitPromise))
	if err != nil || gotBig != len(big) {
		t.Errorf("large file read back: %d bytes, want %d (%v)", gotBig, len(big), err)
	}
	// Also copy it into the class space from the "Copier vers…" dialog.
	err = chromedp.Do(teacher,
		runJS(`document.getElementById('share-dialog').close(), true`),
		chromedp.Click(chromedp.Search(row+`//button[@data-action="copy"]`)),
		chromedp.WaitVisible(chromedp.ID("move-dialog")),
		runJS(`(() => {
			const sel = document.getElementById('move-target');
			const o = Array.from(sel.options).find((o) => o.textContent === 'Classe 3e A');
			sel.value = o.value;
			return true;
		})()`),
		chromedp.Click(chromedp.CSS(`#move-form button[value=ok]`)),
		browsertest.WaitText("[data-testid=files-status]", "copié dans Classe 3e A"),
		chromedp.Click(chromedp.Search(`//nav[@aria-label="Mes espaces"]//a[.="Classe 3e A"]`)),
		browsertest.WaitText("h1", "Classe 3e A"),
		browsertest.WaitText("[data-testid=files]", name),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "documents-copy")
		t.Fatalf("teacher copies into the class space: %v", err)
	}
	browsertest.NoJSErrors(t, teacher)

	pupil := browserLogin(t, b, base, "/documents/partages", "eleve.demo")
	if err := chromedp.Do(pupil, browsertest.WaitText("[data-testid=files]", name)); err != nil {
		browsertest.Screenshot(t, pupil, "documents-pupil")
		t.Fatalf("pupil does not see the shared file: %v", err)
	}
	// Download through the page's link, with the pupil's session.
	got, err := chromedp.Run(pupil, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
		const a = document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
		const r = await fetch(a.href);
		if (!r.ok) throw new Error('download: ' + r.status);
		return await r.text();
	})()`, row+`//a[@data-testid="item-link"]`), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("pupil downloads: %v", err)
	}
	if got != content {
		t.Errorf("pupil downloaded %q, want %q", got, content)
	}
	browsertest.NoJSErrors(t, pupil)

	// Hand-in: the teacher sets an assignment for 3e A from the class space,
	// the pupil hands a file in, the teacher sees it and who is missing.
	err = chromedp.Do(teacher,
		chromedp.Click(chromedp.Search(`//nav[@aria-label="Mes espaces"]//a[.="Classe 3e A"]`)),
		browsertest.WaitText("h1", "Classe 3e A"),
		chromedp.SendKeys(chromedp.ID("titre-devoir"), "Exposé sur Jean Zay"),
		chromedp.SetValue(chromedp.ID("echeance"), "2030-06-01T18:00"),
		chromedp.Click(chromedp.CSS(`#new-assignment button[type=submit]`)),
		browsertest.WaitText("[data-testid=assignments]", "Exposé sur Jean Zay"),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "documents-assignment")
		t.Fatalf("teacher sets an assignment: %v", err)
	}
	err = chromedp.Do(pupil,
		chromedp.Click(chromedp.Search(`//nav[@aria-label="Mes espaces"]//a[.="Classe 3e A"]`)),
		chromedp.Click(chromedp.Search(`//ul[@data-testid="assignments"]//a[contains(., "Exposé sur Jean Zay")]`)),
		browsertest.WaitText("h1", "Exposé sur Jean Zay"),
		chromedp.SetUploadFiles(chromedp.ID("fichiers"), []string{local}),
		browsertest.WaitText("[data-testid=files]", name),
	)
	if err != nil {
		browsertest.Screenshot(t, pupil, "documents-handin")
		t.Fatalf("pupil hands in: %v", err)
	}
	err = chromedp.Do(teacher,
		chromedp.Click(chromedp.Search(`//ul[@data-testid="assignments"]//a[contains(., "Exposé sur Jean Zay")]`)),
		browsertest.WaitText("[data-testid=handins]", "Martin Léa"),
		browsertest.WaitText("[data-testid=missing]", "n'ont encore rien rendu"),
	)
	if err != nil {
		browsertest.Screenshot(t, teacher, "documents-handins")
		t.Fatalf("teacher sees the hand-ins: %v", err)
	}
	browsertest.NoJSErrors(t, teacher)
	browsertest.NoJSErrors(t, pupil)

	// The teacher's own space stays closed to the pupil: 404.
	status, err := chromedp.Run(pupil, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q).then(r => r.status)`, teacherSpace), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 404 {
		t.Errorf("the teacher's space as the pupil: %d, want 404", status)
	}
}

// runJS runs a script that returns true, as a step of chromedp.Do.
func runJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](expr)(ctx, t)
		return err
	})
}

// TestBrowserDocumentsDirect: on MinIO with a public address (localhost,
// another name of the test server), the page sends the parts of a large
// file straight to MinIO with presigned URLs — allowed by its CSP — and
// downloads it from there by redirect: the same bytes come back.
func TestBrowserDocumentsDirect(t *testing.T) {
	b := browsertest.New(t)
	b.Timeout = 3 * time.Minute
	storeURL := testsvc.S3URL(t)
	sc, err := s3.ParseURL(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(sc.Endpoint, ":")
	public := "http://localhost:" + port
	base, _ := startServe(t, "--demo", "--data", t.TempDir(), "--storage-url", storeURL+"&public="+public)

	bigName := "séance filmée.webm"
	big := bytes.Repeat([]byte("fedcba9876543210"), (2*files.PartSize+777)/16)
	bigPath := filepath.Join(t.TempDir(), bigName)
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}
	teacher := browserLogin(t, b, base, "/documents", "prof.demo")
	// Bounded well within the page's life: on a failure the upload's state
	// can still be read.
	upCtx, upCancel := context.WithTimeout(teacher, 90*time.Second)
	err = chromedp.Do(upCtx,
		browsertest.WaitText("h1", "Mes documents"),
		chromedp.SetUploadFiles(chromedp.ID("fichiers"), []string{bigPath}),
		// The page reloads when the upload is done: wait in JS, which
		// outlives the nodes of the page before.
		waitTrue(fmt.Sprintf(`(document.querySelector('[data-testid=files]')?.textContent || '').includes(%q)`, bigName)),
	)
	upCancel()
	if err != nil {
		state, _ := chromedp.Run(teacher, chromedp.Evaluate[string](
			`'uploads: ' + (document.getElementById('uploads')?.textContent ?? '').trim() + '\nfiles-error: ' + (document.getElementById('files-error')?.textContent ?? '')`))
		browsertest.Screenshot(t, teacher, "documents-direct")
		t.Fatalf("teacher uploads a large file: %v\npage:\n%s", err, state)
	}
	type check struct {
		Bytes  int    `json:"bytes"`
		Direct bool   `json:"direct"`
		Final  string `json:"final"`
	}
	got, err := chromedp.Run(teacher, chromedp.Evaluate[check](fmt.Sprintf(`(async () => {
		const a = document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
		const r = await fetch(a.href);
		const b = await r.arrayBuffer();
		return { direct: document.getElementById('documents').dataset.direct === 'true', final: r.url, bytes: b.byteLength };
	})()`, fmt.Sprintf(`//tr[@data-name=%q]//a[@data-testid="item-link"]`, bigName)), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Direct || !strings.HasPrefix(got.Final, public+"/") || got.Bytes != len(big) {
		t.Errorf("direct %v, downloaded from %s, %d bytes of %d", got.Direct, got.Final, got.Bytes, len(big))
	}
	// The parts went to MinIO: Préau signed URLs and took no part itself.
	metrics := getText(t, base+"/metrics")
	if !strings.Contains(metrics, `route="/api/v1/files/uploads/{upload}/part-urls"`) ||
		strings.Contains(metrics, `route="/api/v1/files/uploads/{upload}/parts/{n}"`) {
		t.Errorf("upload routes served:\n%s", grepLines(metrics, "preau_http_requests_total{route=\"/api/v1/files/uploads"))
	}
	browsertest.NoJSErrors(t, teacher)
}

// getText fetches url and returns its body.
func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
