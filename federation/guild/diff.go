package guild

import "reflect"

// Diff lists the objects that differ between two states of one guild, for
// rewriting projections after a fork was resolved.
func Diff(a, b *State) Changes {
	var ch Changes
	ga, gb := *a, *b
	ga.Roles, ga.Channels, ga.Members, ga.Bans, ga.Invites, ga.Emojis, ga.Homes, ga.Webhooks = nil, nil, nil, nil, nil, nil, nil, nil
	gb.Roles, gb.Channels, gb.Members, gb.Bans, gb.Invites, gb.Emojis, gb.Homes, gb.Webhooks = nil, nil, nil, nil, nil, nil, nil, nil
	ga.perm.Roles, gb.perm.Roles = nil, nil
	if !reflect.DeepEqual(ga, gb) {
		ch.add("guild", b.ID)
	}
	diffMap(&ch, "role", a.Roles, b.Roles)
	diffMap(&ch, "channel", a.Channels, b.Channels)
	diffMap(&ch, "member", a.Members, b.Members)
	diffMap(&ch, "ban", a.Bans, b.Bans)
	diffMap(&ch, "emoji", a.Emojis, b.Emojis)
	diffMap(&ch, "webhook", a.Webhooks, b.Webhooks)
	for code, v := range a.Invites {
		if w, ok := b.Invites[code]; !ok || !reflect.DeepEqual(v, w) {
			ch.add("invite", stringer(code))
		}
	}
	for code := range b.Invites {
		if _, ok := a.Invites[code]; !ok {
			ch.add("invite", stringer(code))
		}
	}
	return ch
}

func diffMap[V any](ch *Changes, kind string, a, b map[ID]*V) {
	for id, v := range a {
		if w, ok := b[id]; !ok || !reflect.DeepEqual(v, w) {
			ch.add(kind, id)
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			ch.add(kind, id)
		}
	}
}
