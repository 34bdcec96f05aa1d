package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLoadtestSFU: a short run of `preau loadtest sfu` against an in-process
// `preau serve --demo`: 1 room × 5 subscribers, every one gets video, and
// the JSON summary is sane. Figures are not asserted: tests never judge
// wall-clock speed.
func TestLoadtestSFU(t *testing.T) {
	base, _ := startServe(t, "--demo", "--data", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, logs bytes.Buffer
	err := runLoadtestSFU(ctx, []string{"--url", base, "--rooms", "1", "--subscribers", "5", "--kbps", "300",
		"--duration", "3s", "--join-within", "1s", "--json"}, &out, &logs)
	t.Logf("log:\n%s", logs.String())
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %s: %v", out.String(), err)
	}
	t.Logf("%s", out.String())
	for _, k := range []string{"subscribers", "subscribers_with_video", "first_frame_p50_ms", "first_frame_p99_ms",
		"forwarded_packets", "loss_pct", "server_cpu_us_per_packet", "server_mem_mb_per_subscriber"} {
		if _, ok := sum[k].(float64); !ok {
			t.Errorf("summary has no number %q", k)
		}
	}
	if sum["subscribers"] != 5.0 || sum["subscribers_with_video"] != 5.0 || sum["publishers_sending"] != 1.0 {
		t.Fatalf("subscribers %v, with video %v, publishers %v", sum["subscribers"], sum["subscribers_with_video"], sum["publishers_sending"])
	}
	p50, p99 := sum["first_frame_p50_ms"].(float64), sum["first_frame_p99_ms"].(float64)
	if p50 <= 0 || p99 < p50 {
		t.Errorf("first frame p50 %v, p99 %v", p50, p99)
	}
	if sum["forwarded_packets"].(float64) <= 0 || sum["server_cpu_us_per_packet"].(float64) <= 0 {
		t.Errorf("forwarded %v, CPU per packet %v", sum["forwarded_packets"], sum["server_cpu_us_per_packet"])
	}
	if l := sum["loss_pct"].(float64); l < 0 || l > 100 {
		t.Errorf("loss %v %%", l)
	}
}

// TestLoadtestSFUSimulcast: the publisher sends three VP8 layers, four
// subscribers ask for low, medium, high and low (mixed): all get video and
// the summary reports, per layer, who received it.
func TestLoadtestSFUSimulcast(t *testing.T) {
	base, _ := startServe(t, "--demo", "--data", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, logs bytes.Buffer
	err := runLoadtestSFU(ctx, []string{"--url", base, "--rooms", "1", "--subscribers", "4", "--kbps", "600",
		"--simulcast", "--layer", "mixed", "--duration", "3s", "--join-within", "1s", "--json"}, &out, &logs)
	t.Logf("log:\n%s", logs.String())
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Subscribers     int            `json:"subscribers"`
		WithVideo       int            `json:"subscribers_with_video"`
		Negotiated      bool           `json:"simulcast_negotiated"`
		Layers          map[string]int `json:"layers"`
		LayersRequested map[string]int `json:"layers_requested"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %s: %v", out.String(), err)
	}
	t.Logf("%s", out.String())
	if sum.Subscribers != 4 || sum.WithVideo != 4 || !sum.Negotiated {
		t.Fatalf("subscribers %d, with video %d, simulcast negotiated %v", sum.Subscribers, sum.WithVideo, sum.Negotiated)
	}
	want := map[string]int{"low": 2, "medium": 1, "high": 1}
	for q, n := range want {
		if sum.LayersRequested[q] != n {
			t.Errorf("layers requested %v, want %v", sum.LayersRequested, want)
			break
		}
	}
	// Loopback under -race may lose a keyframe and a subscriber may still
	// be on its way down: the layers received are logged, and every
	// subscriber received one of them.
	if got := sum.Layers["low"] + sum.Layers["medium"] + sum.Layers["high"]; got != 4 {
		t.Errorf("layers received %v: %d subscribers, want 4", sum.Layers, got)
	}
}

// TestLoadtestSFUSetup: the set-up route is for the administrator of a demo
// server only; the synthetic users' header works for nobody else.
func TestLoadtestSFUSetup(t *testing.T) {
	demoBase, _ := startServe(t, "--demo", "--data", t.TempDir())
	post := func(c *http.Client, base, body string) int {
		t.Helper()
		resp, err := c.Post(base+"/api/v1/live/loadtest", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(demoClient(t, demoBase, "prof.demo"), demoBase, `{"rooms":1,"subscribers":1}`); code != http.StatusNotFound {
		t.Errorf("teacher: %d, want 404", code)
	}
	admin := demoClient(t, demoBase, "admin.demo")
	for _, bad := range []string{`{"rooms":0,"subscribers":1}`, `{"rooms":1,"subscribers":100000}`, `{"rooms":1,"subscribers":1,"ttl":3600}`} {
		if code := post(admin, demoBase, bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code := post(admin, demoBase, `{"rooms":1,"subscribers":2,"ttl":10}`); code != http.StatusCreated {
		t.Errorf("admin: %d, want 201", code)
	}

	// A server without --demo: 404 even for its administrator. The demo
	// accounts exist in this data directory, seeded by a first demo start.
	dir := t.TempDir()
	seedDemo(t, dir)
	base, _ := startServe(t, "--data", dir)
	if code := post(demoClient(t, base, "admin.demo"), base, `{"rooms":1,"subscribers":1}`); code != http.StatusNotFound {
		t.Errorf("admin without --demo: %d, want 404", code)
	}
}

// seedDemo starts and stops a demo server on dir, leaving its accounts.
func seedDemo(t *testing.T, dir string) {
	t.Helper()
	cfg, err := parseServe([]string{"--addr", "127.0.0.1:0", "--log-level", "warn", "--demo", "--data", dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, io.Discard, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestLoadtestSFUFlags: only this machine unless --allow-remote, and the
// limits hold.
func TestLoadtestSFUFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.org:8080"},
		{"--rooms", "0"},
		{"--subscribers", "100000"},
		{"--rooms", "100", "--subscribers", "100"},
		{"--duration", "1h"},
		{"--kbps", "0"},
		{"--join-within", "-1s"},
		{"--layer", "ultra"},
		{"--url", "http://127.0.0.1:8081,http://example.org:8080"},
		{"--url", "http://127.0.0.1:8081,http://127.0.0.1:8082", "--rooms", "1"}, // a node without a room
	} {
		if _, err := parseLoadtestSFU(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := parseLoadtestSFU([]string{"--url", "http://example.org:8080", "--allow-remote"}); err != nil {
		t.Errorf("--allow-remote: %v", err)
	}
	c, err := parseLoadtestSFU([]string{"--url", "http://127.0.0.1:8081/,http://127.0.0.1:8082", "--rooms", "2"})
	if err != nil || c.URL != "http://127.0.0.1:8081" || len(c.URLs) != 2 || c.URLs[1] != "http://127.0.0.1:8082" {
		t.Errorf("two nodes: %+v, %v", c, err)
	}
}
