-- Events per key in fixed windows that every node of a cluster must count
-- together (issue 8): the help form's requests per sender and hour
-- (web/ratewindow.go). key_hash is a hex SHA-256 of the key (an address or a
-- user id is not kept in clear); a row is purged once its window is over.
-- Times are Unix MILLISECONDS (UTC).
CREATE TABLE rate_windows (
    key_hash TEXT PRIMARY KEY,
    window_end_ms BIGINT NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX rate_windows_end ON rate_windows (window_end_ms);
