package main

// `preau loadtest sfu`: flags, the set-up over the demo administrator's
// session, the server's /metrics and the summary. The synthetic peers are
// in loadtest_sfu_peer.go; docs/benchmarks.md has the figures and commands.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of the SFU load, so that a typo cannot start an unbounded run (the
// server bounds its set-up too: 2,000 peers, 10 min).
const (
	maxSFURooms       = 100
	maxSFUSubscribers = 500
	maxSFUPeers       = 2000
	maxSFUDuration    = 5 * time.Minute
	maxSFUJoinWithin  = 2 * time.Minute
)

type sfuLoadConfig struct {
	URL string // the first node
	// URLs are every node given to --url (comma-separated): rooms are set
	// up on each in turn, and their peers go straight to the room's node.
	URLs          []string
	Login         string
	Password      string
	Rooms         int
	Subscribers   int // per room
	Kbps          int // video bit rate of each publisher
	Simulcast     bool
	Layer         string        // low, medium, high or mixed: what subscribers ask of a simulcast camera
	Duration      time.Duration // the steady window
	JoinWithin    time.Duration // subscribers' joins are spread over it
	FirstFrameMax time.Duration // how long a subscriber may wait for its first frame
	AllowRemote   bool
	JSON          bool
}

func parseLoadtestSFU(args []string) (sfuLoadConfig, error) {
	var c sfuLoadConfig
	fs := flag.NewFlagSet("loadtest sfu", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "the server, started with --demo, or the nodes of one cluster separated by commas (loopback only unless --allow-remote)")
	fs.StringVar(&c.Login, "login", "admin.demo", "the demo administrator's login")
	fs.StringVar(&c.Password, "password", "preau-demo-2026", "its password")
	fs.IntVar(&c.Rooms, "rooms", 1, "rooms, each with one publisher (VP8 + Opus)")
	fs.IntVar(&c.Subscribers, "subscribers", 10, "subscribers per room")
	fs.IntVar(&c.Kbps, "kbps", 1500, "video bit rate of each publisher, kbit/s")
	fs.BoolVar(&c.Simulcast, "simulcast", false, "publish the camera in three VP8 layers (RIDs q, h, f: 1/16, 4/16, 11/16 of --kbps)")
	fs.StringVar(&c.Layer, "layer", "high", "with --simulcast, the layer subscribers ask for: low, medium, high or mixed (spread across subscribers)")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "steady window over which the server's CPU per packet is measured")
	fs.DurationVar(&c.JoinWithin, "join-within", 5*time.Second, "spread of the subscribers' joins (0: all at once)")
	fs.DurationVar(&c.FirstFrameMax, "first-frame-timeout", 15*time.Second, "after the last join, how long to wait for every first frame")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a --url that is not this machine")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: preau loadtest sfu [flags]\n\nDrives synthetic VP8/Opus publishers and subscribers (pion) against /live/ws of a\n`preau serve --demo`, and reports first-frame times, loss and the server's CPU and memory.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("loadtest sfu: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.Rooms < 1 || c.Rooms > maxSFURooms:
		return c, fmt.Errorf("loadtest sfu: --rooms: 1 to %d", maxSFURooms)
	case c.Subscribers < 1 || c.Subscribers > maxSFUSubscribers:
		return c, fmt.Errorf("loadtest sfu: --subscribers: 1 to %d", maxSFUSubscribers)
	case c.Rooms*(c.Subscribers+1) > maxSFUPeers:
		return c, fmt.Errorf("loadtest sfu: at most %d peers in all", maxSFUPeers)
	case c.Kbps < 50 || c.Kbps > 20_000:
		return c, errors.New("loadtest sfu: --kbps: 50 to 20000")
	case c.Duration <= 0 || c.Duration > maxSFUDuration:
		return c, fmt.Errorf("loadtest sfu: --duration: up to %s", maxSFUDuration)
	case c.JoinWithin < 0 || c.JoinWithin > maxSFUJoinWithin:
		return c, fmt.Errorf("loadtest sfu: --join-within: up to %s", maxSFUJoinWithin)
	case c.FirstFrameMax <= 0 || c.FirstFrameMax > time.Minute:
		return c, errors.New("loadtest sfu: --first-frame-timeout: up to 1m")
	case !slices.Contains([]string{"low", "medium", "high", "mixed"}, c.Layer):
		return c, fmt.Errorf("loadtest sfu: --layer %q: low, medium, high or mixed", c.Layer)
	}
	for u := range strings.SplitSeq(c.URL, ",") {
		u = strings.TrimSuffix(strings.TrimSpace(u), "/")
		if !c.AllowRemote {
			if err := localOnly(u); err != nil {
				return c, fmt.Errorf("%w (or --allow-remote)", err)
			}
		} else if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return c, fmt.Errorf("loadtest sfu: --url %q: want http(s)://HOST:PORT", u)
		}
		c.URLs = append(c.URLs, u)
	}
	if len(c.URLs) > 16 || len(c.URLs) > c.Rooms {
		return c, errors.New("loadtest sfu: --url: at most 16 nodes, and no more nodes than --rooms")
	}
	c.URL = c.URLs[0]
	return c, nil
}

