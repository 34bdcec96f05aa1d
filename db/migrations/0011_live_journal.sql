-- Live lessons are journaled while they run, so a node that dies mid-lesson
-- keeps its roll call (web/live_rollcall.go):
-- * status: 'running' (ended_at_ms is 0), 'ended', or 'interrupted' (its
--   node stopped sending heartbeats; ended_at_ms is then the last heartbeat);
-- * heartbeat_ms: the last time the running node wrote the lesson (Unix ms);
-- * since_ms: the start of the user's running session, 0 when absent; total_ms
--   is then the time of the sessions already closed.
-- Lessons stored before this migration were finished: 'ended'.
ALTER TABLE live_lessons ADD COLUMN status TEXT NOT NULL DEFAULT 'ended';
ALTER TABLE live_lessons ADD COLUMN heartbeat_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE live_attendance ADD COLUMN since_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX live_lessons_running ON live_lessons (status, heartbeat_ms);
