// Package gateway is Concord's Discord-compatible real-time gateway: the
// WebSocket half of the client API (Discord's gateway v9/v10, JSON encoding).
//
// It owns the wire protocol (hello, identify, resume, heartbeats, close
// codes, zlib-stream and per-payload compression), sessions and their replay
// buffers, intents, inbound rate limits, fan-out of dispatches to sessions,
// presence, typing and in-memory voice states. It knows nothing of storage
// or of how objects are rendered: it asks a Provider (implemented by
// clientapi) for identities, READY and GUILD_CREATE data, member lists and
// channel visibility, and is handed rendered dispatches through Publish.
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
// Only the node (which mounts ServeHTTP) and clientapi (which mounts the
// REST handlers and implements Provider) import this package; it imports
// only federation/snowflake of the project.
package gateway
