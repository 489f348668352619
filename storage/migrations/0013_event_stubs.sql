-- A room joined with partial state (spec/federation.md, "Joining with
-- partial state") holds the older events it has not fetched yet as stubs:
-- what the joined node said of each, enough to place the events that name
-- it. Backfill replaces a stub with its event; a room with no stub left is
-- whole. A stub of a message.create names its message (msg_id, channel_id;
-- 0 for other types), so that a delete of a message not yet fetched leaves
-- a tombstone.
CREATE TABLE event_stubs (
    event_id      TEXT PRIMARY KEY,
    guild_id      BIGINT NOT NULL,
    type          TEXT NOT NULL,
    sender        BIGINT NOT NULL,
    origin_ts     BIGINT NOT NULL,
    depth         BIGINT NOT NULL,
    state_parents TEXT NOT NULL,
    msg_id        BIGINT NOT NULL,
    channel_id    BIGINT NOT NULL
);
CREATE INDEX event_stubs_guild ON event_stubs (guild_id, depth);
CREATE INDEX event_stubs_msg ON event_stubs (guild_id, msg_id) WHERE msg_id != 0;

-- The log is read in depth order (every event is deeper than its prev and
-- auth events), since backfilled events are stored after those that
-- descend from them.
CREATE INDEX events_guild_depth ON events (guild_id, depth, seq);
-- A message's pins are looked up by target, to apply them once a
-- backfilled message arrives after them.
CREATE INDEX events_pin_target ON events (guild_id, target_id) WHERE type IN ('pin.add', 'pin.remove');
