-- Grades (notes): the terms of a school year, evaluations of a class in a
-- subject, and each pupil's grade. Dates are 'YYYY-MM-DD' text, times Unix
-- seconds. Values are kept exact as integers: a grade in quarter points, a
-- coefficient in hundredths (docs/grades.md).

-- The terms (trimestres) of a school year, numbered from 1. Created on
-- demand with the usual French dates (directory.EnsureTerms).
CREATE TABLE terms (
    id {{pk}},
    year_id BIGINT NOT NULL REFERENCES school_years(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,             -- '1er trimestre'
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    UNIQUE (year_id, number)
);

-- An evaluation (devoir, contrôle…) of a class or group in a subject. No
-- foreign key on created_by: grades outlive the teacher's account.
CREATE TABLE grade_evaluations (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT NOT NULL REFERENCES classes(id),
    subject_id BIGINT NOT NULL REFERENCES subjects(id),
    created_by BIGINT NOT NULL,
    title TEXT NOT NULL,
    held_on TEXT NOT NULL,
    scale INTEGER NOT NULL,          -- the grade is out of scale (1–100)
    coef_hundredths INTEGER NOT NULL, -- coefficient × 100 (50–1000)
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX grade_evaluations_class ON grade_evaluations (class_id, subject_id, held_on);

-- A pupil's grade in an evaluation: a value, or absent / exempted / not
-- graded, which do not count in averages. No row: not entered yet.
CREATE TABLE grades (
    evaluation_id BIGINT NOT NULL REFERENCES grade_evaluations(id) ON DELETE CASCADE,
    pupil_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status TEXT NOT NULL,            -- 'note' | 'absent' | 'dispense' | 'non_note'
    quarters INTEGER NOT NULL DEFAULT 0, -- the value × 4 when status = 'note'
    updated_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (evaluation_id, pupil_id)
);
CREATE INDEX grades_pupil ON grades (pupil_id);
