-- Voice recordings (spec/voice.md, "Recording") and the blobs each owns:
-- its files and its manifest. A recording's row is written when it starts
-- and each key before its blob is stored, so that a blob sweep never takes
-- a file of a recording being stored; ended_at stays NULL until the
-- manifest is stored. Deleting a recording lets its blobs be swept.
CREATE TABLE recordings (
    id         SERIAL_PK,
    guild_id   BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    started_by BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT,
    manifest   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recordings_channel ON recordings (guild_id, channel_id, started_at);

CREATE TABLE recording_blobs (
    recording_id BIGINT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    blob         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    PRIMARY KEY (recording_id, blob)
);
CREATE INDEX recording_blobs_blob ON recording_blobs (blob);

-- Every column that names a blob is indexed, for the sweep's question
-- "does any row name this key" (storage/blobs.go).
CREATE INDEX users_avatar_blob ON users (avatar_blob);
CREATE INDEX guilds_icon ON guilds (icon);
CREATE INDEX roles_icon ON roles (icon);
CREATE INDEX emojis_image ON emojis (image);
CREATE INDEX webhooks_avatar ON webhooks (avatar);
CREATE INDEX applications_icon ON applications (icon);
