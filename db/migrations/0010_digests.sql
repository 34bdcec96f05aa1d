-- Email digests of unread messages (package notify): per person, the day
-- of the latest digest, so that a restart, or another node, never sends a
-- second one that day. The row is claimed before the mail goes out (at most
-- once: a crash in between loses that day's digest, never doubles it) and
-- put back when sending fails, for the next pass to retry.
CREATE TABLE email_digests (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,             -- 'YYYY-MM-DD' in the school's time zone
    sent_at_ms BIGINT NOT NULL     -- Unix milliseconds it went out; 0 while sending
);
