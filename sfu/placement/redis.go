package placement

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Registry the nodes share. Keys, under the namespace ns:
//
//	ns:live:node:<id>   the node's last beat (JSON), expiring after the TTL
//	ns:live:nodes       the ids of the nodes that beat (a set, pruned on read)
//	ns:live:room:<id>   hash {node, meta}: where the room runs, what it is
//	ns:live:rooms       the placed rooms' ids (a set)
//
// Claims, moves and releases are Lua scripts, so that each is one atomic
// compare-and-set however many nodes race.
type Redis struct {
	rdb *redis.Client
	ns  string
	ttl time.Duration
}

// NewRedis returns the registry on rdb (owned by the caller) under the
// namespace ns; a node expires ttl after its last beat.
func NewRedis(rdb *redis.Client, ns string, ttl time.Duration) *Redis {
	return &Redis{rdb: rdb, ns: ns, ttl: ttl}
}

func (r *Redis) nodeKey(id string) string { return r.ns + ":live:node:" + id }
func (r *Redis) nodesKey() string         { return r.ns + ":live:nodes" }
func (r *Redis) roomKey(id string) string { return r.ns + ":live:room:" + id }
func (r *Redis) roomsKey() string         { return r.ns + ":live:rooms" }

func (r *Redis) Beat(ctx context.Context, n Node) error {
	n.At = time.Now().UTC()
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, r.nodeKey(n.ID), b, r.ttl)
		p.SAdd(ctx, r.nodesKey(), n.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("placement: beat: %w", err)
	}
	return nil
}

func (r *Redis) Leave(ctx context.Context, id string) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.nodeKey(id))
		p.SRem(ctx, r.nodesKey(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("placement: leave: %w", err)
	}
	return nil
}

func (r *Redis) Nodes(ctx context.Context) ([]Node, error) {
	ids, err := r.rdb.SMembers(ctx, r.nodesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("placement: nodes: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.nodeKey(id)
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("placement: nodes: %w", err)
	}
	out := make([]Node, 0, len(ids))
	var gone []any
	for i, v := range vals {
		s, ok := v.(string)
		var n Node
		if !ok || json.Unmarshal([]byte(s), &n) != nil {
			gone = append(gone, ids[i]) // expired: its beats stopped
			continue
		}
		out = append(out, n)
	}
	if len(gone) > 0 {
		// Best effort: a node beating again between MGET and SREM adds
		// itself back at its next beat.
		r.rdb.SRem(ctx, r.nodesKey(), gone...)
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

var claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGET', KEYS[1], 'node'), redis.call('HGET', KEYS[1], 'meta')}
end
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'meta', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return {1, ARGV[1], ARGV[2]}`)

func (r *Redis) Claim(ctx context.Context, room Room) (Room, bool, error) {
	res, err := claimScript.Run(ctx, r.rdb, []string{r.roomKey(room.ID), r.roomsKey()}, room.Node, string(room.Meta), room.ID).Slice()
	if err != nil {
		return Room{}, false, fmt.Errorf("placement: claim %s: %w", room.ID, err)
	}
	if len(res) != 3 {
		return Room{}, false, fmt.Errorf("placement: claim %s: answer %v", room.ID, res)
	}
	placed, _ := res[0].(int64)
	node, _ := res[1].(string)
	meta, _ := res[2].(string)
	out := Room{ID: room.ID, Node: node}
	if meta != "" {
		out.Meta = json.RawMessage(meta)
	}
	return out, placed == 1, nil
}

func (r *Redis) Get(ctx context.Context, id string) (Room, error) {
	m, err := r.rdb.HGetAll(ctx, r.roomKey(id)).Result()
	if err != nil {
		return Room{}, fmt.Errorf("placement: get %s: %w", id, err)
	}
	if m["node"] == "" {
		return Room{}, ErrNoRoom
	}
	out := Room{ID: id, Node: m["node"]}
	if m["meta"] != "" {
		out.Meta = json.RawMessage(m["meta"])
	}
	return out, nil
}

var moveScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'node', ARGV[2])
  return 1
end
return 0`)

func (r *Redis) Move(ctx context.Context, id, from, to string) (bool, error) {
	n, err := moveScript.Run(ctx, r.rdb, []string{r.roomKey(id)}, from, to).Int()
	if err != nil {
		return false, fmt.Errorf("placement: move %s: %w", id, err)
	}
	return n == 1, nil
}

var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
  return 1
end
return 0`)

func (r *Redis) Release(ctx context.Context, id, node string) error {
	if err := releaseScript.Run(ctx, r.rdb, []string{r.roomKey(id), r.roomsKey()}, node, id).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("placement: release %s: %w", id, err)
	}
	return nil
}

func (r *Redis) Rooms(ctx context.Context) ([]Room, error) {
	ids, err := r.rdb.SMembers(ctx, r.roomsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("placement: rooms: %w", err)
	}
	cmds, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.HGetAll(ctx, r.roomKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("placement: rooms: %w", err)
	}
	out := make([]Room, 0, len(ids))
	for i, c := range cmds {
		m, err := c.(*redis.MapStringStringCmd).Result()
		if err != nil || m["node"] == "" {
			continue // released between SMEMBERS and HGETALL
		}
		room := Room{ID: ids[i], Node: m["node"]}
		if m["meta"] != "" {
			room.Meta = json.RawMessage(m["meta"])
		}
		out = append(out, room)
	}
	slices.SortFunc(out, func(a, b Room) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