// layerOf returns the quality subscriber j of a room asks for: mixed
// spreads low, medium, high in turn.
func (c sfuLoadConfig) layerOf(j int) string {
	if c.Layer == "mixed" {
		return sfuQualities[j%len(sfuQualities)]
	}
	return c.Layer
}

// sfuQualities are the simulcast qualities, lowest first (layers q, h, f).
var sfuQualities = []string{"low", "medium", "high"}

// sfuSummary is what a run measured; the JSON names are stable.
type sfuSummary struct {
	Nodes                int     `json:"nodes"`
	Rooms                int     `json:"rooms"`
	Subscribers          int     `json:"subscribers"`
	Kbps                 int     `json:"kbps"`
	SimulcastRequested   bool    `json:"simulcast_requested"`
	SimulcastNegotiated  bool    `json:"simulcast_negotiated"`
	JoinWithinS          float64 `json:"join_within_s"`
	PublishersSending    int     `json:"publishers_sending"`
	SubscribersJoined    int     `json:"subscribers_joined"`
	SubscribersWithVideo int     `json:"subscribers_with_video"`
	SubscribersWithAudio int     `json:"subscribers_with_audio"`
	// Layers: with simulcast, how many subscribers received each layer
	// (low, medium, high) at the end of the run, read from the size in
	// their last keyframe; the ones asked for are in layers_requested.
	Layers          map[string]int `json:"layers,omitempty"`
	LayersRequested map[string]int `json:"layers_requested,omitempty"`
	FirstFrameP50   float64        `json:"first_frame_p50_ms"`
	FirstFrameP99   float64        `json:"first_frame_p99_ms"`
	FirstFrameMax   float64        `json:"first_frame_max_ms"`
	// Where the first-frame time goes: join → PeerConnection connected →
	// first video packet (any) → first keyframe packet.
	ConnectedP50     float64 `json:"connected_p50_ms"`
	ConnectedP99     float64 `json:"connected_p99_ms"`
	FirstPacketP50   float64 `json:"first_packet_p50_ms"`
	FirstPacketP99   float64 `json:"first_packet_p99_ms"`
	SteadyS          float64 `json:"steady_s"`
	ForwardedPackets uint64  `json:"forwarded_packets"` // server counter over the steady window
	ForwardedPerS    float64 `json:"forwarded_packets_per_s"`
	ReceivedPackets  int64   `json:"received_packets"` // by the subscribers, whole run
	LostPackets      int64   `json:"lost_packets"`     // sequence gaps never filled
	LossPct          float64 `json:"loss_pct"`
	Errors           int     `json:"errors"` // signaling errors and failures, see the log
	// From the server's /metrics; 0 when it has none.
	ServerCPUUsPerPacket    float64 `json:"server_cpu_us_per_packet"`
	ServerCPUCores          float64 `json:"server_cpu_cores"` // CPU seconds per second over the steady window
	ServerMemMBPerSub       float64 `json:"server_mem_mb_per_subscriber"`
	ServerHeapMBPerSub      float64 `json:"server_heap_stack_mb_per_subscriber"`
	ServerRSSMB             float64 `json:"server_rss_mb"`
	ServerSlowClosed        uint64  `json:"server_slow_closed"`
	ServerParticipantsAtEnd int     `json:"server_participants"`
}

