// Package auth proves who is calling the client API. It signs and verifies
// access tokens (RS256 JWTs from a rotating keyring kept in the data dir),
// keeps login sessions with rotating refresh tokens in storage, checks bot
// tokens, and resolves the Authorization header into a Caller stored in the
// request context.
//
// Every part of clientapi that needs the caller imports this package: REST
// handlers use Require and CallerFrom, the gateway calls Authenticate with
// the token from IDENTIFY. spec/client-api.md ("Tokens") is the contract.
package auth
