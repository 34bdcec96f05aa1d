package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestLoadtestChat: a short run of `preau loadtest chat` against an
// in-process `preau serve --demo` loses and duplicates nothing. Figures are
// not asserted: tests never judge wall-clock speed.
func TestLoadtestChat(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, "--demo", "--data", dir)
	cfg, err := parseLoadtest([]string{"--url", base, "--data", dir, "--conversations", "2", "--members", "4",
		"--connections", "12", "--rate", "10", "--duration", "3s"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := loadtestChat(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	if sum.Deliveries == 0 || sum.Acked == 0 || sum.Lost != 0 || sum.Duplicated != 0 || sum.Errors != 0 {
		t.Fatalf("deliveries %d, acked %d, lost %d, duplicated %d, errors %d",
			sum.Deliveries, sum.Acked, sum.Lost, sum.Duplicated, sum.Errors)
	}
	// 12 connections over 2 conversations: every ack reaches 6 connections.
	if sum.Deliveries != sum.Acked*6 {
		t.Errorf("deliveries %d, want 6 × %d acked", sum.Deliveries, sum.Acked)
	}
}

// TestLoadtestFlags: only this machine may be loaded, and the limits hold.
func TestLoadtestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.org:8080"},
		{"--url", "http://10.0.0.1:8080"},
		{"--duration", "1h"},
		{"--connections", "1000000"},
		{"--rate", "-1"},
	} {
		if _, err := parseLoadtest(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080"} {
		if _, err := parseLoadtest([]string{"--url", u}); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}