func (s sfuSummary) print(w io.Writer) {
	sim := "no"
	if s.SimulcastRequested {
		sim = "requested but NOT negotiated: one VP8 layer per publisher"
		if s.SimulcastNegotiated {
			sim = fmt.Sprintf("3 layers; asked low/medium/high %d/%d/%d, received %d/%d/%d",
				s.LayersRequested["low"], s.LayersRequested["medium"], s.LayersRequested["high"],
				s.Layers["low"], s.Layers["medium"], s.Layers["high"])
		}
	}
	nodes := ""
	if s.Nodes > 1 {
		nodes = fmt.Sprintf(" on %d nodes", s.Nodes)
	}
	fmt.Fprintf(w, "%d room(s)%s × %d subscribers, VP8 %d kbit/s + Opus, joins spread over %.1f s; simulcast: %s\n",
		s.Rooms, nodes, s.Subscribers/max(s.Rooms, 1), s.Kbps, s.JoinWithinS, sim)
	fmt.Fprintf(w, "publishers sending %d/%d; subscribers joined %d/%d, with video %d/%d, with audio %d/%d\n",
		s.PublishersSending, s.Rooms, s.SubscribersJoined, s.Subscribers, s.SubscribersWithVideo, s.Subscribers,
		s.SubscribersWithAudio, s.Subscribers)
	fmt.Fprintf(w, "first video frame after join: p50 %.0f ms, p99 %.0f ms, max %.0f ms (connected p50 %.0f / p99 %.0f ms, first video packet p50 %.0f / p99 %.0f ms)\n",
		s.FirstFrameP50, s.FirstFrameP99, s.FirstFrameMax, s.ConnectedP50, s.ConnectedP99, s.FirstPacketP50, s.FirstPacketP99)
	fmt.Fprintf(w, "steady %.1f s: server forwarded %d packets (%.0f/s); subscribers received %d, lost %d (%.3f %%); errors %d\n",
		s.SteadyS, s.ForwardedPackets, s.ForwardedPerS, s.ReceivedPackets, s.LostPackets, s.LossPct, s.Errors)
	fmt.Fprintf(w, "server: %.2f µs CPU per forwarded packet (%.2f cores); %.3f MB RSS and %.3f MB Go heap+stacks per subscriber; RSS %.0f MB; slow closed %d\n",
		s.ServerCPUUsPerPacket, s.ServerCPUCores, s.ServerMemMBPerSub, s.ServerHeapMBPerSub, s.ServerRSSMB, s.ServerSlowClosed)
}

// runLoadtestSFU is `preau loadtest sfu`.
func runLoadtestSFU(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLoadtestSFU(args)
	if err != nil {
		return err
	}
	sum, err := loadtestSFU(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	return writeSummary(stdout, cfg.JSON, sum)
}

// sfuSetup is the answer of POST /api/v1/live/loadtest.
type sfuSetup struct {
	Rooms  []sfuSetupRoom `json:"rooms"`
	Header string         `json:"header"`
}

type sfuSetupRoom struct {
	Room        string         `json:"room"`
	Publisher   sfuSetupPeer   `json:"publisher"`
	Subscribers []sfuSetupPeer `json:"subscribers"`
}

type sfuSetupPeer struct {
	User  string `json:"user"`
	Grant string `json:"grant"`
	// Cookie, when set, is a real user's session, sent instead of the
	// synthetic user's header; WS, when set, is the socket to dial instead
	// of the run's. The fault tests use them (nodes_resume_test.go).
	Cookie string `json:"-"`
	WS     string `json:"-"`
}

// sfuLogin signs the administrator in and returns a client with its session.
func sfuLogin(ctx context.Context, cfg sfuLoadConfig) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	body, _ := json.Marshal(map[string]string{"login": cfg.Login, "password": cfg.Password})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL+"/api/v1/auth/login", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadtest sfu: login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadtest sfu: login as %s: HTTP %d", cfg.Login, resp.StatusCode)
	}
	return c, nil
}

