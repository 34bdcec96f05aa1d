-- Chat rules: private pairs, the secure mailbox, moderation for minors,
-- reports and the moderation audit log. Times are Unix MILLISECONDS (UTC).

-- A private conversation's two user ids, 'small:large': one conversation per
-- pair even when both start it at once. NULL for every other kind.
ALTER TABLE conversations ADD COLUMN pair_key TEXT;
CREATE UNIQUE INDEX conversations_pair ON conversations (pair_key);
-- Announcements only: members who are not moderators cannot post (the
-- mailbox's messages, a class channel switched to announcements).
ALTER TABLE conversations ADD COLUMN announce_only BOOLEAN NOT NULL DEFAULT FALSE;
-- Opening hours in minutes after midnight, Europe/Paris: members who are not
-- moderators post only from open_from_min to open_to_min. Equal: always open.
ALTER TABLE conversations ADD COLUMN open_from_min INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN open_to_min INTEGER NOT NULL DEFAULT 0;

-- A member muted by a moderator cannot post before muted_until_ms.
ALTER TABLE conversation_members ADD COLUMN muted_until_ms BIGINT NOT NULL DEFAULT 0;

-- A reported message. The report itself reaches the moderators as a
-- conversation (report_conversation_id) holding the context.
CREATE TABLE chat_reports (
    id {{pk}},
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    reporter_id BIGINT NOT NULL,
    report_conversation_id BIGINT,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (conversation_id, seq, reporter_id)
);

-- Every moderation act: who, what, when, on whom. Never a message's text.
CREATE TABLE chat_audit (
    id {{pk}},
    at_ms BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    action TEXT NOT NULL,          -- 'delete' | 'mute' | 'announce_only' | 'hours' | 'report'
    conversation_id BIGINT NOT NULL,
    target_user_id BIGINT NOT NULL DEFAULT 0,
    target_seq BIGINT NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX chat_audit_conversation ON chat_audit (conversation_id, at_ms);
