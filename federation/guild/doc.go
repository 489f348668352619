// Package guild is the guild state machine: the content of every event type
// (spec/events-types.md), the guild state those events build, and the auth
// rules that decide whether an event may change it (spec/auth-rules.md).
//
// It is pure and deterministic: no clocks, storage or network. Times come
// from the event (origin_ts). The federation core folds events through Apply
// in the order state resolution picks; the REST API may call the same checks
// to refuse a request early. Only federation packages and clientapi import it.
package guild
