package main

// `preau loadtest chat`: flags, the local set-up of load conversations, the
// server's /metrics, and the summary. The connections themselves are in
// loadtest_chat.go; docs/benchmarks.md has the figures and commands.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"preau/auth"
	"preau/chat"
	"preau/db"
	"preau/demo"
)

// Bounds, so that a typo cannot start an unbounded run.
const (
	maxLoadConnections = 50_000
	maxLoadDuration    = 10 * time.Minute
	maxLoadRate        = 100_000
	maxConnsPerUser    = 5   // chat.Config.MaxConnsPerUser's default
	sendsPerUserPerSec = 1.8 // under the hub's 20 sends / 10 s per user
)

type loadConfig struct {
	URL           string
	Data          string // the server's data directory: local set-up mode
	Connections   int    // 0: one per member
	Conversations int
	Members       int // per conversation
	Rate          float64
	Duration      time.Duration
	Drain         time.Duration // how long to wait for the last deliveries
	JSON          bool
}

func parseLoadtest(args []string) (loadConfig, error) {
	c := loadConfig{}
	fs := flag.NewFlagSet("loadtest chat", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "the server (127.0.0.1, ::1 or localhost only)")
	fs.StringVar(&c.Data, "data", "", "the server's data directory: create the load conversations and sessions there (local only, SQLite)")
	fs.IntVar(&c.Connections, "connections", 0, "WebSocket connections (0: one per member)")
	fs.IntVar(&c.Conversations, "conversations", 1, "conversations")
	fs.IntVar(&c.Members, "members", 20, "demo accounts per conversation")
	fs.Float64Var(&c.Rate, "rate", 10, "messages per second, all senders together (0: idle connections)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "how long to wait for deliveries after the last send")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: preau loadtest chat [flags]\n\nLoads /ws/chat of a local `preau serve --demo` with the demo accounts.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("loadtest: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.Conversations < 1 || c.Conversations > 1000:
		return c, errors.New("loadtest: --conversations: 1 to 1000")
	case c.Members < 1:
		return c, errors.New("loadtest: --members: at least 1")
	case c.Connections < 0 || c.Connections > maxLoadConnections:
		return c, fmt.Errorf("loadtest: --connections: 0 to %d", maxLoadConnections)
	case c.Rate < 0 || c.Rate > maxLoadRate:
		return c, fmt.Errorf("loadtest: --rate: 0 to %d", maxLoadRate)
	case c.Duration <= 0 || c.Duration > maxLoadDuration:
		return c, fmt.Errorf("loadtest: --duration: up to %s", maxLoadDuration)
	case c.Drain < 0 || c.Drain > time.Minute:
		return c, errors.New("loadtest: --drain: up to 1m")
	}
	if c.Connections == 0 {
		c.Connections = c.Conversations * c.Members
	}
	if err := localOnly(c.URL); err != nil {
		return c, err
	}
	return c, nil
}

// localOnly refuses any target but this machine: the tool opens thousands of
// connections and, in --data mode, writes to the server's database.
func localOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("loadtest: --url %q: want http://127.0.0.1:PORT", raw)
	}
	switch h := u.Hostname(); h {
	case "localhost":
		return nil
	default:
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("loadtest: --url %q: only 127.0.0.1, ::1 or localhost may be loaded", raw)
}

func runLoadtest(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "sfu" {
		return runLoadtestSFU(ctx, args[1:], os.Stdout, os.Stderr) // loadtest_sfu.go
	}
	if len(args) > 0 && args[0] == "files" {
		return runLoadtestFiles(ctx, args[1:], os.Stdout, os.Stderr) // loadtest_files.go
	}
	if len(args) == 0 || args[0] != "chat" {
		return errors.New("loadtest: usage: preau loadtest chat|sfu|files [flags]")
	}
	cfg, err := parseLoadtest(args[1:])
	if err != nil {
		return err
	}
	sum, err := loadtestChat(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	return writeSummary(os.Stdout, cfg.JSON, sum)
}

// summary is what a load tool prints at the end of a run.
type summary interface{ print(io.Writer) }

// writeSummary prints s for people, or as indented JSON (whose field names
// are a stable contract) when asJSON is set.
func writeSummary(w io.Writer, asJSON bool, s summary) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	s.print(w)
	return nil
}

// loadSummary is what a run measured; the JSON names are stable.
type loadSummary struct {
	Connections    int     `json:"connections"`
	Conversations  int     `json:"conversations"`
	Members        int     `json:"members"`
	Users          int     `json:"users"`
	Senders        int     `json:"senders"`
	Rate           float64 `json:"rate"`
	RateCapped     bool    `json:"rate_capped"` // --rate was above what the per-user send limit allows
	SendSeconds    float64 `json:"send_s"`
	Sent           int64   `json:"sent"`
	Acked          int64   `json:"acked"`
	Deliveries     int64   `json:"deliveries"`
	DeliveriesPerS float64 `json:"deliveries_per_s"`
	LatencyP50     float64 `json:"latency_p50_ms"`
	LatencyP99     float64 `json:"latency_p99_ms"`
	LatencyP999    float64 `json:"latency_p999_ms"`
	Lost           int64   `json:"lost"`       // acked, not received by a member connection
	Duplicated     int64   `json:"duplicated"` // the same (conversation, seq) twice on one connection
	Errors         int64   `json:"errors"`     // error frames and connections closed by the server
	// From the server's /metrics (process collector): 0 when it has none.
	ServerCPUUsPerDelivery float64 `json:"server_cpu_us_per_delivery"`
	ServerKBPerConnection  float64 `json:"server_kb_per_connection"`
	ServerRSSMB            float64 `json:"server_rss_mb"`
	// Go heap and stacks in use, per connection: steadier than the RSS,
	// which a warm server does not give back between runs.
	ServerHeapKBPerConnection float64 `json:"server_heap_stack_kb_per_connection"`
}

