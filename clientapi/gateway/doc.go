// Package gateway is Concord's Discord-compatible real-time gateway: the
// WebSocket half of the client API (Discord's gateway v9/v10, JSON encoding).
//
// It owns the wire protocol (hello, identify, resume, heartbeats, close
// codes, zlib-stream and per-payload compression), sessions and their replay
// buffers, intents, inbound rate limits and fan-out of dispatches to
// sessions. It knows nothing of storage or of how objects are rendered: it
// asks a Provider (clientapi/dispatch) for identities, READY and
// GUILD_CREATE data, member lists and channel visibility, and is handed
// rendered dispatches through Publish. Presence, typing and voice state are
// not its own: it tells the node's live state (Live, federation/live) which
// users are connected and what op 3 and op 4 ask, and their dispatches come
// back through Publish like any other.
//
// Wire flow (Discord's): the server sends op 10 Hello; the client sends op 2
// Identify (or op 6 Resume) and heartbeats (op 1) every heartbeat_interval;
// the server answers READY then one GUILD_CREATE per guild, then dispatches
// (op 0) with a per-session sequence number. A session outlives its
// connection for Config.ResumeWindow so that a client can resume with the
// last sequence it saw and get every dispatch it missed.
//
// Choices where Discord leaves room, documented in spec/ too:
//   - encoding=etf, or a compress= value other than zlib-stream, is closed
//     with 4002 (decode error) right after the upgrade: there is no "invalid
//     encoding" code, and sending JSON to a client that asked for ETF fails
//     more confusingly.
//   - A missing v is taken as 10; any v other than 9 or 10 is closed 4012.
//   - zlib-stream and per-payload compression use stateless deflate blocks
//     (no back-references across messages): the stream stays valid for any
//     inflater, a dispatch body is compressed once for all its recipients,
//     and a connection holds no deflate context.
//
// node builds it; clientapi mounts ServeHTTP and the REST handlers;
// clientapi/dispatch implements Provider and feeds Publish. Of the project
// it imports only federation/snowflake and federation/live.
package gateway
