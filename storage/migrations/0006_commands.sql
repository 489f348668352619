-- Application commands (slash, user and message commands), kept by the node
-- their application lives on (spec/client-api.md, "Application commands").
-- guild_id 0 is a global command. body is the command as the API shows it,
-- less the fields that are columns.
CREATE TABLE application_commands (
    id             BIGINT PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    guild_id       BIGINT NOT NULL,
    type           SMALLINT NOT NULL,
    name           TEXT NOT NULL,
    version        BIGINT NOT NULL,
    body           TEXT NOT NULL
);
CREATE UNIQUE INDEX application_commands_name ON application_commands (application_id, guild_id, type, name);

-- A guild's overrides of who may use a command; command_id is the
-- application's ID for the overrides of all its commands.
CREATE TABLE application_command_permissions (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    guild_id       BIGINT NOT NULL,
    command_id     BIGINT NOT NULL,
    permissions    TEXT NOT NULL,
    PRIMARY KEY (application_id, guild_id, command_id)
);

-- When commands were created, for Discord's daily limit per scope.
CREATE TABLE application_command_creations (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    guild_id       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX application_command_creations_scope ON application_command_creations (application_id, guild_id, created_at);
