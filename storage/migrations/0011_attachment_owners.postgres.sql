-- Who sent each file and its size, for per-user storage quotas
-- (spec/client-api.md, "Storage quota"): the bytes of files a user's
-- messages still carry. The trigger that keeps message_attachments from
-- messages fills the new columns; existing rows are filled from messages.
ALTER TABLE message_attachments ADD COLUMN author_id BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX message_attachments_author ON message_attachments (author_id);

CREATE OR REPLACE FUNCTION messages_attachments_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM message_attachments WHERE guild_id = OLD.guild_id AND message_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob, author_id, size)
        SELECT NEW.guild_id, (e->>'id')::bigint, NEW.id, NEW.channel_id, COALESCE(e->>'content_type', ''), COALESCE(e->>'blob', ''),
            NEW.author_id, COALESCE((e->>'size')::bigint, 0)
        FROM jsonb_array_elements(NEW.attachments::jsonb) e
        ON CONFLICT (guild_id, id) DO UPDATE SET message_id = excluded.message_id, channel_id = excluded.channel_id,
            content_type = excluded.content_type, blob = excluded.blob, author_id = excluded.author_id, size = excluded.size;
    END IF;
    RETURN NULL;
END
$$;

UPDATE message_attachments t SET author_id = m.author_id, size = COALESCE((e->>'size')::bigint, 0)
FROM messages m, jsonb_array_elements(m.attachments::jsonb) e
WHERE m.guild_id = t.guild_id AND m.id = t.message_id AND (e->>'id')::bigint = t.id;
