package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"preau/auth"
	"preau/chat"
	"preau/db"
	"preau/demo"
	"preau/notify"
	"preau/sfu"
	"preau/sfu/placement"
	"preau/storage/files"
	"preau/storage/stores"
	"preau/web"
)

type serveConfig struct {
	Addr, Data, DatabaseURL string
	RedisURL                string
	NodeURL                 string // where the other nodes reach this one; empty: from the listen address
	StorageURL              string // content store of Documents; empty: <data>/files
	Demo                    bool
	DemoPassword            string
	TLSCert, TLSKey         string
	TrustedProxies          string
	LogFormat, LogLevel     string
	ShutdownTimeout         time.Duration
	UDPPort                 int    // the SFU's one UDP port (0: chosen by the OS)
	TCPPort                 int    // the SFU's one ICE-TCP port (0: chosen by the OS, -1: none)
	TURNPort                int    // the in-process TURN relay's port, UDP and TCP (0: chosen by the OS, -1: none)
	SFUKey                  []byte // grant key; empty: random at start
	PublicIPs               []string
	SMTP                    *notify.SMTPConfig // email digests of unread messages; nil: none (digest.go)
	SiteURL                 string             // where people reach Préau, for links in emails
	DigestAfter             time.Duration      // how long a message waits unread before a digest
	ChatSendLimit           int                // chat messages one user may send per 10 s (SECURITY.md: 20)
}

func parseServe(args []string) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	envString(fs, &c.Addr, "addr", "PREAU_ADDR", ":8080", "address to listen on")
	envString(fs, &c.Data, "data", "PREAU_DATA", "./data", "data directory (SQLite file, files)")
	envString(fs, &c.DatabaseURL, "database-url", "PREAU_DATABASE_URL", "", "postgres://… to use PostgreSQL instead of SQLite")
	envString(fs, &c.RedisURL, "redis-url", "PREAU_REDIS_URL", "", "redis://… to fan chat out across nodes (default: in-process)")
	envString(fs, &c.NodeURL, "node-url", "PREAU_NODE_URL", "", "where the other nodes reach this one, for live rooms (default: http://<listen address, or this host's name>:<port>)")
	envString(fs, &c.StorageURL, "storage-url", "PREAU_STORAGE_URL", "", "where Documents keep file contents: s3://KEY:SECRET@host:9000/bucket (MinIO, S3) or file:///dir (default: the files directory under --data)")
	envBool(fs, &c.Demo, "demo", "PREAU_DEMO", false, "create a demo collège on first start and print its logins")
	envString(fs, &c.DemoPassword, "demo-password", "PREAU_DEMO_PASSWORD", "preau-demo-2026", "password of every demo account")
	envString(fs, &c.TLSCert, "tls-cert", "PREAU_TLS_CERT", "", "TLS certificate file (serve HTTPS)")
	envString(fs, &c.TLSKey, "tls-key", "PREAU_TLS_KEY", "", "TLS key file")
	envString(fs, &c.TrustedProxies, "trusted-proxies", "PREAU_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-* headers are trusted")
	envString(fs, &c.LogFormat, "log-format", "PREAU_LOG_FORMAT", "text", "log format: text or json")
	envString(fs, &c.LogLevel, "log-level", "PREAU_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	envDuration(fs, &c.ShutdownTimeout, "shutdown-timeout", "PREAU_SHUTDOWN_TIMEOUT", 15*time.Second, "how long to drain on SIGTERM")
	var udpPort, tcpPort, turnPort, sfuKey, publicIP, smtpURL, chatLimit string
	envString(fs, &chatLimit, "chat-send-limit", "PREAU_CHAT_SEND_LIMIT", "20", "chat messages one user may send per 10 s on a node (1 to 1000); raise it only on a load-test server")
	envString(fs, &smtpURL, "smtp-url", "PREAU_SMTP_URL", "", "smtp://user:password@host:587?from=ent@example.fr (or smtps://) to email daily digests of unread messages; empty: none")
	envString(fs, &c.SiteURL, "site-url", "PREAU_SITE_URL", "", "where people reach Préau, e.g. https://ent.example.fr, for links in emails (default: the listening address)")
	envDuration(fs, &c.DigestAfter, "digest-after", "PREAU_DIGEST_AFTER", 30*time.Minute, "how long a message waits unread before it is worth an email digest")
	envString(fs, &udpPort, "udp-port", "PREAU_UDP_PORT", "50000", "the one UDP port of live lessons (WebRTC media of every peer); open it in the firewall")
	envString(fs, &tcpPort, "tcp-port", "PREAU_TCP_PORT", "50000", "the one TCP port of live lessons for networks that block UDP (ICE over TCP); -1: none")
	envString(fs, &turnPort, "turn-port", "PREAU_TURN_PORT", "-1", "port (UDP and TCP) of the in-process TURN relay for networks that block both, e.g. 3478; its address is the first --public-ip; -1: none")
	envString(fs, &sfuKey, "sfu-key", "PREAU_SFU_KEY", "", "hex key (≥ 32 bytes) signing live-lesson grants; the same on every node (default: random at each start)")
	envString(fs, &publicIP, "public-ip", "PREAU_PUBLIC_IP", "", "comma-separated public addresses announced to browsers when the server is behind a 1:1 NAT")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: preau serve [flags]\n\nEvery flag can also be set by the environment variable shown.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if n, err := strconv.Atoi(chatLimit); err != nil || n < 1 || n > 1000 {
		return c, fmt.Errorf("serve: --chat-send-limit %q: want 1 to 1000 messages per 10 s", chatLimit)
	} else {
		c.ChatSendLimit = n
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("serve: --tls-cert and --tls-key go together")
	}
	port, err := strconv.Atoi(strings.TrimSpace(udpPort))
	if err != nil || port < 0 || port > 65535 {
		return c, fmt.Errorf("serve: --udp-port %q: want a port number", udpPort)
	}
	c.UDPPort = port
	port, err = strconv.Atoi(strings.TrimSpace(tcpPort))
	if err != nil || port < -1 || port > 65535 {
		return c, fmt.Errorf("serve: --tcp-port %q: want a port number or -1", tcpPort)
	}
	c.TCPPort = port
	port, err = strconv.Atoi(strings.TrimSpace(turnPort))
	if err != nil || port < -1 || port > 65535 {
		return c, fmt.Errorf("serve: --turn-port %q: want a port number or -1", turnPort)
	}
	c.TURNPort = port
	if smtpURL != "" {
		sc, err := notify.ParseSMTPURL(smtpURL)
		if err != nil {
			return c, fmt.Errorf("serve: --smtp-url: %w", err)
		}
		c.SMTP = &sc
	}
	if sfuKey != "" {
		key, err := hex.DecodeString(strings.TrimSpace(sfuKey))
		if err != nil || len(key) < 32 {
			return c, errors.New("serve: --sfu-key: want at least 32 bytes in hex (64 hex digits)")
		}
		c.SFUKey = key
	}
	for _, ip := range strings.Split(publicIP, ",") {
		if ip = strings.TrimSpace(ip); ip == "" {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			return c, fmt.Errorf("serve: --public-ip %q: %w", ip, err)
		}
		c.PublicIPs = append(c.PublicIPs, ip)
	}
	return c, nil
}

func parseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func runServe(ctx context.Context, args []string) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, os.Stdout, nil)
}

// serve runs the server until ctx ends. It prints the demo logins to out and,
// once listening, sends the address to ready (if not nil): tests start it on
// port 0.
func serve(ctx context.Context, cfg serveConfig, out io.Writer, ready chan<- string) error {
	log, err := newLogger(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, db.Config{URL: cfg.DatabaseURL, DataDir: cfg.Data})
	if err != nil {
		return err
	}
	defer d.Close()
	log.Info("database ready", "engine", d.Dialect())

	authSvc := auth.NewService(d, auth.Config{}, log)
	if cfg.Demo {
		res, err := demo.Seed(ctx, d, authSvc.Hasher, demo.Options{Password: cfg.DemoPassword, Now: time.Now()})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		printDemo(out, res, cfg)
	}

	// Chat: committed to the database, fanned out in-process or by Redis.
	var broker chat.Broker = chat.NewMemoryBroker(0)
	var checks []web.Check
	// Presence in this process unless Redis is set.
	chatCfg := chat.Config{RateMessages: cfg.ChatSendLimit, RateWindow: 10 * time.Second}
	if cfg.RedisURL != "" {
		rb, err := chat.NewRedisBroker(ctx, cfg.RedisURL, 0)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		broker = rb
		checks = append(checks, web.Check{Name: "redis", Fn: rb.Ping})
		rp, err := chat.NewRedisPresence(ctx, cfg.RedisURL, "")
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		defer rp.Close()
		chatCfg.Presence = rp
	}
	defer broker.Close()
	store := chat.NewStore(d)
	// Live rooms across nodes: which node runs which lesson (web/live_placement.go).
	var rooms placement.Registry
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		rooms = placement.NewRedis(rdb, "preau", web.PlacementTTL)
	}

	// Documents: contents in the store (a directory or S3), metadata in the
	// database.
	content, err := stores.Open(ctx, cfg.StorageURL, cfg.Data)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if c, ok := content.(io.Closer); ok {
		defer c.Close()
	}
	filesSvc := files.New(d, content, files.Config{Logger: log.With("module", "files")})
	hub := chat.NewHub(chatCfg, store, broker, log)
	hub.SetFiles(web.ChatFiles{Files: filesSvc}) // attachments come from Documents

	// Live lessons: the SFU, its grant key and its one UDP port.
	live, err := newLive(cfg, log)
	if err != nil {
		return err
	}
	live.Registry = rooms
	closeLive := sync.OnceValue(live.Manager.Close)
	defer closeLive() // on an early return; a clean shutdown closes it below
	// An account disabled or a session ended, on any node, also ends the
	// user's live connections here (their pages rejoin with a session that
	// is still valid, if any). Off the rights loop: closing a
	// PeerConnection may take a moment.
	hub.OnRevoke(func(user int64) {
		go live.Manager.Disconnect(strconv.FormatInt(user, 10))
	})

	site, err := web.New(web.Config{TrustedProxies: proxies, Demo: cfg.Demo, DemoPassword: cfg.DemoPassword, Live: live,
		Chat: store, ChatHub: hub, Files: filesSvc}, log, d, authSvc, checks...)
	if err != nil {
		return err
	}
	defer site.Close()
	// The session's user; on a demo server the administrator may also speak
	// for its load test's synthetic users (`preau loadtest chat`).
	site.Mount("/ws/chat", hub.Handler(site.ChatPrincipal))
	site.Mount("/live/ws", site.LiveWS()) // a room of another node is forwarded there
	site.Registry().MustRegister(liveCollector{hub: hub, sfu: live.Manager})
	srv := &http.Server{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // uploads on slow home networks
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("Préau is listening", "url", scheme+"://"+displayAddr(ln.Addr()), "data", cfg.Data)
	live.Node.URL = nodeURL(cfg, scheme, ln.Addr())
	placementCtx, stopPlacement := context.WithCancel(context.Background())
	placementDone := make(chan struct{})
	go func() { // beats until the end of the shutdown, then leaves the registry
		defer close(placementDone)
		site.RunPlacement(placementCtx)
	}()
	defer func() { stopPlacement(); <-placementDone }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	stopDigests := startDigests(ctx, cfg, d, store, ln.Addr(), log) // digest.go; nothing without --smtp-url
	defer stopDigests()

	// Lessons a stopped node left running are closed as interrupted, at
	// start and then with the purges (their roll call is kept).
	site.SweepLessons(ctx)
	// The session purger is owned here and ends with ctx.
	purgeDone := make(chan struct{})
	go func() {
		defer close(purgeDone)
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := filesSvc.Sweep(ctx); err != nil {
					log.Warn("sweep files", "err", err)
				} else if n > 0 {
					log.Info("files: bins emptied", "purged", n)
				}
				// What interrupted work left in the store; older than the
				// 24 h an unfinished resumable upload stays open.
				if sw, ok := content.(interface {
					Sweep(context.Context, time.Duration) (int, error)
				}); ok {
					if _, err := sw.Sweep(ctx, 48*time.Hour); err != nil {
						log.Warn("sweep storage", "err", err)
					}
				}
				if n, err := authSvc.Sessions.Purge(ctx); err != nil {
					log.Warn("purge sessions", "err", err)
				} else if n > 0 {
					log.Debug("purged sessions", "n", n)
				}
				if _, err := authSvc.Throttle.Purge(ctx); err != nil {
					log.Warn("purge login throttle", "err", err)
				}
				if _, err := site.PurgeImportCodes(ctx); err != nil {
					log.Warn("purge import codes", "err", err)
				}
				if _, err := site.PurgeRateWindows(ctx); err != nil {
					log.Warn("purge rate windows", "err", err)
				}
				site.SweepLessons(ctx)
			}
		}
	}()

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Draining (docs/operations.md): /readyz answers 503 so that the load
	// balancer sends newcomers elsewhere, no new live room opens here, and
	// everyone is told; all within --shutdown-timeout.
	log.Info("draining", "timeout", cfg.ShutdownTimeout, "live_rooms", live.Manager.Rooms())
	site.Drain()
	live.Manager.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// WebSockets are hijacked connections that http.Server does not track:
	// the hub closes them (1001, clients reconnect elsewhere) first.
	if err := hub.Shutdown(sctx); err != nil {
		log.Warn("chat shutdown", "err", err)
	}
	// Running lessons may finish (their pages still reconnect here) until
	// drainMargin before the deadline.
	waitRooms(sctx, live.Manager, cfg.ShutdownTimeout-drainMargin)
	// The SFU ends the rooms left (everyone gets "ended"), closes
	// PeerConnections and sockets, and frees the UDP port.
	if err := closeLive(); err != nil {
		log.Warn("sfu shutdown", "err", err)
	}
	err = srv.Shutdown(sctx)
	<-purgeDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newLive builds the SFU of live lessons. A grant names the user of the
