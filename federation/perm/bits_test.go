package perm

import (
	"encoding/json"
	"math/bits"
	"testing"
)

func TestBitSets(t *testing.T) {
	if got := bits.OnesCount64(uint64(All)); got != 52 {
		t.Errorf("All has %d bits, want 52 (0–46, 48–52)", got)
	}
	// Discord's table leaves these without a channel type.
	guildOnly := KickMembers | BanMembers | Administrator | ManageGuild |
		ViewAuditLog | ViewGuildInsights | ChangeNickname | ManageNicknames |
		ManageGuildExpressions | ModerateMembers |
		ViewCreatorMonetizationAnalytics | CreateGuildExpressions
	if ChannelMask&guildOnly != 0 || ChannelMask|guildOnly != All {
		t.Errorf("ChannelMask %d and guild-only %d do not split All %d", ChannelMask, guildOnly, All)
	}
	if DefaultEveryone&^All != 0 || DefaultEveryone&(guildOnly&^ChangeNickname) != 0 {
		t.Errorf("DefaultEveryone %d holds undefined or moderator bits", DefaultEveryone)
	}
	if DefaultEveryone != 1799872721702465 {
		t.Errorf("DefaultEveryone = %d, want 1799872721702465 (spec/permissions.md)", DefaultEveryone)
	}
	// Discord's documented example: Send Messages and Add Reactions.
	if b := SendMessages | AddReactions; b != 2112 {
		t.Errorf("SEND_MESSAGES|ADD_REACTIONS = %d, want 2112", b)
	}
}

func TestParseAndJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bits
		ok   bool
	}{
		{"0", 0, true},
		{"2112", 2112, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"", 0, false},
		{"01", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
		{"18446744073709551616", 0, false},
	} {
		got, err := ParseBits(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBits(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}

	b, err := json.Marshal(struct{ P Bits }{DefaultEveryone})
	if err != nil || string(b) != `{"P":"1799872721702465"}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
	for _, tc := range []struct {
		in   string
		want Bits
		ok   bool
	}{
		{`"2112"`, 2112, true},
		{`2112`, 2112, true},
		{`null`, 7, true}, // left unchanged
		{`"01"`, 0, false},
		{`-1`, 0, false},
		{`2112.0`, 0, false},
		{`true`, 0, false},
	} {
		got := Bits(7)
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
