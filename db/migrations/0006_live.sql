-- Live lessons: one row per lesson once it has ended, and its roll call.
-- Times are Unix MILLISECONDS (UTC) in BIGINT columns named *_ms.

-- A finished live lesson. room is the SFU room id (unique: the server made
-- it from the class and the start time). No foreign key on started_by: the
-- roll call outlives accounts.
CREATE TABLE live_lessons (
    id {{pk}},
    room TEXT NOT NULL UNIQUE,
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT NOT NULL REFERENCES classes(id),
    started_by BIGINT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    ended_at_ms BIGINT NOT NULL
);
CREATE INDEX live_lessons_class ON live_lessons (class_id, started_at_ms);
CREATE INDEX live_lessons_structure ON live_lessons (structure_id, started_at_ms);

-- Who attended: one row per user and lesson, every connection merged. The
-- name is the one shown in the lesson, kept as it was.
CREATE TABLE live_attendance (
    lesson_id BIGINT NOT NULL REFERENCES live_lessons(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,            -- 'moderator' | 'participant'
    first_join_ms BIGINT NOT NULL,
    last_leave_ms BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (lesson_id, user_id)
);
