-- The event log of every guild and DM room this node holds, and the
-- projections (read models) that federation's accept path keeps from it.
-- Nothing but accept writes these tables.
CREATE TABLE events (
    seq           SERIAL_PK,
    event_id      TEXT NOT NULL UNIQUE,
    guild_id      BIGINT NOT NULL,
    type          TEXT NOT NULL,
    sender        BIGINT NOT NULL,
    origin_ts     BIGINT NOT NULL,
    depth         BIGINT NOT NULL,
    is_state      BOOLEAN NOT NULL,
    state_parents TEXT NOT NULL,
    auth_rank     BIGINT NOT NULL,
    target_id     BIGINT NOT NULL,
    redacted      BOOLEAN NOT NULL DEFAULT FALSE,
    body          BLOB NOT NULL
);
-- A message's edits are looked up by target, to redact them with it (its
-- create event is named in messages.event_id).
CREATE INDEX events_target ON events (guild_id, target_id) WHERE type = 'message.edit';
CREATE INDEX events_guild_state ON events (guild_id, seq) WHERE is_state;

CREATE TABLE guild_extremities (
    guild_id BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (guild_id, event_id)
);

CREATE TABLE guilds (
    id                            BIGINT PRIMARY KEY,
    kind                          TEXT NOT NULL,
    name                          TEXT NOT NULL,
    icon                          TEXT NOT NULL,
    description                   TEXT NOT NULL,
    owner_id                      BIGINT NOT NULL,
    verification_level            INTEGER NOT NULL,
    default_message_notifications INTEGER NOT NULL,
    explicit_content_filter       INTEGER NOT NULL,
    system_channel_id             BIGINT NOT NULL,
    afk_channel_id                BIGINT NOT NULL,
    afk_timeout                   INTEGER NOT NULL,
    deleted                       BOOLEAN NOT NULL,
    created_by                    BIGINT NOT NULL
);

CREATE TABLE roles (
    guild_id      BIGINT NOT NULL,
    id            BIGINT NOT NULL,
    name          TEXT NOT NULL,
    color         INTEGER NOT NULL,
    hoist         BOOLEAN NOT NULL,
    mentionable   BOOLEAN NOT NULL,
    permissions   BIGINT NOT NULL,
    position      INTEGER NOT NULL,
    icon          TEXT NOT NULL,
    unicode_emoji TEXT NOT NULL,
    PRIMARY KEY (guild_id, id)
);

CREATE TABLE channels (
    id                  BIGINT PRIMARY KEY,
    guild_id            BIGINT NOT NULL,
    type                INTEGER NOT NULL,
    name                TEXT NOT NULL,
    topic               TEXT NOT NULL,
    position            INTEGER NOT NULL,
    parent_id           BIGINT NOT NULL,
    nsfw                BOOLEAN NOT NULL,
    rate_limit_per_user INTEGER NOT NULL,
    bitrate             INTEGER NOT NULL,
    user_limit          INTEGER NOT NULL,
    overwrites          TEXT NOT NULL
);
CREATE INDEX channels_guild ON channels (guild_id);

CREATE TABLE guild_members (
    guild_id       BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    nick           TEXT NOT NULL,
    roles          TEXT NOT NULL,
    joined_at      BIGINT NOT NULL,
    mute           BOOLEAN NOT NULL,
    deaf           BOOLEAN NOT NULL,
    bot            BOOLEAN NOT NULL,
    timed_out_until BIGINT NOT NULL,
    home           TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX guild_members_user ON guild_members (user_id);

CREATE TABLE bans (
    guild_id BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    reason   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE invites (
    code       TEXT PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    inviter_id BIGINT NOT NULL,
    max_age    BIGINT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL,
    temporary  BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX invites_guild ON invites (guild_id);

CREATE TABLE emojis (
    guild_id   BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    name       TEXT NOT NULL,
    animated   BOOLEAN NOT NULL,
    image      TEXT NOT NULL,
    roles      TEXT NOT NULL,
    creator_id BIGINT NOT NULL,
    PRIMARY KEY (guild_id, id)
);

-- One row per message ID. The event that created it is event_id; edits
-- and pins keep the (depth, event ID) of the event that decided them, so
-- that the newest one wins whatever order they arrive in.
CREATE TABLE messages (
    id               ID_PK,
    guild_id         BIGINT NOT NULL,
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
    deleted          BOOLEAN NOT NULL
);
CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_author ON messages (guild_id, author_id, id);

CREATE TABLE reactions (
    message_id BIGINT NOT NULL,
    emoji      TEXT NOT NULL,
    user_id    BIGINT NOT NULL,
    emoji_id   BIGINT NOT NULL,
    emoji_name TEXT NOT NULL,
    present    BOOLEAN NOT NULL,
    decided_by TEXT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- A reaction removal of everything (emoji '') or of one emoji hides every
-- matching reaction decided before it, even one that arrives later.
CREATE TABLE reaction_clears (
    message_id BIGINT NOT NULL,
    emoji      TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    PRIMARY KEY (message_id, emoji)
);

CREATE TABLE audit_log (
    seq         SERIAL_PK,
    guild_id    BIGINT NOT NULL,
    event_id    TEXT NOT NULL,
    user_id     BIGINT NOT NULL,
    action      TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, seq);
