package main

// `preau loadtest chat`: flags, the set-up of load conversations by the
// server (POST /api/v1/chat/loadtest), the server's /metrics, and the summary. The connections themselves are in
// loadtest_chat.go; docs/benchmarks.md has the figures and commands.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Bounds, so that a typo cannot start an unbounded run.
const (
	maxLoadConnections = 50_000
	maxLoadDuration    = 10 * time.Minute
	maxLoadRate        = 100_000
	maxLoadUsers       = 20_000 // synthetic accounts of one set-up (web/loadtest_chat.go)
	maxConnsPerUser    = 5      // chat.Config.MaxConnsPerUser's default
	sendsPerUserPerSec = 1.8    // under the hub's default 20 sends / 10 s per user, when the server does not say
)

type loadConfig struct {
	URL string // the first node: the set-up and clean-up go there
	// URLs are every node given to --url (comma-separated): connections
	// are spread over them in turn, so that a conversation's members sit
	// on every node and its messages cross between them.
	URLs          []string
	Login         string // the demo administrator
	Password      string
	Data          string // deprecated, ignored: the server sets the run up (POST /api/v1/chat/loadtest)
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
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "the server, or the nodes of one cluster separated by commas (127.0.0.1, ::1 or localhost only)")
	fs.StringVar(&c.Login, "login", "admin.demo", "the demo administrator's login")
	fs.StringVar(&c.Password, "password", "preau-demo-2026", "its password")
	fs.StringVar(&c.Data, "data", "", "deprecated and ignored: the server creates the load conversations itself")
	fs.IntVar(&c.Connections, "connections", 0, "WebSocket connections (0: one per member)")
	fs.IntVar(&c.Conversations, "conversations", 1, "conversations")
	fs.IntVar(&c.Members, "members", 20, "synthetic accounts per conversation (all distinct; at most 20,000 in all)")
	fs.Float64Var(&c.Rate, "rate", 10, "messages per second, all senders together (0: idle connections)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "how long to wait for deliveries after the last send")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: preau loadtest chat [flags]\n\nLoads /ws/chat of a local `preau serve --demo` with synthetic accounts made by the server.\n\n")
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
	case c.Members < 1 || c.Conversations*c.Members > maxLoadUsers:
		return c, fmt.Errorf("loadtest: --members: at least 1, and conversations × members ≤ %d", maxLoadUsers)
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
	if users := c.Conversations * c.Members; c.Connections > users*maxConnsPerUser {
		return c, fmt.Errorf("loadtest: %d connections need more than %d per account (%d accounts): raise --members or lower --connections",
			c.Connections, maxConnsPerUser, users)
	}
	urls, err := nodeURLs(c.URL)
	if err != nil {
		return c, err
	}
	c.URL, c.URLs = urls[0], urls
	return c, nil
}

