-- Blocks across nodes (spec/federation.md, "Friends across nodes"): a
-- user of another node who blocked a user of this node says so, and this
-- node then refuses what its user would send them, as it does for a block
-- between two of its own users. Discord never shows a user who blocked
-- them, so the row is no relationship.
CREATE TABLE blocked_by (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    by_id   BIGINT NOT NULL,
    since   BIGINT NOT NULL,
    PRIMARY KEY (user_id, by_id)
);
CREATE INDEX blocked_by_by ON blocked_by (by_id);

-- A removal waiting in the outbox may be a block.
ALTER TABLE friend_outbox ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT FALSE;
