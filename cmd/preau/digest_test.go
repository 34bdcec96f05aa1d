package main

import (
	"testing"
	"time"
)

// TestServeSMTPFlags: --smtp-url turns the digests on and is checked at
// start; without it there are none.
func TestServeSMTPFlags(t *testing.T) {
	cfg, err := parseServe([]string{"--smtp-url", "smtp://ent:secret@mail.example.fr?from=ent@example.fr",
		"--site-url", "https://ent.example.fr", "--digest-after", "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP == nil || cfg.SMTP.Host != "mail.example.fr" || cfg.SMTP.From != "ent@example.fr" ||
		cfg.SiteURL != "https://ent.example.fr" || cfg.DigestAfter != time.Hour {
		t.Errorf("config %+v, SMTP %+v", cfg, cfg.SMTP)
	}
	if cfg, err := parseServe(nil); err != nil || cfg.SMTP != nil || cfg.DigestAfter != 30*time.Minute {
		t.Errorf("default: SMTP %+v, after %s, %v", cfg.SMTP, cfg.DigestAfter, err)
	}
	for _, bad := range []string{"smtp://mail.example.fr", "imap://mail.example.fr?from=ent@example.fr"} {
		if _, err := parseServe([]string{"--smtp-url", bad}); err == nil {
			t.Errorf("--smtp-url %s accepted", bad)
		}
	}
}
