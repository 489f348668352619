-- Projections keyed by room. A channel, message, invite, reaction or file
-- is an object of one room (guild or DM): two rooms may carry the same ID
-- (spec/events.md, "Snowflakes"), and one room's row must never replace or
-- shadow another's. first_seq records where in this node's log a channel
-- or invite was first stored, so that a bare ID in a route resolves to the
-- one stored first among those the caller may see (spec/client-api.md).
--
-- SQLite cannot change a primary key: each table is made anew and
-- refilled. messages keeps its rowids, which the text index refers to.

CREATE TABLE channels_new (
    guild_id            BIGINT NOT NULL,
    id                  BIGINT NOT NULL,
    type                INTEGER NOT NULL,
    name                TEXT NOT NULL,
    topic               TEXT NOT NULL,
    position            INTEGER NOT NULL,
    parent_id           BIGINT NOT NULL,
    nsfw                BOOLEAN NOT NULL,
    rate_limit_per_user INTEGER NOT NULL,
    bitrate             INTEGER NOT NULL,
    user_limit          INTEGER NOT NULL,
    overwrites          TEXT NOT NULL,
    first_seq           BIGINT NOT NULL,
    PRIMARY KEY (guild_id, id)
);
INSERT INTO channels_new SELECT c.guild_id, c.id, c.type, c.name, c.topic, c.position, c.parent_id, c.nsfw,
    c.rate_limit_per_user, c.bitrate, c.user_limit, c.overwrites,
    COALESCE((SELECT MIN(seq) FROM events e WHERE e.guild_id = c.guild_id), 0) FROM channels c;
DROP TABLE channels;
ALTER TABLE channels_new RENAME TO channels;
CREATE INDEX channels_id ON channels (id, first_seq);

CREATE TABLE invites_new (
    guild_id   BIGINT NOT NULL,
    code       TEXT NOT NULL,
    channel_id BIGINT NOT NULL,
    inviter_id BIGINT NOT NULL,
    max_age    BIGINT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL,
    temporary  BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    first_seq  BIGINT NOT NULL,
    PRIMARY KEY (guild_id, code)
);
INSERT INTO invites_new SELECT i.guild_id, i.code, i.channel_id, i.inviter_id, i.max_age, i.max_uses, i.uses,
    i.temporary, i.created_at, COALESCE((SELECT MIN(seq) FROM events e WHERE e.guild_id = i.guild_id), 0) FROM invites i;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;
CREATE INDEX invites_code ON invites (code, first_seq);

CREATE TABLE messages_new (
    guild_id         BIGINT NOT NULL,
    id               BIGINT NOT NULL,
    channel_id       BIGINT NOT NULL,
    author_id        BIGINT NOT NULL,
    event_id         TEXT NOT NULL,
    depth            BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    content          TEXT NOT NULL,
    embeds           TEXT NOT NULL,
    attachments      TEXT NOT NULL,
    mentions         TEXT NOT NULL,
    mention_roles    TEXT NOT NULL,
    mention_everyone BOOLEAN NOT NULL,
    tts              BOOLEAN NOT NULL,
    flags            INTEGER NOT NULL,
    nonce            TEXT NOT NULL,
    reference_id     BIGINT NOT NULL,
    edited_at        BIGINT NOT NULL,
    edit_order       TEXT NOT NULL,
    pinned           BOOLEAN NOT NULL,
    pin_order        TEXT NOT NULL,
    pinned_at        BIGINT NOT NULL,
    hidden           BOOLEAN NOT NULL,
    deleted          BOOLEAN NOT NULL,
    UNIQUE (guild_id, id)
);
INSERT INTO messages_new (rowid, guild_id, id, channel_id, author_id, event_id, depth, created_at, content, embeds,
    attachments, mentions, mention_roles, mention_everyone, tts, flags, nonce, reference_id, edited_at, edit_order,
    pinned, pin_order, pinned_at, hidden, deleted)
