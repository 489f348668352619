-- Message search and attachment lookup, kept by triggers on the messages
-- projection so that nothing but accept (which writes messages) changes
-- them, and a rebuild of messages rebuilds them too.
--
-- messages_fts indexes message text. FTS4, not FTS5: mattn/go-sqlite3
-- compiles FTS3/4 in by default, FTS5 only under a build tag every build
-- and test would have to carry. It is an external-content table over
-- messages, keyed by messages' rowid, so the text is stored once. The
-- update trigger fires only when content changes; erasing a message sets
-- its content to '' and so takes its words out of the index.
CREATE VIRTUAL TABLE messages_fts USING fts4(content="messages", content, tokenize=unicode61 "remove_diacritics=2");

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
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

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

CREATE TRIGGER messages_att_ai AFTER INSERT ON messages WHEN new.attachments != '[]' BEGIN
    INSERT OR REPLACE INTO message_attachments (id, message_id, channel_id, content_type, blob)
    SELECT CAST(json_extract(value, '$.id') AS INTEGER), new.id, new.channel_id, COALESCE(json_extract(value, '$.content_type'), ''), COALESCE(json_extract(value, '$.blob'), '')
    FROM json_each(new.attachments);
END;
CREATE TRIGGER messages_att_au AFTER UPDATE OF attachments ON messages BEGIN
    DELETE FROM message_attachments WHERE message_id = old.id;
    INSERT OR REPLACE INTO message_attachments (id, message_id, channel_id, content_type, blob)
    SELECT CAST(json_extract(value, '$.id') AS INTEGER), new.id, new.channel_id, COALESCE(json_extract(value, '$.content_type'), ''), COALESCE(json_extract(value, '$.blob'), '')
    FROM json_each(new.attachments);
END;
CREATE TRIGGER messages_att_ad AFTER DELETE ON messages BEGIN
    DELETE FROM message_attachments WHERE message_id = old.id;
END;
INSERT OR REPLACE INTO message_attachments (id, message_id, channel_id, content_type, blob)
SELECT CAST(json_extract(j.value, '$.id') AS INTEGER), m.id, m.channel_id, COALESCE(json_extract(j.value, '$.content_type'), ''), COALESCE(json_extract(j.value, '$.blob'), '')
FROM messages m, json_each(m.attachments) j;
