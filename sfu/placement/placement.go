// Package placement records where live rooms run when several nodes serve
// Préau (issue 8; DESIGN.md "a room lives on one node; Redis holds room →
// node"). Each node beats with its address and load; a room is claimed for
// one node; a room whose node stopped beating can be moved to a live node
// by whoever notices first (compare-and-set), so that its participants,
// reconnecting by themselves, find it again.
//
// Two implementations: Memory, for one node (the default, nothing to run),
// and Redis, shared by the nodes. Neither knows what a room is for: the
// caller keeps its description in Room.Meta.
package placement

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrNoRoom: the room is not placed (never, or released).
var ErrNoRoom = errors.New("placement: no such room")

// Node is a node as its last heartbeat described it.
type Node struct {
	ID string `json:"id"`
	// URL is where the other nodes reach it (room creation, signaling).
	URL string `json:"url"`
	// Rooms and Participants are its live load.
	Rooms        int `json:"rooms"`
	Participants int `json:"participants"`
	// Draining: it takes no new room (SIGTERM).
	Draining bool      `json:"draining,omitzero"`
	At       time.Time `json:"at"`
}

// Room is a placed room.
type Room struct {
	ID   string `json:"id"`
	Node string `json:"node"`
	// Meta is the caller's description of the room (a lesson's class, a
	// meeting's members…), kept as given.
	Meta json.RawMessage `json:"meta,omitzero"`
}

// Registry is the room → node map and the nodes' heartbeats.
type Registry interface {
	// Beat records n as alive until the registry's TTL passes without
	// another beat.
	Beat(ctx context.Context, n Node) error
	// Leave forgets node id at once (a clean shutdown).
	Leave(ctx context.Context, id string) error
	// Nodes returns the live nodes.
	Nodes(ctx context.Context) ([]Node, error)
	// Claim places r on r.Node unless the room is placed already; it
	// returns the room as placed and whether this call placed it.
	Claim(ctx context.Context, r Room) (Room, bool, error)
	// Get returns the room, or ErrNoRoom.
	Get(ctx context.Context, id string) (Room, error)
	// Move places room id on node to if it is still on node from, and
	// reports whether it did (another caller may have moved it first).
	Move(ctx context.Context, id, from, to string) (bool, error)
	// Release forgets room id if it is on node (its end).
	Release(ctx context.Context, id, node string) error
	// Rooms returns every placed room.
	Rooms(ctx context.Context) ([]Room, error)
}

// Pick returns the node a new room should go to: the live, not draining
// node with the fewest participants, then the fewest rooms, then the
// smallest id (so that two callers agree).
func Pick(nodes []Node) (Node, bool) {
	var best Node
	found := false
	for _, n := range nodes {
		if n.Draining {
			continue
		}
		if !found || cmp.Or(cmp.Compare(n.Participants, best.Participants), cmp.Compare(n.Rooms, best.Rooms),
			cmp.Compare(n.ID, best.ID)) < 0 {
			best, found = n, true
		}
	}
	return best, found
}

// Alive reports whether node id is among nodes.
func Alive(nodes []Node, id string) bool {
	return slices.ContainsFunc(nodes, func(n Node) bool { return n.ID == id })
}

// Memory is the Registry of a single node: everything in this process.
type Memory struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	nodes map[string]Node
	rooms map[string]Room
}

// NewMemory returns an empty registry whose nodes expire ttl after their
// last beat.
func NewMemory(ttl time.Duration) *Memory {
	return &Memory{ttl: ttl, now: time.Now, nodes: map[string]Node{}, rooms: map[string]Room{}}
}

func (m *Memory) Beat(_ context.Context, n Node) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n.At = m.now()
	m.nodes[n.ID] = n
	return nil
}

func (m *Memory) Leave(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.nodes, id)
	return nil
}

func (m *Memory) Nodes(context.Context) ([]Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make([]Node, 0, len(m.nodes))
	for id, n := range m.nodes {
		if now.Sub(n.At) > m.ttl {
			delete(m.nodes, id)
			continue
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *Memory) Claim(_ context.Context, r Room) (Room, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if have, ok := m.rooms[r.ID]; ok {
		return have, false, nil
	}
	r.Meta = slices.Clone(r.Meta)
	m.rooms[r.ID] = r
	return r, true, nil
}

func (m *Memory) Get(_ context.Context, id string) (Room, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rooms[id]
	if !ok {
		return Room{}, ErrNoRoom
	}
	return r, nil
}

func (m *Memory) Move(_ context.Context, id, from, to string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rooms[id]
	if !ok || r.Node != from {
		return false, nil
	}
	r.Node = to
	m.rooms[id] = r
	return true, nil
}

func (m *Memory) Release(_ context.Context, id, node string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rooms[id]; ok && r.Node == node {
		delete(m.rooms, id)
	}
	return nil
}

func (m *Memory) Rooms(context.Context) ([]Room, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Room) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
