-- Message search and attachment lookup, derived from the messages
-- projection by the database itself, so that nothing but accept (which
-- writes messages) changes them.
--
-- content_tsv is generated from content with the 'simple' configuration
-- (no stemming, no stop words), which works for every language alike.
-- Erasing a message sets its content to '', which empties its vector.
ALTER TABLE messages ADD COLUMN content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;
CREATE INDEX messages_content_tsv ON messages USING GIN (content_tsv);

-- message_attachments finds a message by the ID of one of its files, for
-- serving /attachments/… and for search's has: filters, and tells whether
-- any message uses a blob before a failed upload deletes it.
CREATE TABLE message_attachments (
    id           BIGINT PRIMARY KEY,
    message_id   BIGINT NOT NULL,
    channel_id   BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    blob         TEXT NOT NULL
);
CREATE INDEX message_attachments_message ON message_attachments (message_id);
CREATE INDEX message_attachments_blob ON message_attachments (blob);

CREATE FUNCTION messages_attachments_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM message_attachments WHERE message_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO message_attachments (id, message_id, channel_id, content_type, blob)
        SELECT (e->>'id')::bigint, NEW.id, NEW.channel_id, COALESCE(e->>'content_type', ''), COALESCE(e->>'blob', '')
        FROM jsonb_array_elements(NEW.attachments::jsonb) e
        ON CONFLICT (id) DO UPDATE SET message_id = excluded.message_id, channel_id = excluded.channel_id,
            content_type = excluded.content_type, blob = excluded.blob;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_attachments_sync AFTER INSERT OR UPDATE OF attachments OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_attachments_sync();
INSERT INTO message_attachments (id, message_id, channel_id, content_type, blob)
SELECT (e->>'id')::bigint, m.id, m.channel_id, COALESCE(e->>'content_type', ''), COALESCE(e->>'blob', '')
FROM messages m, jsonb_array_elements(m.attachments::jsonb) e
ON CONFLICT (id) DO NOTHING;
