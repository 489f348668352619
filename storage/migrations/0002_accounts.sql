-- Accounts, sessions, bots, settings and relationships (spec/client-api.md).

-- NULL for bots, which never log in with a password.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE users ADD COLUMN verified BOOLEAN NOT NULL DEFAULT FALSE;
-- The blob key (sha256) behind the avatar hash users.avatar.
ALTER TABLE users ADD COLUMN avatar_blob TEXT;

-- A session is one login; its refresh token rotates on every use, and the
-- spent tokens are remembered so that a replay revokes the whole session.
CREATE TABLE sessions (
    id                 BIGINT PRIMARY KEY,
    user_id            BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_hash       BLOB NOT NULL,
    refresh_expires_at BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_used_at       BIGINT NOT NULL,
    ip                 TEXT NOT NULL DEFAULT '',
    user_agent         TEXT NOT NULL DEFAULT '',
    revoked_at         BIGINT
);
CREATE UNIQUE INDEX sessions_refresh ON sessions (refresh_hash);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE spent_refresh_tokens (
    hash       BLOB PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX spent_refresh_tokens_session ON spent_refresh_tokens (session_id);

-- An application's ID is its bot user's ID, as on Discord.
CREATE TABLE applications (
    id                     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    owner_id               BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    icon                   TEXT,
    bot_public             BOOLEAN NOT NULL DEFAULT TRUE,
    bot_require_code_grant BOOLEAN NOT NULL DEFAULT FALSE,
    flags                  BIGINT NOT NULL DEFAULT 0,
    bot_token_hash         BLOB,
    created_at             BIGINT NOT NULL
);
CREATE INDEX applications_owner ON applications (owner_id);

-- Settings are one JSON document per user: only the API reads them whole.
CREATE TABLE user_settings (
    user_id  BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    settings TEXT NOT NULL
);

-- One row per direction: (user, peer, type) as the user sees it. peer_id has
-- no foreign key because peers will also be users of other nodes.
CREATE TABLE relationships (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    peer_id  BIGINT NOT NULL,
    type     SMALLINT NOT NULL,
    nickname TEXT,
    since    BIGINT NOT NULL,
    PRIMARY KEY (user_id, peer_id)
);
CREATE INDEX relationships_peer ON relationships (peer_id);
