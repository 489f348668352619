-- Friendships and requests with users of other nodes that a user of this
-- node ended (unfriend, cancel, decline, block) and whose home node has
-- not heard of it yet (spec/federation.md, "Friends across nodes"): the
-- node retries until it has. One row per pair; a new request deletes it.
CREATE TABLE friend_outbox (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    peer_id BIGINT NOT NULL,
    home    TEXT NOT NULL,
    queued  BIGINT NOT NULL,
    PRIMARY KEY (user_id, peer_id)
);