// session that asked for it; the signaling socket checks it against the
// session cookie, so a leaked grant is useless on its own.
func newLive(cfg serveConfig, log *slog.Logger) (*web.Live, error) {
	key := cfg.SFUKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
		log.Warn("live lessons: no --sfu-key, using a random one: grants do not survive a restart and are not accepted by other nodes")
	}
	signer := sfu.Signer{Key: key}
	var turn *sfu.TURNConfig
	if cfg.TURNPort >= 0 {
		turn = &sfu.TURNConfig{Port: cfg.TURNPort}
		if len(cfg.PublicIPs) == 0 {
			if !cfg.Demo {
				return nil, errors.New("live lessons: --turn-port needs --public-ip (the relay's address)")
			}
			turn.RelayIP = "127.0.0.1" // the demo, on one machine
		}
	}
	m, err := sfu.New(sfu.Config{
		UDPPort:   cfg.UDPPort,
		TCPPort:   cfg.TCPPort,
		TURN:      turn,
		PublicIPs: cfg.PublicIPs,
		// The demo runs on one machine, often in a container with no other
		// interface: offer loopback candidates too.
		IncludeLoopback: cfg.Demo,
		Logger:          log.With("module", "sfu"),
		// The session's user; on a demo server the administrator may also
		// speak for its load test's synthetic users (`preau loadtest sfu`).
		SessionUser: web.LiveSessionUser(cfg.Demo),
	}, signer)
	if err != nil {
		return nil, fmt.Errorf("live lessons: %w", err)
	}
	addrs := make([]string, 0, 4)
	for _, a := range m.UDPAddrs() {
		addrs = append(addrs, a.String())
	}
	log.Info("live lessons: UDP media", "addrs", strings.Join(addrs, " "), "public", strings.Join(cfg.PublicIPs, " "))
	if a := m.TCPAddr(); a != nil {
		log.Info("live lessons: ICE over TCP", "addr", a.String())
	}
	if a := m.TURNAddr(); a != nil {
		log.Info("live lessons: TURN relay", "addr", a.String())
	}
	return &web.Live{Manager: m, Signer: signer}, nil
}

