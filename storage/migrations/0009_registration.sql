-- Registration modes and operator commands (spec/client-api.md,
-- "Registration"): a disabled account cannot log in, and tokens an
-- operator makes let someone register on a node whose registration
-- needs an invite. Only the SHA-256 of a token is kept.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

CREATE TABLE registration_tokens (
    hash       BLOB PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    uses_left  INTEGER NOT NULL
);
