-- Node metadata and the users whose home is this node.
CREATE TABLE node_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id           BIGINT PRIMARY KEY,
    username     TEXT NOT NULL,
    global_name  TEXT,
    email        TEXT,
    avatar       TEXT,
    bio          TEXT NOT NULL DEFAULT '',
    bot          BOOLEAN NOT NULL DEFAULT FALSE,
    flags        BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE UNIQUE INDEX users_email ON users (lower(email));
