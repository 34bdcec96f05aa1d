package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/demo"
	"preau/internal/dbtest"
)

// The heavy pages on the demo scaled to a département (issue 6, "Quality";
// docs/benchmarks.md, "Heavy pages at 30,000 pupils"):
//
//	PREAU_BENCH_PUPILS=30000 go test ./web -run '^$' -bench HeavyPages -benchtime 300x -timeout 60m
//
// Each page is served through the site's handler, signed in, and each
// request's server time is kept to report p50 and p99. Without
// PREAU_BENCH_PUPILS the département is small (2,000 pupils) so that a
// quick -bench run stays quick; TestHeavyPages keeps the pages answering.

// heavyPage is one request of the benchmark and what its answer holds.
type heavyPage struct {
	name   string
	cookie *http.Cookie
	path   string
	want   []string // in the body
}

// heavySite scales the demo on d and returns the site's handler and the
// benchmark's pages.
func heavySite(tb testing.TB, d *db.DB, opt demo.ScaleOptions) (http.Handler, []heavyPage, demo.ScaleResult) {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	srv, a := newServer(tb, d, Config{}, log)
	opt.Now = time.Now() // the pages show today's term
	res, err := demo.Scale(ctx, d, a.Hasher, opt)
	if err != nil {
		tb.Fatal(err)
	}
	session := func(login string) *http.Cookie {
		var id int64
		if err := d.QueryRow(ctx, `SELECT id FROM users WHERE login = ?`, login).Scan(&id); err != nil {
			tb.Fatalf("%s: %v", login, err)
		}
		tok, err := a.Sessions.Create(ctx, d, id, "bench", "192.0.2.10")
		if err != nil {
			tb.Fatal(err)
		}
		return &http.Cookie{Name: cookiePlain, Value: tok}
	}
	name := func(id int64) string {
		var first string
		if err := d.QueryRow(ctx, `SELECT first_name FROM users WHERE id = ?`, id).Scan(&first); err != nil {
			tb.Fatal(err)
		}
		return first
	}
	var evalTitle, className string
	if err := d.QueryRow(ctx, `SELECT c.name, MIN(e.title) FROM classes c JOIN grade_evaluations e ON e.class_id = c.id
		WHERE c.id = ? AND e.subject_id = ? GROUP BY c.name`, res.ClassID, res.SubjectID).Scan(&className, &evalTitle); err != nil {
		tb.Fatal(err)
	}
	parent, teacher := session(res.Parent), session(res.Teacher)
	table := fmt.Sprintf("/notes/classes/%d/matieres/%d", res.ClassID, res.SubjectID)
	api := fmt.Sprintf("/api/v1/grades/classes/%d/subjects/%d/evaluations", res.ClassID, res.SubjectID)
	pages := []heavyPage{
		{"parent-home", parent, "/accueil", []string{"Vous consultez", name(res.Children[0]), name(res.Children[1])}},
		{"parent-child-grades", parent, fmt.Sprintf("/notes/eleves/%d", res.Children[1]), []string{name(res.Children[1]), "Moyenne"}},
		{"teacher-class-table", teacher, table, []string{className, evalTitle}},
		{"teacher-class-table-api", teacher, api, []string{`"evaluations":[{`, `"averages":[{`}},
	}
	return srv.Handler(), pages, res
}

// TestHeavyPages runs the benchmark's set-up on a small département and
// checks that each of its pages answers 200 with what it should show, so
// that the benchmark cannot rot.
func TestHeavyPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h, pages, res := heavySite(t, d, demo.ScaleOptions{Pupils: 800, Colleges: 3})
		if res.Pupils < 600 || res.Grades == 0 {
			t.Fatalf("scaled: %+v", res)
		}
		for _, p := range pages {
			w := serve(h, "GET", p.path, "", withCookie(p.cookie))
			if w.Code != http.StatusOK {
				t.Fatalf("%s %s: %d %s", p.name, p.path, w.Code, w.Body.String())
			}
			for _, s := range p.want {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("%s %s: no %q in the answer", p.name, p.path, s)
				}
			}
		}
		// The table's API: six evaluations of the term so far, one average
		// per pupil of the class.
		w := serve(h, "GET", pages[3].path, "", withCookie(pages[3].cookie))
		var body struct {
			Evaluations []json.RawMessage `json:"evaluations"`
			Averages    []json.RawMessage `json:"averages"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		var pupils int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM enrolments WHERE class_id = ?`, res.ClassID).Scan(&pupils); err != nil {
			t.Fatal(err)
		}
		if len(body.Evaluations) == 0 || len(body.Evaluations) > 6 || len(body.Averages) != pupils {
			t.Errorf("API: %d evaluations, %d averages for %d pupils", len(body.Evaluations), len(body.Averages), pupils)
		}
	})
}

// BenchmarkHeavyPages reports each page's server time per request at p50
// and p99 (in ms) on SQLite and PostgreSQL.
func BenchmarkHeavyPages(b *testing.B) {
	pupils := 2000
	if v := os.Getenv("PREAU_BENCH_PUPILS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 {
			b.Fatalf("PREAU_BENCH_PUPILS=%q: want a number of pupils, at least 200", v)
		}
		pupils = n
	}
	for _, engine := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			d := engine.open(b)
			start := time.Now()
			h, pages, res := heavySite(b, d, demo.ScaleOptions{Pupils: pupils})
			b.Logf("%s: %d collèges, %d classes, %d pupils, %d parents, %d teachers, %d evaluations, %d grades, "+
				"%d slots, %d homework, %d absences, %d notices; generated in %s (set-up %s)", engine.name,
				res.Colleges, res.Classes, res.Pupils, res.Parents, res.Teachers, res.Evaluations, res.Grades,
				res.Slots, res.Homework, res.Absences, res.Notices, res.Took.Round(time.Second), time.Since(start).Round(time.Second))
			for _, p := range pages {
				b.Run(p.name, func(b *testing.B) {
					// One request first: caches warm as on a live server.
					if w := serve(h, "GET", p.path, "", withCookie(p.cookie)); w.Code != http.StatusOK {
						b.Fatalf("%s: %d", p.path, w.Code)
					}
					times := make([]time.Duration, 0, b.N)
					for b.Loop() {
						t0 := time.Now()
						w := serve(h, "GET", p.path, "", withCookie(p.cookie))
						times = append(times, time.Since(t0))
						if w.Code != http.StatusOK {
							b.Fatalf("%s: %d", p.path, w.Code)
						}
					}
					slices.Sort(times)
					at := func(q int) float64 {
						return float64(times[min(len(times)-1, len(times)*q/100)].Microseconds()) / 1000
					}
					b.ReportMetric(at(50), "p50-ms")
					b.ReportMetric(at(99), "p99-ms")
				})
			}
		})
	}
}