// sfuSetupNodes sets the rooms up on the nodes, as evenly as can be, and
// points each peer at its room's node. The rooms come back interleaved
// (node 1's first, node 2's first, …) so that the joins alternate.
func sfuSetupNodes(ctx context.Context, c *http.Client, cfg sfuLoadConfig) (sfuSetup, error) {
	var all sfuSetup
	byNode := make([][]sfuSetupRoom, len(cfg.URLs))
	for i, base := range cfg.URLs {
		rooms := cfg.Rooms / len(cfg.URLs)
		if i < cfg.Rooms%len(cfg.URLs) {
			rooms++
		}
		s, err := sfuSetupRooms(ctx, c, cfg, base, rooms)
		if err != nil {
			return all, fmt.Errorf("%w (node %s)", err, base)
		}
		ws := strings.Replace(base, "http", "ws", 1) + "/live/ws"
		for _, r := range s.Rooms {
			r.Publisher.WS = ws
			for j := range r.Subscribers {
				r.Subscribers[j].WS = ws
			}
			byNode[i] = append(byNode[i], r)
		}
		all.Header = s.Header
	}
	for k := 0; len(all.Rooms) < cfg.Rooms; k++ {
		for _, rooms := range byNode {
			if k < len(rooms) {
				all.Rooms = append(all.Rooms, rooms[k])
			}
		}
	}
	return all, nil
}

func sfuSetupRooms(ctx context.Context, c *http.Client, cfg sfuLoadConfig, base string, rooms int) (sfuSetup, error) {
	var s sfuSetup
	ttl := cfg.JoinWithin + cfg.FirstFrameMax + cfg.Duration + time.Minute
	body, _ := json.Marshal(map[string]int{"rooms": rooms, "subscribers": cfg.Subscribers,
		"ttl": int(min(ttl, 10*time.Minute).Seconds())})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/live/loadtest", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return s, fmt.Errorf("loadtest sfu: set-up: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
	case http.StatusNotFound:
		return s, fmt.Errorf("loadtest sfu: set-up: 404: the server must run with --demo and %s be its administrator", cfg.Login)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return s, fmt.Errorf("loadtest sfu: set-up: HTTP %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("loadtest sfu: set-up: %w", err)
	}
	if len(s.Rooms) != rooms || s.Header == "" {
		return s, errors.New("loadtest sfu: set-up: unexpected answer")
	}
	return s, nil
}

