-- Chat: conversations, their members and their messages.
-- Times are Unix MILLISECONDS (UTC) in BIGINT columns named *_ms; 0 means
-- "not yet" (never edited, not deleted).

-- A conversation: a class channel, a class's parents channel, a group, a
-- private conversation or a live lesson's chat. last_seq is the sequence
-- number of its latest message; posting increments it in the same
-- transaction as the insert, so seqs are gap-free per conversation.
CREATE TABLE conversations (
    id {{pk}},
    kind TEXT NOT NULL,            -- 'class' | 'class_parents' | 'group' | 'private' | 'lesson'
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT REFERENCES classes(id),
    title TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL DEFAULT 0, -- 0: created by Préau (class channels)
    created_at_ms BIGINT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);
-- One channel of each kind per class; NULL class_ids never collide.
CREATE UNIQUE INDEX conversations_class ON conversations (class_id, kind);
CREATE INDEX conversations_structure ON conversations (structure_id);

CREATE TABLE conversation_members (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL DEFAULT 'member', -- 'member' | 'moderator'
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    joined_at_ms BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user ON conversation_members (user_id);

-- A message. sender_id has no foreign key: history outlives accounts.
-- client_id is the sender's own id for the message, which makes a resend
-- idempotent.
CREATE TABLE messages (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    sender_id BIGINT NOT NULL,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    edited_at_ms BIGINT NOT NULL DEFAULT 0,
    deleted_at_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_id)
);
