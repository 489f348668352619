package gateway

// Opcodes, as Discord numbers them.
const (
	opDispatch            = 0
	opHeartbeat           = 1
	opIdentify            = 2
	opPresenceUpdate      = 3
	opVoiceStateUpdate    = 4
	opResume              = 6
	opReconnect           = 7
	opRequestGuildMembers = 8
	opInvalidSession      = 9
	opHello               = 10
	opHeartbeatACK        = 11
)

// Close codes, with Discord's meanings. 4004 and 4010–4014 tell clients not
// to reconnect.
const (
	CloseUnknownError         = 4000
	CloseUnknownOpcode        = 4001
	CloseDecodeError          = 4002
	CloseNotAuthenticated     = 4003
	CloseAuthenticationFailed = 4004
	CloseAlreadyAuthenticated = 4005
	CloseInvalidSeq           = 4007
	CloseRateLimited          = 4008
	CloseSessionTimedOut      = 4009
	CloseInvalidShard         = 4010
	CloseShardingRequired     = 4011
	CloseInvalidAPIVersion    = 4012
	CloseInvalidIntents       = 4013
	CloseDisallowedIntents    = 4014
)

// Limits Discord documents for inbound traffic.
const (
	maxInboundPayload = 4096 // Discord's; Config.MaxPayload
	inboundWindowN    = 120  // events per InboundWindow per connection, Discord's; Config.InboundLimit
)

// Intents is a bit set of gateway intents.
type Intents uint64

// Intent bits (FIELD-NOTES.md). Starred ones in Discord's docs are
// privileged: bots need their application's flag for them.
const (
	IntentGuilds                 Intents = 1 << 0
	IntentGuildMembers           Intents = 1 << 1 // privileged
	IntentGuildModeration        Intents = 1 << 2
	IntentGuildExpressions       Intents = 1 << 3
	IntentGuildIntegrations      Intents = 1 << 4
	IntentGuildWebhooks          Intents = 1 << 5
	IntentGuildInvites           Intents = 1 << 6
	IntentGuildVoiceStates       Intents = 1 << 7
	IntentGuildPresences         Intents = 1 << 8 // privileged
	IntentGuildMessages          Intents = 1 << 9
	IntentGuildMessageReactions  Intents = 1 << 10
	IntentGuildMessageTyping     Intents = 1 << 11
	IntentDirectMessages         Intents = 1 << 12
	IntentDirectMessageReactions Intents = 1 << 13
	IntentDirectMessageTyping    Intents = 1 << 14
	IntentMessageContent         Intents = 1 << 15 // privileged
	IntentGuildScheduledEvents   Intents = 1 << 16
	IntentAutoModConfiguration   Intents = 1 << 20
	IntentAutoModExecution       Intents = 1 << 21
	IntentGuildMessagePolls      Intents = 1 << 24
	IntentDirectMessagePolls     Intents = 1 << 25

	allIntents = IntentGuilds | IntentGuildMembers | IntentGuildModeration | IntentGuildExpressions |
		IntentGuildIntegrations | IntentGuildWebhooks | IntentGuildInvites | IntentGuildVoiceStates |
		IntentGuildPresences | IntentGuildMessages | IntentGuildMessageReactions | IntentGuildMessageTyping |
		IntentDirectMessages | IntentDirectMessageReactions | IntentDirectMessageTyping | IntentMessageContent |
		IntentGuildScheduledEvents | IntentAutoModConfiguration | IntentAutoModExecution |
		IntentGuildMessagePolls | IntentDirectMessagePolls
	privilegedIntents = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
)

// Application flags that grant privileged intents to a bot. The values are
// Discord's and equal clientapi/accounts' Flag* constants, which this
// package may not import.
const (
	AppFlagGatewayPresence              = 1 << 12
	AppFlagGatewayPresenceLimited       = 1 << 13
	AppFlagGatewayGuildMembers          = 1 << 14
	AppFlagGatewayGuildMembersLimited   = 1 << 15
	AppFlagGatewayMessageContent        = 1 << 18
	AppFlagGatewayMessageContentLimited = 1 << 19
)

// allowedIntents is the set a caller may ask for: people's own clients are
// not limited; a bot gets a privileged intent only with its app's flag.
func allowedIntents(c Caller) Intents {
	if !c.Bot {
		return allIntents
	}
	ok := allIntents &^ privilegedIntents
	if c.AppFlags&(AppFlagGatewayGuildMembers|AppFlagGatewayGuildMembersLimited) != 0 {
		ok |= IntentGuildMembers
	}
	if c.AppFlags&(AppFlagGatewayPresence|AppFlagGatewayPresenceLimited) != 0 {
		ok |= IntentGuildPresences
	}
	if c.AppFlags&(AppFlagGatewayMessageContent|AppFlagGatewayMessageContentLimited) != 0 {
		ok |= IntentMessageContent
	}
	return ok
}
