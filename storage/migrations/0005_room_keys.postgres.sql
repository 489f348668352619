-- Projections keyed by room. A channel, message, invite, reaction or file
-- is an object of one room (guild or DM): two rooms may carry the same ID
-- (spec/events.md, "Snowflakes"), and one room's row must never replace or
-- shadow another's. first_seq records where in this node's log a channel
-- or invite was first stored, so that a bare ID in a route resolves to the
-- one stored first among those the caller may see (spec/client-api.md).

ALTER TABLE channels DROP CONSTRAINT channels_pkey, ADD PRIMARY KEY (guild_id, id),
    ADD COLUMN first_seq BIGINT NOT NULL DEFAULT 0;
UPDATE channels c SET first_seq = COALESCE((SELECT MIN(seq) FROM events e WHERE e.guild_id = c.guild_id), 0);
ALTER TABLE channels ALTER COLUMN first_seq DROP DEFAULT;
DROP INDEX channels_guild;
CREATE INDEX channels_id ON channels (id, first_seq);

ALTER TABLE invites DROP CONSTRAINT invites_pkey, ADD PRIMARY KEY (guild_id, code),
    ADD COLUMN first_seq BIGINT NOT NULL DEFAULT 0;
UPDATE invites i SET first_seq = COALESCE((SELECT MIN(seq) FROM events e WHERE e.guild_id = i.guild_id), 0);
ALTER TABLE invites ALTER COLUMN first_seq DROP DEFAULT;
DROP INDEX invites_guild;
CREATE INDEX invites_code ON invites (code, first_seq);

ALTER TABLE messages DROP CONSTRAINT messages_pkey, ADD PRIMARY KEY (guild_id, id);
DROP INDEX messages_channel;
CREATE INDEX messages_channel ON messages (guild_id, channel_id, id);

ALTER TABLE reactions ADD COLUMN guild_id BIGINT;
UPDATE reactions r SET guild_id = m.guild_id FROM messages m WHERE m.id = r.message_id;
DELETE FROM reactions WHERE guild_id IS NULL;
ALTER TABLE reactions ALTER COLUMN guild_id SET NOT NULL, DROP CONSTRAINT reactions_pkey,
    ADD PRIMARY KEY (guild_id, message_id, emoji, user_id);

ALTER TABLE reaction_clears ADD COLUMN guild_id BIGINT;
UPDATE reaction_clears c SET guild_id = m.guild_id FROM messages m WHERE m.id = c.message_id;
DELETE FROM reaction_clears WHERE guild_id IS NULL;
ALTER TABLE reaction_clears ALTER COLUMN guild_id SET NOT NULL, DROP CONSTRAINT reaction_clears_pkey,
    ADD PRIMARY KEY (guild_id, message_id, emoji);

ALTER TABLE message_attachments ADD COLUMN guild_id BIGINT;
UPDATE message_attachments t SET guild_id = m.guild_id FROM messages m WHERE m.id = t.message_id;
DELETE FROM message_attachments WHERE guild_id IS NULL;
ALTER TABLE message_attachments ALTER COLUMN guild_id SET NOT NULL, DROP CONSTRAINT message_attachments_pkey,
    ADD PRIMARY KEY (guild_id, id);
DROP INDEX message_attachments_message;
CREATE INDEX message_attachments_message ON message_attachments (guild_id, message_id);

CREATE OR REPLACE FUNCTION messages_attachments_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM message_attachments WHERE guild_id = OLD.guild_id AND message_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob)
        SELECT NEW.guild_id, (e->>'id')::bigint, NEW.id, NEW.channel_id, COALESCE(e->>'content_type', ''), COALESCE(e->>'blob', '')
        FROM jsonb_array_elements(NEW.attachments::jsonb) e
        ON CONFLICT (guild_id, id) DO UPDATE SET message_id = excluded.message_id, channel_id = excluded.channel_id,
            content_type = excluded.content_type, blob = excluded.blob;
    END IF;
    RETURN NULL;
END
$$;
