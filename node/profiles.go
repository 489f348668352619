package node

import (
	"context"
	"encoding/json"

	"concord/clientapi/accounts"
	"concord/clientapi/objects"
	"concord/federation/p2p"
	"concord/federation/snowflake"
)

// directory is the user directory federation reads and feeds: this node's
// users from the users table, remote users' signed profiles kept as node
// metadata under objects.RemoteUserKey, where the client API renders them
// from. It reaches the node's storage and its renderer, whose cached
// users a stored profile replaces.
type directory struct{ n *Node }

func (d directory) LocalProfiles(ctx context.Context, ids []snowflake.ID) ([]p2p.Profile, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := d.n.db.Reader().QueryContext(ctx, `SELECT id, username, COALESCE(global_name, ''), bot, COALESCE(avatar_blob, '') FROM users
		WHERE id IN (?`+objects.Placeholders(len(ids)-1)+`)`, objects.Int64Args(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []p2p.Profile
	for rows.Next() {
		var p p2p.Profile
		if err := rows.Scan(&p.ID, &p.Username, &p.GlobalName, &p.Bot, &p.Avatar); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (d directory) Blocked(ctx context.Context, a, b snowflake.ID) (bool, error) {
	return accounts.Blocked(ctx, d.n.db.Reader(), a, b)
}

func (d directory) Friends(ctx context.Context, a, b snowflake.ID) (bool, error) {
	return accounts.Friends(ctx, d.n.db.Reader(), a, b)
}

func (d directory) StoreProfiles(ctx context.Context, profiles []p2p.Profile) error {
	for _, p := range profiles {
		body, err := json.Marshal(objects.RemoteUser{Username: p.Username, GlobalName: p.GlobalName, Bot: p.Bot, Avatar: p.Avatar,
			Node: p.Node, Origin: p.Origin})
		if err != nil {
			return err
		}
		if err := d.n.db.SetMeta(ctx, objects.RemoteUserKey(p.ID), string(body)); err != nil {
			return err
		}
		d.n.render.ForgetUser(p.ID)
	}
	return nil
}

// userChanges is told when a user of this node changes their profile: the
// renderer drops its copy, and federation tells the nodes that share a
// room with them.
type userChanges struct{ n *Node }

func (u userChanges) ForgetUser(id snowflake.ID) {
	u.n.render.ForgetUser(id)
	u.n.fed.ProfileChanged(id)
}
