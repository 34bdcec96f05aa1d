-- A live lesson's chat: one conversation of kind 'lesson' per SFU room (the
-- room id the server made for the lesson). class_id stays NULL for these (the
-- unique index on (class_id, kind) keeps one channel of each kind per
-- class); structure_id and the members say where it belongs.
ALTER TABLE conversations ADD COLUMN room TEXT;
CREATE UNIQUE INDEX conversations_room ON conversations (room);