// nodeURL is where the other nodes reach this one: --node-url, or the
// listen address, or this host's name when it listens on every interface.
func nodeURL(cfg serveConfig, scheme string, a net.Addr) string {
	if cfg.NodeURL != "" {
		return strings.TrimSuffix(cfg.NodeURL, "/")
	}
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		} else {
			host = "localhost"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// drainMargin is what a drain keeps, of --shutdown-timeout, to end the
// rooms left and close the HTTP server.
const drainMargin = 3 * time.Second

// waitRooms waits until the manager has no room left, for at most d.
func waitRooms(ctx context.Context, m *sfu.Manager, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, max(d, 0))
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for m.Rooms() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func displayAddr(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func printDemo(w io.Writer, res demo.Result, cfg serveConfig) {
	if res.Created {
		fmt.Fprintf(w, "\nDemo school created: %s (UAI %s).\n", res.Structure.Name, res.Structure.UAI)
	} else {
		fmt.Fprintf(w, "\nDemo school: %s (UAI %s).\n", res.Structure.Name, res.Structure.UAI)
	}
	fmt.Fprintf(w, "Demo logins (password %q):\n", cfg.DemoPassword)
	for _, a := range res.Accounts {
		fmt.Fprintf(w, "  %-16s %-19s %s — %s\n", a.Login, a.Profile, a.Name, a.Note)
	}
	fmt.Fprintln(w)
}