// nodeURLs splits --url into its nodes (comma-separated), each on this
// machine only, at most 16.
func nodeURLs(raw string) ([]string, error) {
	var out []string
	for u := range strings.SplitSeq(raw, ",") {
		u = strings.TrimSuffix(strings.TrimSpace(u), "/")
		if err := localOnly(u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if len(out) > 16 {
		return nil, errors.New("loadtest: --url: at most 16 nodes")
	}
	return out, nil
}

// localOnly refuses any target but this machine: the tool opens thousands of
// connections.
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
	// With several nodes: how many, and the p50 latency of the deliveries
	// whose sender was on the receiver's node and of those that crossed
	// to another node (the cross-node hop is their difference).
	Nodes           int     `json:"nodes"`
	LatencyLocalP50 float64 `json:"latency_same_node_p50_ms,omitempty"`
	LatencyCrossP50 float64 `json:"latency_cross_node_p50_ms,omitempty"`
	Lost            int64   `json:"lost"`       // acked, not received by a member connection
	Duplicated      int64   `json:"duplicated"` // the same (conversation, seq) twice on one connection
	Errors          int64   `json:"errors"`     // error frames and connections closed by the server
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
	if s.Nodes > 1 {
		fmt.Fprintf(w, "%d nodes: latency p50 %.2f ms from a sender on the same node, %.2f ms from another node\n",
			s.Nodes, s.LatencyLocalP50, s.LatencyCrossP50)
	}
	fmt.Fprintf(w, "lost %d, duplicated %d, errors %d\n", s.Lost, s.Duplicated, s.Errors)
	fmt.Fprintf(w, "server: %.1f µs CPU per delivery; per connection %.1f KB RSS, %.1f KB Go heap+stacks; RSS %.1f MB\n",
		s.ServerCPUUsPerDelivery, s.ServerKBPerConnection, s.ServerHeapKBPerConnection, s.ServerRSSMB)
}

// loadUser is a synthetic account the tool connects as.
type loadUser struct {
	id int64
}

// loadPlan is who connects where. Every connection carries the
// administrator's session (cookie) and names its synthetic user in header.
type loadPlan struct {
	run    string // the set-up, deleted at the end
	cookie string
	header string
	// perUser is how many messages a second one account may send: 90 %
	// of the server's limit.
	perUser float64
	convs   []int64
	users   []loadUser
	conns   []loadSlot
}

type loadSlot struct {
	conv int64
	user int // index in users
}

// chatSetup is the answer of POST /api/v1/chat/loadtest.
type chatSetup struct {
	Run           string `json:"run"`
	Conversations []struct {
		ID    int64   `json:"id"`
		Users []int64 `json:"users"`
	} `json:"conversations"`
	Header      string  `json:"header"`
	SendLimit   int     `json:"send_limit"`
	SendWindowS float64 `json:"send_window_s"`
}

// setupChat signs the demo administrator in and has the server create the
// load conversations and their synthetic members (POST /api/v1/chat/loadtest,
// a demo server only). It needs nothing but the server's URL: one login, so
// the login throttle (20 attempts a minute per address) is no concern.
func setupChat(ctx context.Context, cfg loadConfig) (loadPlan, error) {
	var p loadPlan
	base := strings.TrimSuffix(cfg.URL, "/")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
	body, _ := json.Marshal(map[string]string{"login": cfg.Login, "password": cfg.Password})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return p, fmt.Errorf("loadtest: login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return p, fmt.Errorf("loadtest: login as %s: HTTP %d (is the server started with --demo?)", cfg.Login, resp.StatusCode)
	}
	u, _ := url.Parse(base)
	var cookies []string
	for _, ck := range jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	p.cookie = strings.Join(cookies, "; ")

	// The set-up lives until the run is over, with a margin for dialling.
	ttl := cfg.Duration + cfg.Drain + 5*time.Minute
	body, _ = json.Marshal(map[string]int{"conversations": cfg.Conversations, "members": cfg.Members,
		"ttl": int(min(ttl, 20*time.Minute).Seconds())})
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/chat/loadtest", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.Do(req)
	if err != nil {
		return p, fmt.Errorf("loadtest: set-up: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
	case http.StatusNotFound:
		return p, fmt.Errorf("loadtest: set-up: 404: the server must run with --demo and %s be its administrator", cfg.Login)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return p, fmt.Errorf("loadtest: set-up: HTTP %d %s", resp.StatusCode, b)
	}
	var set chatSetup
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return p, fmt.Errorf("loadtest: set-up: %w", err)
	}
	if len(set.Conversations) != cfg.Conversations || set.Header == "" || set.Run == "" {
		return p, errors.New("loadtest: set-up: unexpected answer")
	}
	p.run, p.header, p.perUser = set.Run, set.Header, sendsPerUserPerSec
	if set.SendLimit > 0 && set.SendWindowS > 0 {
		p.perUser = 0.9 * float64(set.SendLimit) / set.SendWindowS
	}

	// Connection k goes to conversation k mod C as its member (k / C) mod M.
	C, M := cfg.Conversations, cfg.Members
	for i, sc := range set.Conversations {
		if len(sc.Users) != M {
			return p, fmt.Errorf("loadtest: set-up: conversation %d has %d members, want %d", i, len(sc.Users), M)
		}
		p.convs = append(p.convs, sc.ID)
	}
	index := map[int64]int{} // user id → users index
	for k := range cfg.Connections {
		i, j := k%C, (k/C)%M
		id := set.Conversations[i].Users[j]
		n, ok := index[id]
		if !ok {
			n = len(p.users)
			index[id] = n
			p.users = append(p.users, loadUser{id: id})
		}
		p.conns = append(p.conns, loadSlot{conv: p.convs[i], user: n})
	}
	return p, nil
}

// endChat deletes the set-up (conversations, messages, synthetic accounts);
// the server also sweeps it once its ttl has passed.
func endChat(ctx context.Context, cfg loadConfig, p loadPlan) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete,
		strings.TrimSuffix(cfg.URL, "/")+"/api/v1/chat/loadtest/"+url.PathEscape(p.run), nil)
	req.Header.Set("Cookie", p.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: clean-up: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("loadtest: clean-up: HTTP %d", resp.StatusCode)
	}
	return nil
}

// serverMetrics are the process collector's figures.
type serverMetrics struct {
	ok         bool
	cpuS       float64
	rssBytes   float64
	heapStacks float64 // go_memstats_heap_inuse_bytes + go_memstats_stack_inuse_bytes
}

// scrapeNodes sums the figures of every node; ok only when each had them.
func scrapeNodes(ctx context.Context, bases []string) serverMetrics {
	sum := serverMetrics{ok: true}
	for _, b := range bases {
		m := scrapeMetrics(ctx, b)
		sum.ok = sum.ok && m.ok
		sum.cpuS += m.cpuS
		sum.rssBytes += m.rssBytes
		sum.heapStacks += m.heapStacks
	}
	return sum
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
