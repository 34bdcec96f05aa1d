-- Chat: attachments copied for their message, idempotent mailbox sends,
-- accent-insensitive search, held notifications. Times are Unix
-- MILLISECONDS (UTC).

-- An attachment's content is copied, when sent, into a storage key the
-- message owns (storage/files CopyAttachment): pruning the file's old
-- versions or purging the file no longer loses it. '' for attachments sent
-- before this migration, which still point at file_id / version.
ALTER TABLE message_attachments ADD COLUMN storage_key TEXT NOT NULL DEFAULT '';
ALTER TABLE message_attachments ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';

-- A mailbox message's 'sender:form token': the form sent twice (double
-- click, resend after an error) makes one message. NULL for every other
-- conversation; NULLs never collide.
ALTER TABLE conversations ADD COLUMN mail_key TEXT;
CREATE UNIQUE INDEX conversations_mail_key ON conversations (mail_key);

-- Search ignores case and accents on both databases: body_folded is the
-- body lower-cased with its accents removed (chat.Fold), written with the
-- body. folded = 0 marks rows written before this migration (or by code
-- that does not fold): the chat store folds them in Go before searching,
-- found through the partial index.
ALTER TABLE messages ADD COLUMN body_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_unfolded ON messages (conversation_id, seq) WHERE folded = 0;

-- A staff role's service (ent/directory.Service): 'vie_scolaire' (CPE,
-- assistants d'éducation), 'autre', or '' when not recorded. The vie
-- scolaire moderates the class channels; '' falls back to the job title
-- (roles.function), as for imported data.
ALTER TABLE roles ADD COLUMN service TEXT NOT NULL DEFAULT '';
