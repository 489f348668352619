package gateway

import (
	"context"
	"encoding/json"
	"errors"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// Caller is who a gateway token belongs to.
type Caller struct {
	UserID snowflake.ID
	// Session is the login session the token belongs to; zero for bots,
	// whose token is the credential. EndSessions names it.
	Session  snowflake.ID
	Bot      bool
	AppFlags uint64 // the bot's application flags (privileged intents)
}

// ErrBadToken is what Provider.Authenticate returns for a token it refuses;
// the connection is closed with 4004. Any other error closes with 4000.
var ErrBadToken = errors.New("gateway: authentication failed")

// ReadyData is what READY needs from storage.
type ReadyData struct {
	User            json.RawMessage // the user object
	Guilds          []snowflake.ID  // guilds the user is a member of
	PrivateChannels json.RawMessage // JSON array of DM channel objects; nil: []
	DMRooms         []snowflake.ID  // DM rooms (channel IDs) whose events the sessions hear
	Presences       json.RawMessage // JSON array of friends' presences; nil: []
	ApplicationID   snowflake.ID    // bots: their application
}

// MemberQuery is an op 8 request for one guild.
type MemberQuery struct {
	Query     string         // username / nick prefix; used when UserIDs is empty
	Limit     int            // 0: no limit (the gateway checks GUILD_MEMBERS first)
	UserIDs   []snowflake.ID // exact members, at most 100
	Presences bool           // also the presences of those found who are online
}

// Members is the answer to a MemberQuery.
type Members struct {
	Members   []json.RawMessage // member objects
	Presences []json.RawMessage // presence updates, when asked for
	NotFound  []snowflake.ID    // of the UserIDs asked for
}

// GuildCreateOptions is what a session asks of a GUILD_CREATE.
type GuildCreateOptions struct {
	LargeThreshold int  // more members than this: only the user is listed
	Presences      bool // the session has GUILD_PRESENCES
	VoiceStates    bool // the session has GUILD_VOICE_STATES
}

// Provider is what the gateway needs from the rest of the node;
// clientapi/dispatch implements it over storage, the event core and the
// live state. Its methods are called
// from connection goroutines and from Publish, so they must be safe for
// concurrent use and must never call back into the Gateway.
type Provider interface {
	// Authenticate resolves the token of an identify or resume, as the
	// client sent it: "Bot x" (discordgo), a bare bot token (discord.js),
	// or a user token. A refused token is ErrBadToken.
	Authenticate(ctx context.Context, token string) (Caller, error)
	// Ready returns the data of READY for user.
	Ready(ctx context.Context, userID snowflake.ID) (ReadyData, error)
	// GuildCreate renders the GUILD_CREATE object of guildID as userID sees
	// it: the guild with channels the user can view, roles, members,
	// member_count, large, joined_at, and presences and voice_states (empty
	// unless asked for).
	GuildCreate(ctx context.Context, guildID, userID snowflake.ID, opt GuildCreateOptions) (json.RawMessage, error)
	// Members renders the guild member objects matching q, and for
	// q.UserIDs the IDs that are not members.
	Members(ctx context.Context, guildID snowflake.ID, q MemberQuery) (Members, error)
	// StillValid reports whether the credential a connection identified
	// with still holds: a login session not revoked since (by another
	// process on the same database, such as the operator's command).
	// Access tokens expiring does not end a connection, as on Discord.
	StillValid(ctx context.Context, c Caller) (bool, error)
	// CanView reports whether userID has VIEW_CHANNEL in channelID. It is
	// called often (the gateway caches answers per session and channel
	// until the guild's state changes) and must be answered from memory.
	CanView(guildID, channelID, userID snowflake.ID) bool
}

// Live is the node's live state (federation/live's Hub) as the gateway
// feeds it: connections coming and going, and what op 3 and op 4 ask.
type Live interface {
	Connect(userID snowflake.ID, req *live.Request)
	Disconnect(userID snowflake.ID)
	SetPresence(userID snowflake.ID, req live.Request)
	SetVoice(v live.VoiceState)
}

// Dispatch is one event as the gateway sends it, rendered once by the
// publisher and shared by all recipients.
type Dispatch struct {
	Type string // MESSAGE_CREATE, GUILD_UPDATE, …
	// GuildID routes the dispatch to sessions of the guild's members (or of
	// a DM room's recipients: a DM's room ID is its channel ID). Zero: use
	// UserIDs.
	GuildID snowflake.ID
	// ChannelID, when not zero and not GuildID, limits recipients to users
	// who can view the channel.
	ChannelID snowflake.ID
	// Intent lists the intents a session needs for this dispatch (all of
	// them); zero: every session gets it.
	Intent  Intents
	Payload json.RawMessage
	// PayloadNoContent is, for MESSAGE_*, the payload without content,
	// embeds, attachments and components: what a bot lacking
	// MESSAGE_CONTENT gets unless it is in ContentUsers.
	PayloadNoContent json.RawMessage
	// ContentUsers see content without MESSAGE_CONTENT: the author and the
	// users a message mentions.
	ContentUsers []snowflake.ID
	// UserIDs, for user-scoped events (RELATIONSHIP_*, USER_UPDATE, a DM
	// created), are the users whose sessions get it.
	UserIDs []snowflake.ID
}

// permissionTypes are dispatches after which a guild's cached VIEW_CHANNEL
// answers may be stale.
var permissionTypes = map[string]bool{
	"GUILD_UPDATE": true, "GUILD_ROLE_CREATE": true, "GUILD_ROLE_UPDATE": true, "GUILD_ROLE_DELETE": true,
	"CHANNEL_CREATE": true, "CHANNEL_UPDATE": true, "CHANNEL_DELETE": true,
	"GUILD_MEMBER_ADD": true, "GUILD_MEMBER_UPDATE": true, "GUILD_MEMBER_REMOVE": true,
}