func (s loadSummary) print(w io.Writer) {
	capped := ""
	if s.RateCapped {
		capped = " (capped by the per-user send limit)"
	}
	fmt.Fprintf(w, "connections %d over %d users, %d conversations × %d members, %d senders at %.0f msg/s%s\n",
		s.Connections, s.Users, s.Conversations, s.Members, s.Senders, s.Rate, capped)
	fmt.Fprintf(w, "sent %d, acked %d in %.1f s; deliveries %d (%.0f/s)\n", s.Sent, s.Acked, s.SendSeconds, s.Deliveries, s.DeliveriesPerS)
	fmt.Fprintf(w, "latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n", s.LatencyP50, s.LatencyP99, s.LatencyP999)
	fmt.Fprintf(w, "lost %d, duplicated %d, errors %d\n", s.Lost, s.Duplicated, s.Errors)
	fmt.Fprintf(w, "server: %.1f µs CPU per delivery; per connection %.1f KB RSS, %.1f KB Go heap+stacks; RSS %.1f MB\n",
		s.ServerCPUUsPerDelivery, s.ServerKBPerConnection, s.ServerHeapKBPerConnection, s.ServerRSSMB)
}

// loadUser is a demo account the tool connects as.
type loadUser struct {
	id     int64
	cookie string // "preau_session=…"
}

// loadPlan is who connects where.
type loadPlan struct {
	convs []int64
	users []loadUser
	conns []loadSlot
}

type loadSlot struct {
	conv int64
	user int // index in users
}

// setupLocal creates the load conversations in the server's own SQLite
// database and a session for each account used. It is a local-only mode:
// there is no HTTP API to create conversations yet, and logging a hundred
// accounts in over HTTP hits the login throttle (20 attempts a minute per
// address).
func setupLocal(ctx context.Context, cfg loadConfig) (loadPlan, error) {
	var p loadPlan
	if cfg.Data == "" {
		return p, errors.New("loadtest: --data DIR is needed: the server has no API to create conversations yet, " +
			"so the tool creates them in the server's data directory (run it on the server's machine)")
	}
	d, err := db.Open(ctx, db.Config{DataDir: cfg.Data})
	if err != nil {
		return p, err
	}
	defer d.Close()
	var structure int64
	if err := d.QueryRow(ctx, "SELECT id FROM structures WHERE uai = ?", demo.College.UAI).Scan(&structure); err != nil {
		return p, fmt.Errorf("loadtest: the demo collège is not in %s (start the server with --demo): %w", cfg.Data, err)
	}
	rows, err := d.Query(ctx, "SELECT id FROM users WHERE password_hash IS NOT NULL AND NOT disabled ORDER BY id")
	if err != nil {
		return p, fmt.Errorf("loadtest: users: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return p, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, err
	}
	if cfg.Members > len(ids) {
		return p, fmt.Errorf("loadtest: --members %d: the demo has %d accounts", cfg.Members, len(ids))
	}

	// Conversation i has the members ids[(i*M + j) mod U]; connection k goes
	// to conversation k mod C as its member (k / C) mod M.
	store := chat.NewStore(d)
	M, C := cfg.Members, cfg.Conversations
	member := func(i, j int) int { return (i*M + j) % len(ids) }
	stamp := time.Now().Format("15:04:05")
	for i := range C {
		c, err := store.CreateConversation(ctx, chat.Conversation{Kind: chat.KindGroup, StructureID: structure,
			Title: fmt.Sprintf("Test de charge %s n°%d", stamp, i+1)})
		if err != nil {
			return p, err
		}
		for j := range M {
			if err := store.AddMember(ctx, c.ID, ids[member(i, j)], chat.RoleMember); err != nil {
				return p, err
			}
		}
		p.convs = append(p.convs, c.ID)
	}
	index := map[int]int{} // ids index → users index
	perUser := map[int]int{}
	sessions := auth.NewSessions(d)
	for k := range cfg.Connections {
		i, j := k%C, (k/C)%M
		u := member(i, j)
		if perUser[u]++; perUser[u] > maxConnsPerUser {
			return p, fmt.Errorf("loadtest: %d connections need more than %d per account: raise --members or lower --connections",
				cfg.Connections, maxConnsPerUser)
		}
		n, ok := index[u]
		if !ok {
			token, err := sessions.Create(ctx, d, ids[u], "preau loadtest", "127.0.0.1")
			if err != nil {
				return p, err
			}
			n = len(p.users)
			index[u] = n
			p.users = append(p.users, loadUser{id: ids[u], cookie: "preau_session=" + token})
		}
		p.conns = append(p.conns, loadSlot{conv: p.convs[i], user: n})
	}
	return p, nil
}

// serverMetrics are the process collector's figures.
type serverMetrics struct {
	ok         bool
	cpuS       float64
	rssBytes   float64
	heapStacks float64 // go_memstats_heap_inuse_bytes + go_memstats_stack_inuse_bytes
}

func scrapeMetrics(ctx context.Context, base string) serverMetrics {
	var m serverMetrics
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/metrics", nil)
	if err != nil {
		return m
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m
	}
	var cpu, rss bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			m.cpuS, cpu = f, true
		case "process_resident_memory_bytes":
			m.rssBytes, rss = f, true
		case "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes":
			m.heapStacks += f
		}
	}
	m.ok = cpu && rss
	return m
}
