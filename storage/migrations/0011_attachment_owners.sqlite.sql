-- Who sent each file and its size, for per-user storage quotas
-- (spec/client-api.md, "Storage quota"): the bytes of files a user's
-- messages still carry. The triggers that keep message_attachments from
-- messages fill the new columns; the rows are made anew from messages.
ALTER TABLE message_attachments ADD COLUMN author_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE message_attachments ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX message_attachments_author ON message_attachments (author_id);

DROP TRIGGER messages_att_ai;
DROP TRIGGER messages_att_au;
CREATE TRIGGER messages_att_ai AFTER INSERT ON messages WHEN new.attachments != '[]' BEGIN
    INSERT OR REPLACE INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob, author_id, size)
    SELECT new.guild_id, CAST(json_extract(value, '$.id') AS INTEGER), new.id, new.channel_id, COALESCE(json_extract(value, '$.content_type'), ''),
        COALESCE(json_extract(value, '$.blob'), ''), new.author_id, COALESCE(json_extract(value, '$.size'), 0)
    FROM json_each(new.attachments);
END;
CREATE TRIGGER messages_att_au AFTER UPDATE OF attachments ON messages BEGIN
    DELETE FROM message_attachments WHERE guild_id = old.guild_id AND message_id = old.id;
    INSERT OR REPLACE INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob, author_id, size)
    SELECT new.guild_id, CAST(json_extract(value, '$.id') AS INTEGER), new.id, new.channel_id, COALESCE(json_extract(value, '$.content_type'), ''),
        COALESCE(json_extract(value, '$.blob'), ''), new.author_id, COALESCE(json_extract(value, '$.size'), 0)
    FROM json_each(new.attachments);
END;

DELETE FROM message_attachments;
INSERT OR REPLACE INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob, author_id, size)
SELECT m.guild_id, CAST(json_extract(j.value, '$.id') AS INTEGER), m.id, m.channel_id, COALESCE(json_extract(j.value, '$.content_type'), ''),
    COALESCE(json_extract(j.value, '$.blob'), ''), m.author_id, COALESCE(json_extract(j.value, '$.size'), 0)
FROM messages m, json_each(m.attachments) j;
