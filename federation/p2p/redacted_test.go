package p2p_test

import (
	"testing"

	"concord/federation/guild"
)

// TestJoinAfterDelete: a guild whose log holds a deleted message, stored
// redacted, is joined and caught up with like any other: the joining node
// accepts the redacted events and everything after them (spec/accept.md,
// "Envelope").
func TestJoinAfterDelete(t *testing.T) {
	for _, driver := range drivers(t) {
		t.Run(driver, func(t *testing.T) {
			nodes := newCluster(t, driver, 2)
			a, b := nodes[0], nodes[1]
			connect(t, b, a)
			g := newGuild(t, a)
			gone := a.core.NewID()
			a.send(t, g.id, g.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: gone, ChannelID: g.channel, Content: "soon gone"})
			edited := "edited, then gone"
			a.send(t, g.id, g.owner, guild.TypeMessageEdit, guild.MessageEdit{ID: gone, ChannelID: g.channel, Content: &edited})
			a.send(t, g.id, g.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: gone, ChannelID: g.channel})
			kept := message(t, a, g, g.owner, "kept")
			ub := join(t, b, g)
			waitFor(t, "a to admit b's user", func() bool { return a.isMember(g.id, ub) })
			if !b.holds(g.id, kept) {
				t.Fatal("b lacks the message after the deleted one")
			}
			converged(t, g.id, a, b)
		})
	}
}
