-- Parent–teacher meetings (rendez-vous, docs/meetings.md): the time slots a
-- teacher (or the direction, for several teachers) publishes, and the
-- booking a parent makes of one for a child. Instants are Unix milliseconds;
-- pages show them in Europe/Paris.

CREATE TABLE meeting_slots (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    teacher_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_at_ms BIGINT NOT NULL,
    ends_at_ms BIGINT NOT NULL,
    mode TEXT NOT NULL,              -- 'in_person' | 'video'
    place TEXT NOT NULL DEFAULT '',  -- the room, in person
    created_by BIGINT NOT NULL,      -- no foreign key: a slot outlives its author's account
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX meeting_slots_teacher ON meeting_slots (teacher_id, starts_at_ms);
CREATE INDEX meeting_slots_structure ON meeting_slots (structure_id, starts_at_ms);

-- A slot is booked at most once: its id is the key.
CREATE TABLE meeting_bookings (
    slot_id BIGINT PRIMARY KEY REFERENCES meeting_slots(id) ON DELETE CASCADE,
    parent_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    booked_at_ms BIGINT NOT NULL
);
CREATE INDEX meeting_bookings_parent ON meeting_bookings (parent_id);
CREATE INDEX meeting_bookings_child ON meeting_bookings (child_id);

-- One row per person booking: taken (updated) first in a booking's
-- transaction, it serialises the bookings of one parent and of one child,
-- so that the overlap and one-per-teacher checks hold under concurrency.
CREATE TABLE meeting_locks (
    user_id BIGINT PRIMARY KEY,
    n BIGINT NOT NULL
);
