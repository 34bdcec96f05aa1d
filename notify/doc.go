// Package notify sends email digests of unread messages, where an SMTP
// server is set (`preau serve --smtp-url`).
//
// A person with an email address whose messages have waited unread for a
// while (Config.After, 30 minutes by default) gets at most one digest a day
// (a day of Config.Location, Europe/Paris by default): per conversation, how
// many messages are unread, and a link to /messagerie. A digest never
// carries a message's text, nor a mailbox message's subject or a private
// conversation's correspondent: it says that something waits, and the
// reader signs in to read it. A digest is only sent when a message came
// since the previous one, so an unread conversation does not bring a mail
// every day.
//
// Digests reads through Source, which ChatSource implements over
// chat.Store, and sends through Mailer, which SMTPMailer implements with
// net/smtp (STARTTLS when the server offers it, or implicit TLS with
// smtps://). The table email_digests (db/migrations/0010_digests.sql)
// records each person's latest digest, claimed before sending: a restart,
// or a second node, never sends the same day's digest twice.
package notify
