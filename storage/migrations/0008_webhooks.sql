-- Incoming webhooks (spec/events-types.md, "webhook.create"): the projection
-- of each guild's webhooks (keyed by room, as every projection is), and
-- the SHA-256 of the token of each one this node made. A token is node-local and outlives a rebuild of the
-- projection; it is shown once, when its webhook is made.
CREATE TABLE webhooks (
    guild_id       BIGINT NOT NULL,
    id             BIGINT NOT NULL,
    channel_id     BIGINT NOT NULL,
    name           TEXT NOT NULL,
    avatar         TEXT NOT NULL,
    creator_id     BIGINT NOT NULL,
    application_id BIGINT NOT NULL,
    origin         TEXT NOT NULL,
    PRIMARY KEY (guild_id, id)
);
CREATE INDEX webhooks_id ON webhooks (id);

CREATE TABLE webhook_tokens (
    webhook_id ID_PK,
    guild_id   BIGINT NOT NULL,
    token_hash BLOB NOT NULL
);

-- How a webhook's message shows its author (guild.WebhookAuthor as JSON),
-- or '' for a message a user sent.
ALTER TABLE messages ADD COLUMN webhook TEXT NOT NULL DEFAULT '';
