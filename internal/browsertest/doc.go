// Package browsertest drives a headless Chromium (Debian's chromium package)
// through chromedp, for the tests of pages and live lessons.
//
// One [Browser] is one Chromium process, started by [New] and stopped when
// the test ends. Each page is a context.Context that chromedp actions run
// against, as everywhere in chromedp:
//
//	b := browsertest.New(t)           // skips, or fails under PREAU_REQUIRE_SERVICES=1, without chromium
//	teacher := b.NewPage(t)           // a tab in a fresh browser context: its own cookies and storage
//	pupil := b.NewPage(t)             // a second user, logged in at the same time
//	err := chromedp.Do(teacher,
//		chromedp.Navigate(srv.URL+"/connexion"),
//		chromedp.SendKeys(chromedp.ID("login"), "prof"),
//		chromedp.Submit(chromedp.ID("login")),
//		browsertest.WaitText("h1", "Bienvenue"),
//	)
//	browsertest.NoJSErrors(t, teacher) // console.error, uncaught exceptions, CSP violations
//
// Choices, and why:
//   - Every [Browser.NewPage] opens its own browser context (an incognito-like
//     profile), so two users never share cookies; [Browser.NewTab] opens a
//     further tab for the same user. One process serves many pages: starting
//     Chromium takes longer than opening a tab, and holds more memory.
//   - A page lives at most [Browser.Timeout] (default [DefaultTimeout]) so a
//     stuck wait fails the test instead of reaching the go test deadline.
//   - Console errors, uncaught exceptions and browser log errors are recorded
//     from the first event of the tab, in the order Chromium sent them, before
//     the reply to the next command: once an action has returned, everything
//     the page reported before it is in [JSErrors]. Checking is explicit
//     ([NoJSErrors]), because a test that stops its server may legitimately
//     see connection errors afterwards; a failed test logs what was recorded.
//     Web workers and cross-site iframes are separate targets: their console
//     is not recorded. Chromium's own /favicon.ico request never counts.
//   - [WaitText] is an action, so it composes inside chromedp.Do, and it keeps
//     waiting across navigations (a form submit), which chromedp.Poll does not.
//   - The profile directory is a fresh temporary directory that chromedp owns
//     rather than one under t.TempDir: chromedp kills Chromium's leftover child
//     processes and retries the removal (Chromium can still write there as it
//     exits); t.TempDir does neither, and fails the test if removal fails.
//   - Chromium runs with fake camera and microphone and auto-accepted
//     permission prompts, for live lessons; with --no-sandbox, as tests run as
//     root; without background networking, as the machine has no internet.
//
// Screenshots: [Screenshot] writes one on demand; when PREAU_SCREENSHOTS names
// a directory, a failed test also leaves there a screenshot of each of its
// pages.
package browsertest
