-- Chat: replies and attachments. Times are Unix MILLISECONDS (UTC).

-- A reply names the seq of an earlier message of the same conversation;
-- 0: not a reply.
ALTER TABLE messages ADD COLUMN reply_to BIGINT NOT NULL DEFAULT 0;

-- A message's attachments (at most 5): each a reference to one version of
-- a file of the Documents (file_nodes / file_versions), with the name,
-- size and type it had when sent, so that a later rename changes nothing.
-- No foreign key: the message outlives the file's history; a version
-- pruned or purged downloads as "not found".
CREATE TABLE message_attachments (
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    n INTEGER NOT NULL,            -- 1..5, in the order sent
    file_id BIGINT NOT NULL,
    version BIGINT NOT NULL,       -- file_versions.n
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq, n),
    FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
