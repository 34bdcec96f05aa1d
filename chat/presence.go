package chat

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Presence: online, away or offline, per user, shared by the nodes.
//
// Each node knows its own connections: a user with a connection that is
// not away is online on that node, away when all of theirs are away. The
// node reports these per-user states to a Presence store (MemoryPresence in
// one process, RedisPresence across nodes) with an expiry it refreshes, so
// that a node killed with -9 stops counting after PresenceTTL. A user's
// state is the best over the nodes' unexpired reports.
//
// Fan-out never grows with the square of members. A user's change is one
// report, one read of their state, then one "presence" frame on each
// *small* conversation they belong to (at most SmallConversation members),
// published once through the broker: the cost of a change is bounded by
// the user's small conversations × 30, and a join storm of n users costs
// O(n). Large conversations (a whole school) get no per-member event:
// clients ask their counts ("presence" request), which the hub computes
// from the members list and the Presence store and caches for a few
// seconds per conversation. Typing follows the same line: per-member
// "typing" frames in small conversations only.

// State is a user's presence.
type State uint8

// States, from worst to best.
const (
	Offline State = iota
	Away
	Online
)

var stateNames = [...]string{"offline", "away", "online"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "offline"
}

// SmallConversation is the most members a conversation has for per-member
// presence and typing events.
const SmallConversation = 30

// PresenceTTL is how long a node's report of a user lasts unless refreshed.
const PresenceTTL = 60 * time.Second

// countsCacheFor is how long a large conversation's counts are reused.
const countsCacheFor = 5 * time.Second

// Presence shares the nodes' reports of their users' states.
type Presence interface {
	// Report records this node's state for each user (Offline removes the
	// node's report), valid for ttl.
	Report(ctx context.Context, node uint64, states map[int64]State, ttl time.Duration) error
	// States returns the best unexpired state of each user; users absent
	// from the map are offline.
	States(ctx context.Context, users []int64) (map[int64]State, error)
}

var (
	_ Presence = (*MemoryPresence)(nil)
	_ Presence = (*RedisPresence)(nil)
)

type report struct {
	state State
	until time.Time
}

// MemoryPresence is the in-process Presence: the default with one node, and
// shared between hubs of one process in tests.
type MemoryPresence struct {
	mu    sync.Mutex
	users map[int64]map[uint64]report
	now   func() time.Time
}

// NewMemoryPresence returns an empty in-process presence store.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{users: map[int64]map[uint64]report{}, now: time.Now}
}

// Report records the node's states.
func (p *MemoryPresence) Report(ctx context.Context, node uint64, states map[int64]State, ttl time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.now().Add(ttl)
	for u, st := range states {
		m := p.users[u]
		if st == Offline {
			delete(m, node)
			if len(m) == 0 {
				delete(p.users, u)
			}
			continue
		}
		if m == nil {
			m = map[uint64]report{}
			p.users[u] = m
		}
		m[node] = report{st, until}
	}
	return nil
}

// States returns the users' best unexpired states.
func (p *MemoryPresence) States(ctx context.Context, users []int64) (map[int64]State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := map[int64]State{}
	for _, u := range users {
		for _, r := range p.users[u] {
			if r.until.After(now) && r.state > out[u] {
				out[u] = r.state
			}
		}
	}
	return out, nil
}

// RedisPresence keeps presence in Redis: a hash per user, one field per node
// holding "state:expiry_ms", the key itself expiring after the last report.
// A field of a node that died is ignored once its expiry passes.
type RedisPresence struct {
	rdb *redis.Client
	ns  string
}

// NewRedisPresence connects to the Redis at url; keys are prefixed with
// namespace (default "preau").
func NewRedisPresence(ctx context.Context, url, namespace string) (*RedisPresence, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("chat: redis url: %w", err)
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("chat: redis: %w", err)
	}
	if namespace == "" {
		namespace = "preau"
	}
	return &RedisPresence{rdb: rdb, ns: namespace}, nil
}

// Close closes the Redis connection.
func (p *RedisPresence) Close() error { return p.rdb.Close() }

func (p *RedisPresence) key(user int64) string {
	return p.ns + ":chat:presence:" + strconv.FormatInt(user, 10)
}

// Report writes the node's states in one pipeline.
func (p *RedisPresence) Report(ctx context.Context, node uint64, states map[int64]State, ttl time.Duration) error {
	if len(states) == 0 {
		return nil
	}
	field := strconv.FormatUint(node, 16)
	until := time.Now().Add(ttl).UnixMilli()
	pipe := p.rdb.Pipeline()
	for u, st := range states {
		k := p.key(u)
		if st == Offline {
			pipe.HDel(ctx, k, field)
			continue
		}
		pipe.HSet(ctx, k, field, strconv.Itoa(int(st))+":"+strconv.FormatInt(until, 10))
		pipe.PExpire(ctx, k, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("chat: presence report: %w", err)
	}
	return nil
}

// States reads the users' hashes in one pipeline.
func (p *RedisPresence) States(ctx context.Context, users []int64) (map[int64]State, error) {
	out := map[int64]State{}
	if len(users) == 0 {
		return out, nil
	}
	pipe := p.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(users))
	for i, u := range users {
		cmds[i] = pipe.HGetAll(ctx, p.key(u))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("chat: presence states: %w", err)
	}
	now := time.Now().UnixMilli()
	for i, c := range cmds {
		for _, v := range c.Val() {
			st, until, ok := strings.Cut(v, ":")
			n, err1 := strconv.Atoi(st)
			ms, err2 := strconv.ParseInt(until, 10, 64)
			if !ok || err1 != nil || err2 != nil || ms <= now {
				continue
			}
			if s := State(n); s > out[users[i]] && s <= Online {
				out[users[i]] = s
			}
		}
	}
	return out, nil
}