// loadtestSFU runs the whole load: set-up, publishers, subscribers joining
// over JoinWithin, the steady window, then it closes every peer.
func loadtestSFU(ctx context.Context, cfg sfuLoadConfig, logw io.Writer) (sfuSummary, error) {
	sum := sfuSummary{Nodes: len(cfg.URLs), Rooms: cfg.Rooms, Subscribers: cfg.Rooms * cfg.Subscribers, Kbps: cfg.Kbps,
		SimulcastRequested: cfg.Simulcast, JoinWithinS: cfg.JoinWithin.Seconds()}
	logf := func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) }
	client, err := sfuLogin(ctx, cfg)
	if err != nil {
		return sum, err
	}
	setup, err := sfuSetupNodes(ctx, client, cfg)
	if err != nil {
		return sum, err
	}
	api, err := newLoadAPI(cfg)
	if err != nil {
		return sum, err
	}
	before := scrapeSFUNodes(ctx, client, cfg.URLs)
	if !before.ok {
		logf("the server's /metrics has no process or SFU figures: server CPU and memory are not reported")
	}

	run := &sfuRun{cfg: cfg, api: api, http: client, header: setup.Header, logf: logf,
		ws: strings.Replace(cfg.URL, "http", "ws", 1) + "/live/ws"}
	defer run.close()
	start := time.Now()
	for _, r := range setup.Rooms {
		run.startPublisher(ctx, r.Room, r.Publisher)
	}
	// Subscribers of all rooms, interleaved, joins spread evenly over
	// JoinWithin: a storm while the publishers' cameras are still starting.
	n := cfg.Rooms * cfg.Subscribers
	var wg sync.WaitGroup
	for k := range n {
		i, j := k%cfg.Rooms, k/cfg.Rooms
		at := start
		if n > 1 {
			at = start.Add(cfg.JoinWithin * time.Duration(k) / time.Duration(n-1))
		}
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			run.startSubscriber(ctx, setup.Rooms[i].Room, setup.Rooms[i].Subscribers[j], cfg.layerOf(j))
		})
	}
	wg.Wait()
	logf("%d subscribers dialled in %.1f s", n, time.Since(start).Seconds())

	// Wait for every first frame (or the timeout), then settle.
	deadline := time.Now().Add(cfg.FirstFrameMax)
	for time.Now().Before(deadline) && run.withVideo() < n && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if err := sfuSleep(ctx, time.Second); err != nil {
		return sum, err
	}
	s1 := scrapeSFUNodes(ctx, client, cfg.URLs)
	t1 := time.Now()
	logf("steady window: %s", cfg.Duration)
	if err := sfuSleep(ctx, cfg.Duration); err != nil {
		return sum, err
	}
	s2 := scrapeSFUNodes(ctx, client, cfg.URLs)
	sum.SteadyS = time.Since(t1).Seconds()

	run.summarise(&sum)
	if before.ok && s1.ok && s2.ok {
		sum.ForwardedPackets = uint64(s2.packets - s1.packets)
		sum.ForwardedPerS = float64(sum.ForwardedPackets) / sum.SteadyS
		if sum.ForwardedPackets > 0 {
			sum.ServerCPUUsPerPacket = (s2.cpuS - s1.cpuS) / float64(sum.ForwardedPackets) * 1e6
		}
		sum.ServerCPUCores = (s2.cpuS - s1.cpuS) / sum.SteadyS
		// Memory at the end of the steady window: the NACK histories
		// are full by then.
		sum.ServerMemMBPerSub = (s2.rss - before.rss) / float64(n) / (1 << 20)
		sum.ServerHeapMBPerSub = (s2.heapStacks - before.heapStacks) / float64(n) / (1 << 20)
		sum.ServerRSSMB = s2.rss / (1 << 20)
		sum.ServerSlowClosed = uint64(s2.slow - before.slow)
		sum.ServerParticipantsAtEnd = int(s2.participants)
	}
	return sum, nil
}

func sfuSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sfuPercentile returns the p-th percentile (0–100) of sorted values.
func sfuPercentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1)*p/100 + 0.5)
	return sorted[min(i, len(sorted)-1)]
}

// sfuMetrics are the server figures the tool reads from /metrics.
type sfuMetrics struct {
	ok                                 bool
	cpuS, rss, heapStacks              float64
	packets, slow, participants, rooms float64
}

// scrapeSFUNodes sums the figures of every node; ok only when each had
// them.
func scrapeSFUNodes(ctx context.Context, c *http.Client, bases []string) sfuMetrics {
	sum := sfuMetrics{ok: true}
	for _, b := range bases {
		m := scrapeSFU(ctx, c, b)
		sum.ok = sum.ok && m.ok
		sum.cpuS += m.cpuS
		sum.rss += m.rss
		sum.heapStacks += m.heapStacks
		sum.packets += m.packets
		sum.slow += m.slow
		sum.participants += m.participants
		sum.rooms += m.rooms
	}
	return sum
}

func scrapeSFU(ctx context.Context, c *http.Client, base string) sfuMetrics {
	var m sfuMetrics
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return m
	}
	resp, err := c.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m
	}
	seen := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			m.cpuS = f
			seen++
		case "process_resident_memory_bytes":
			m.rss = f
			seen++
		case "preau_sfu_forwarded_packets_total":
			m.packets = f
			seen++
		case "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes":
			m.heapStacks += f
		case "preau_sfu_slow_closed_total":
			m.slow = f
		case "preau_sfu_participants":
			m.participants = f
		case "preau_sfu_rooms":
			m.rooms = f
		}
	}
	m.ok = seen == 3
	return m
}

// sfuMillis returns the durations in milliseconds, sorted.
func sfuMillis(ds []time.Duration) []float64 {
	out := make([]float64, 0, len(ds))
	for _, d := range ds {
		out = append(out, float64(d)/float64(time.Millisecond))
	}
	slices.Sort(out)
	return out
}