SELECT id, guild_id, id, channel_id, author_id, event_id, depth, created_at, content, embeds, attachments, mentions,
    mention_roles, mention_everyone, tts, flags, nonce, reference_id, edited_at, edit_order, pinned, pin_order,
    pinned_at, hidden, deleted FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_channel ON messages (guild_id, channel_id, id);
CREATE INDEX messages_author ON messages (guild_id, author_id, id);

CREATE TRIGGER messages_fts_bu BEFORE UPDATE OF content ON messages BEGIN
    DELETE FROM messages_fts WHERE docid = old.rowid;
END;
CREATE TRIGGER messages_fts_bd BEFORE DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE docid = old.rowid;
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (docid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.content != '' BEGIN
    INSERT INTO messages_fts (docid, content) VALUES (new.rowid, new.content);
END;

CREATE TABLE reactions_new (
    guild_id   BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    emoji      TEXT NOT NULL,
    user_id    BIGINT NOT NULL,
    emoji_id   BIGINT NOT NULL,
    emoji_name TEXT NOT NULL,
    present    BOOLEAN NOT NULL,
    decided_by TEXT NOT NULL,
    PRIMARY KEY (guild_id, message_id, emoji, user_id)
);
INSERT INTO reactions_new SELECT m.guild_id, r.message_id, r.emoji, r.user_id, r.emoji_id, r.emoji_name, r.present,
    r.decided_by FROM reactions r JOIN messages m ON m.id = r.message_id;
DROP TABLE reactions;
ALTER TABLE reactions_new RENAME TO reactions;

CREATE TABLE reaction_clears_new (
    guild_id   BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    emoji      TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    PRIMARY KEY (guild_id, message_id, emoji)
);
INSERT INTO reaction_clears_new SELECT m.guild_id, c.message_id, c.emoji, c.decided_by
    FROM reaction_clears c JOIN messages m ON m.id = c.message_id;
DROP TABLE reaction_clears;
ALTER TABLE reaction_clears_new RENAME TO reaction_clears;

DROP TABLE message_attachments;
CREATE TABLE message_attachments (
    guild_id     BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    message_id   BIGINT NOT NULL,
    channel_id   BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    blob         TEXT NOT NULL,
    PRIMARY KEY (guild_id, id)
);
CREATE INDEX message_attachments_message ON message_attachments (guild_id, message_id);
CREATE INDEX message_attachments_blob ON message_attachments (blob);

CREATE TRIGGER messages_att_ai AFTER INSERT ON messages WHEN new.attachments != '[]' BEGIN
    INSERT OR REPLACE INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob)
    SELECT new.guild_id, CAST(json_extract(value, '$.id') AS INTEGER), new.id, new.channel_id, COALESCE(json_extract(value, '$.content_type'), ''), COALESCE(json_extract(value, '$.blob'), '')
    FROM json_each(new.attachments);
END;
CREATE TRIGGER messages_att_au AFTER UPDATE OF attachments ON messages BEGIN
    DELETE FROM message_attachments WHERE guild_id = old.guild_id AND message_id = old.id;
    INSERT OR REPLACE INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob)
    SELECT new.guild_id, CAST(json_extract(value, '$.id') AS INTEGER), new.id, new.channel_id, COALESCE(json_extract(value, '$.content_type'), ''), COALESCE(json_extract(value, '$.blob'), '')
    FROM json_each(new.attachments);
END;
CREATE TRIGGER messages_att_ad AFTER DELETE ON messages BEGIN
    DELETE FROM message_attachments WHERE guild_id = old.guild_id AND message_id = old.id;
END;
INSERT OR REPLACE INTO message_attachments (guild_id, id, message_id, channel_id, content_type, blob)
SELECT m.guild_id, CAST(json_extract(j.value, '$.id') AS INTEGER), m.id, m.channel_id, COALESCE(json_extract(j.value, '$.content_type'), ''), COALESCE(json_extract(j.value, '$.blob'), '')
FROM messages m, json_each(m.attachments) j;
