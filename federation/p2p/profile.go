package p2p

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/canonical"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// Profile bounds (spec/federation.md, "Remote users").
const (
	maxProfileIDs = 100
	maxUsername   = 100
	profileTTL    = 10 * time.Minute // how long a fetched profile is not asked for again
	profileQueue  = 1024
)

// Profile is a user's public profile as their home node signs it.
type Profile struct {
	ID         snowflake.ID `json:"id"`
	Username   string       `json:"username"`
	GlobalName string       `json:"global_name,omitempty"`
	Bot        bool         `json:"bot,omitempty"`
	Avatar     string       `json:"avatar,omitempty"` // the avatar's file: the SHA-256 of its bytes, hex
	Node       string       `json:"node"`             // the home node's name
	Origin     string       `json:"origin"`           // the home node's peer ID
	SignedTS   int64        `json:"signed_ts"`
	Signature  string       `json:"signature,omitempty"` // base64url Ed25519 of the canonical form without it
}

// Directory is the node's user directory as federation needs it.
type Directory interface {
	// LocalProfiles returns the profiles of those of ids that are this
	// node's own users; federation fills in Node, Origin and the
	// signature.
	LocalProfiles(ctx context.Context, ids []snowflake.ID) ([]Profile, error)
	// StoreProfiles keeps remote users' verified profiles.
	StoreProfiles(ctx context.Context, profiles []Profile) error
	// Blocked reports whether either of two users blocked the other.
	Blocked(ctx context.Context, a, b snowflake.ID) (bool, error)
	// Friends reports whether two users are friends.
	Friends(ctx context.Context, a, b snowflake.ID) (bool, error)
}

func (p *Profile) signingInput() ([]byte, error) {
	c := *p
	c.Signature = ""
	return canonicalJSON(c)
}

// canonicalJSON is what a node signs of a profile or a live signal.
func canonicalJSON(v any) ([]byte, error) { return canonical.Marshal(v) }

// signBytes signs in with key: unpadded base64url Ed25519.
func signBytes(key crypto.PrivKey, in []byte) (string, error) {
	sig, err := key.Sign(in)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sig), nil
}

// verifyBytes checks that sig is origin's signature of in.
func verifyBytes(origin peer.ID, in []byte, sig string) error {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	key, err := origin.ExtractPublicKey()
	if err != nil {
		return err
	}
	if ok, err := key.Verify(in, raw); err != nil || !ok {
		return errors.New("bad signature")
	}
	return nil
}

// sign signs p as this node's.
func (f *Federation) sign(p *Profile) error {
	p.Node, p.Origin, p.SignedTS = f.cfg.NodeName, f.host.ID().String(), time.Now().UnixMilli()
	return p.signWith(f.host.Peerstore().PrivKey(f.host.ID()))
}

// signWith sets p's signature by key, the key of p.Origin.
func (p *Profile) signWith(key crypto.PrivKey) error {
	in, err := p.signingInput()
	if err == nil {
		p.Signature, err = signBytes(key, in)
	}
	return err
}

// verify checks that p is signed by home and well-formed.
func (p *Profile) verify(home peer.ID) error {
	if p.Origin != home.String() {
		return fmt.Errorf("profile of %s signed by %s, not its home %s", p.ID, p.Origin, home)
	}
	if p.Username == "" || len(p.Username) > maxUsername || len(p.GlobalName) > maxUsername || len(p.Node) > maxUsername {
		return fmt.Errorf("profile of %s: bad name lengths", p.ID)
	}
	if p.Avatar != "" && !isFileKey(p.Avatar) {
		return fmt.Errorf("profile of %s: an avatar that names no file", p.ID)
	}
	in, err := p.signingInput()
	if err != nil {
		return err
	}
	if err := verifyBytes(home, in, p.Signature); err != nil {
		return fmt.Errorf("profile of %s: %w", p.ID, err)
	}
	return nil
}

type profileReq struct {
	UserIDs []snowflake.ID `json:"user_ids"`
}

type profileResp struct {
	Profiles []Profile `json:"profiles"`
}

