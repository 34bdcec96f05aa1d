-- State that every node must see, moved out of one process's memory (issue 8):
-- the login throttle and the activation-code files of recent imports.
-- Times are Unix MILLISECONDS (UTC) in BIGINT columns named *_ms.

-- Failed sign-ins per identifier as typed (auth.DBThrottle). key_hash is a
-- hex SHA-256 of the normalised identifier: any bytes typed fit, and a
-- password typed into the identifier field is not kept in clear. The
-- periodic purge forgets a row 30 min after its last failure, once unlocked.
CREATE TABLE throttle_accounts (
    key_hash TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until_ms BIGINT NOT NULL,
    last_failure_ms BIGINT NOT NULL
);
CREATE INDEX throttle_accounts_last ON throttle_accounts (last_failure_ms);

-- Attempts per client address in a one-minute window (key_hash: hex SHA-256).
CREATE TABLE throttle_ips (
    key_hash TEXT PRIMARY KEY,
    window_start_ms BIGINT NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE INDEX throttle_ips_window ON throttle_ips (window_start_ms);

-- The activation codes CSV of an import, kept until its importer downloads
-- it (once: the row is deleted as it is read) or it expires. The codes are
-- secrets: sealed is the file under AES-256-GCM (nonce first) with a key
-- derived from the download id, and only a SHA-256 of that id is stored, so
-- the database alone does not reveal them; expired rows are purged.
CREATE TABLE import_codes (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sealed {{blob}} NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX import_codes_expiry ON import_codes (expires_at_ms);
