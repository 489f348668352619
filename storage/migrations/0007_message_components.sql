-- A bot's message may carry components (buttons, selects) and say which
-- interaction it answers (spec/events-types.md, "message.create").
ALTER TABLE messages ADD COLUMN components TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN interaction TEXT NOT NULL DEFAULT '';