func (f *Federation) serveProfile(_ network.Stream, req *profileReq) (any, error) {
	if len(req.UserIDs) > maxProfileIDs {
		return nil, fmt.Errorf("%d users, at most %d", len(req.UserIDs), maxProfileIDs)
	}
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	out := profileResp{Profiles: []Profile{}}
	if f.cfg.Directory == nil {
		return out, nil
	}
	profiles, err := f.cfg.Directory.LocalProfiles(ctx, req.UserIDs)
	if err != nil {
		return nil, err
	}
	for _, p := range profiles {
		if err := f.sign(&p); err != nil {
			return nil, err
		}
		out.Profiles = append(out.Profiles, p)
	}
	return out, nil
}

// wanted is a remote user whose profile is to be fetched from their home:
// once per profileTTL, or at once when their home said it changed.
type wanted struct {
	home    peer.ID
	user    snowflake.ID
	changed bool
}

// wantProfile queues a remote user's profile for fetching; it never blocks.
func (f *Federation) wantProfile(home peer.ID, user snowflake.ID) {
	f.queueProfile(wanted{home: home, user: user})
}

func (f *Federation) queueProfile(w wanted) {
	if f.cfg.Directory == nil {
		return
	}
	select {
	case f.profiles <- w:
	default: // fetched with the user's next event
	}
}

// ProfileChanged tells the nodes that share a room with a user of this
// node that the user's profile changed (a profile signal on each room's
// live topic), so that they fetch it again. It never blocks.
func (f *Federation) ProfileChanged(user snowflake.ID) {
	select {
	case f.profileOut <- user:
	default: // the others see it within profileTTL
	}
}

// homedIn lists the rooms with a live topic where user is a member whose
// home is this node.
func (f *Federation) homedIn(user snowflake.ID) []*topic {
	self := f.host.ID().String()
	var out []*topic
	for _, tp := range f.rooms() {
		if tp.live == nil {
			continue
		}
		f.core.View(f.ctx, tp.gid, func(s *guild.State) error {
			if s.Members[user] != nil && s.Homes[user] == self {
				out = append(out, tp)
			}
			return nil
		})
	}
	return out
}

// fetchProfiles fetches queued profiles, batched by home node, at most
// once per profileTTL per user.
func (f *Federation) fetchProfiles() {
	fresh := map[snowflake.ID]time.Time{}
	for {
		var first wanted
		select {
		case <-f.ctx.Done():
			return
		case first = <-f.profiles:
		}
		batch := map[peer.ID][]snowflake.ID{}
		now := time.Now()
		if len(fresh) > 100_000 {
			clear(fresh)
		}
		for w, more := first, true; more; {
			// A change announced in several rooms at once is fetched once.
			if t, ok := fresh[w.user]; w.changed && t != now || !ok || now.Sub(t) > profileTTL {
				fresh[w.user] = now
				if len(batch[w.home]) < maxProfileIDs {
					batch[w.home] = append(batch[w.home], w.user)
				}
			}
			select {
			case w = <-f.profiles:
			default:
				more = false
			}
		}
		for home, ids := range batch {
			if err := f.fetchProfilesFrom(home, ids); err != nil && f.ctx.Err() == nil {
				f.log.Debug("federation: profiles", "peer", home, "err", err)
				for _, id := range ids {
					delete(fresh, id) // asked again with the user's next event
				}
			}
		}
	}
}

func (f *Federation) fetchProfilesFrom(home peer.ID, ids []snowflake.ID) error {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	var resp profileResp
	if err := f.call(ctx, home, ProtoProfile, profileReq{UserIDs: ids}, &resp); err != nil {
		return err
	}
	asked := map[snowflake.ID]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	var good []Profile
	var errs []error
	for _, p := range resp.Profiles {
		if !asked[p.ID] {
			errs = append(errs, fmt.Errorf("profile of %s not asked for", p.ID))
			continue
		}
		if err := p.verify(home); err != nil {
			errs = append(errs, err)
			continue
		}
		good = append(good, p)
	}
	if len(good) > 0 {
		errs = append(errs, f.cfg.Directory.StoreProfiles(ctx, good))
	}
	return errors.Join(errs...)
}
