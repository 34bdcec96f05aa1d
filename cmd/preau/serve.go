package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"preau/auth"
	"preau/chat"
	"preau/db"
	"preau/demo"
	"preau/web"
)

type serveConfig struct {
	Addr, Data, DatabaseURL string
	RedisURL                string
	Demo                    bool
	DemoPassword            string
	TLSCert, TLSKey         string
	TrustedProxies          string
	LogFormat, LogLevel     string
	ShutdownTimeout         time.Duration
}

func parseServe(args []string) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	envString(fs, &c.Addr, "addr", "PREAU_ADDR", ":8080", "address to listen on")
	envString(fs, &c.Data, "data", "PREAU_DATA", "./data", "data directory (SQLite file, files)")
	envString(fs, &c.DatabaseURL, "database-url", "PREAU_DATABASE_URL", "", "postgres://… to use PostgreSQL instead of SQLite")
	envString(fs, &c.RedisURL, "redis-url", "PREAU_REDIS_URL", "", "redis://… to fan chat out across nodes (default: in-process)")
	envBool(fs, &c.Demo, "demo", "PREAU_DEMO", false, "create a demo collège on first start and print its logins")
	envString(fs, &c.DemoPassword, "demo-password", "PREAU_DEMO_PASSWORD", "preau-demo-2026", "password of every demo account")
	envString(fs, &c.TLSCert, "tls-cert", "PREAU_TLS_CERT", "", "TLS certificate file (serve HTTPS)")
	envString(fs, &c.TLSKey, "tls-key", "PREAU_TLS_KEY", "", "TLS key file")
	envString(fs, &c.TrustedProxies, "trusted-proxies", "PREAU_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-* headers are trusted")
	envString(fs, &c.LogFormat, "log-format", "PREAU_LOG_FORMAT", "text", "log format: text or json")
	envString(fs, &c.LogLevel, "log-level", "PREAU_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	envDuration(fs, &c.ShutdownTimeout, "shutdown-timeout", "PREAU_SHUTDOWN_TIMEOUT", 15*time.Second, "how long to drain on SIGTERM")
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
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("serve: --tls-cert and --tls-key go together")
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
	if cfg.RedisURL != "" {
		rb, err := chat.NewRedisBroker(ctx, cfg.RedisURL, 0)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		broker = rb
		checks = append(checks, web.Check{Name: "redis", Fn: rb.Ping})
	}
	defer broker.Close()
	hub := chat.NewHub(chat.Config{}, chat.NewStore(d), broker, log)

	site, err := web.New(web.Config{TrustedProxies: proxies, Demo: cfg.Demo, DemoPassword: cfg.DemoPassword}, log, d, authSvc, checks...)
	if err != nil {
		return err
	}
	defer site.Close()
	site.Mount("/ws/chat", hub.Handler(web.Principal))
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
	if ready != nil {
		ready <- ln.Addr().String()
	}

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
				if n, err := authSvc.Sessions.Purge(ctx); err != nil {
					log.Warn("purge sessions", "err", err)
				} else if n > 0 {
					log.Debug("purged sessions", "n", n)
				}
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
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// WebSockets are hijacked connections that http.Server does not track:
	// the hub closes them (1001, clients reconnect elsewhere) first.
	if err := hub.Shutdown(sctx); err != nil {
		log.Warn("chat shutdown", "err", err)
	}
	err = srv.Shutdown(sctx)
	<-purgeDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
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
