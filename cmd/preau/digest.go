package main

import (
	"context"
	"log/slog"
	"net"

	"preau/chat"
	"preau/db"
	"preau/notify"
)

// startDigests starts the email digests of unread messages when an SMTP
// server is set (--smtp-url), and returns the function that stops them and
// waits for the loop to end. Without --smtp-url it does nothing.
func startDigests(ctx context.Context, cfg serveConfig, d *db.DB, store *chat.Store, listen net.Addr, log *slog.Logger) (stop func()) {
	if cfg.SMTP == nil {
		return func() {}
	}
	site := cfg.SiteURL
	if site == "" {
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		site = scheme + "://" + displayAddr(listen)
		log.Warn("email digests: no --site-url, the link in digests is " + site + "/messagerie")
	}
	g := notify.New(notify.Config{After: cfg.DigestAfter, SiteURL: site}, d, notify.ChatSource{Store: store},
		notify.NewSMTPMailer(*cfg.SMTP), log.With("module", "notify"))
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Run(ctx)
	}()
	log.Info("email digests on", "smtp", net.JoinHostPort(cfg.SMTP.Host, cfg.SMTP.Port), "from", cfg.SMTP.From,
		"after", cfg.DigestAfter)
	return func() {
		cancel()
		<-done
	}
}
