-- Timetable (emploi du temps): the weekly slots of each class, and the
-- changes to one occurrence (a lesson cancelled or moved). Times are minutes
-- after midnight in Europe/Paris; dates are 'YYYY-MM-DD' in Europe/Paris.

CREATE TABLE timetable_slots (
    id {{pk}},
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    subject_id BIGINT NOT NULL REFERENCES subjects(id),
    teacher_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    room TEXT NOT NULL DEFAULT '',
    weekday INTEGER NOT NULL,      -- 1 Monday … 6 Saturday
    start_min INTEGER NOT NULL,
    end_min INTEGER NOT NULL,
    weeks TEXT NOT NULL DEFAULT '' -- '' every week; 'A' or 'B': alternate weeks (odd ISO weeks are A)
);
CREATE INDEX timetable_slots_class ON timetable_slots (class_id, weekday);
CREATE INDEX timetable_slots_teacher ON timetable_slots (teacher_id, weekday);

-- One occurrence of a slot, on the date it would fall on, cancelled or moved
-- (to another date, time or room).
CREATE TABLE timetable_changes (
    slot_id BIGINT NOT NULL REFERENCES timetable_slots(id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    status TEXT NOT NULL,          -- 'cancelled' | 'moved'
    new_date TEXT NOT NULL DEFAULT '',
    new_start_min INTEGER NOT NULL DEFAULT 0,
    new_end_min INTEGER NOT NULL DEFAULT 0,
    new_room TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    changed_by BIGINT NOT NULL,
    changed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (slot_id, on_date)
);
CREATE INDEX timetable_changes_new_date ON timetable_changes (new_date);
