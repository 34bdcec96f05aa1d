-- Help (assistance, docs/help.md): the hotline the help page shows (one row,
-- set by the ENT administrator; absent: Préau's default) and the help
-- requests, queued for the ENT administrator and the school's direction.
CREATE TABLE help_settings (
    id INTEGER PRIMARY KEY,        -- always 1
    phone TEXT NOT NULL,
    hours TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT ''
);

CREATE TABLE help_requests (
    id {{pk}},
    structure_id BIGINT REFERENCES structures(id),
    user_id BIGINT,                -- NULL: sent by someone who cannot sign in
    name TEXT NOT NULL,
    contact TEXT NOT NULL,         -- an email address or a phone number
    topic TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'nouvelle', -- 'nouvelle' | 'en_cours' | 'resolue'
    reply TEXT NOT NULL DEFAULT '',
    handled_by BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX help_requests_queue ON help_requests (status, created_at_ms);
CREATE INDEX help_requests_user ON help_requests (user_id);
