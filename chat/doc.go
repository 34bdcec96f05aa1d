// Package chat is Préau's messaging core: conversations (class channels,
// groups, private conversations, lesson chats), their messages with
// per-conversation sequence numbers, and the WebSocket hub that delivers
// them live.
//
// # Pieces
//
//   - Store keeps conversations, members and messages in the database
//     (SQLite or PostgreSQL, one portable schema: db/migrations/0003_chat.sql).
//   - Broker carries committed messages between nodes: MemoryBroker in one
//     process (the default), RedisBroker (pub/sub) when several nodes run.
//   - Hub serves the WebSocket endpoint (Hub.Handler); docs/protocol.md
//     describes its messages and close codes.
//   - Presence (presence.go, hub_presence.go) shares who is online:
//     MemoryPresence in one process, RedisPresence across nodes.
//
// # Rules
//
// Who may write to whom is the access-policy table's (identity, resources
// message_*): reach.go loads what the rule needs for many people at once
// and starts private conversations (one per pair, pair_key) and groups.
// Class channels exist per class for its pupils and for its parents, with
// the class's teachers and the school's vie scolaire (CPE) as moderators —
// staff whose role records the service directory.ServiceVieScolaire, or,
// while no service is recorded (imported data), whose job title reads so
// (IsVieScolaire); they are made when a member opens the Messagerie
// (EnsureSchoolChannels for the vie scolaire).
// mailbox.go is the secure mailbox (one conversation per message, members
// are the recipients, receipts from last_read_seq). moderation.go holds
// moderation for minors — delete any message, mute, announcements only,
// opening hours, reports — each act in the chat_audit table, and the
// checks Post makes (db/migrations/0005_chat_rules.sql). A mailbox form
// sent twice makes one message (its token is unique per sender:
// conversations.mail_key). quiet.go holds the notifications of messages
// posted outside the opening hours until they open. fold.go makes search
// ignore case and accents on both databases.
//
// Rights changes (rights.go) reach live connections on every node through
// the broker: a member removed from a conversation stops receiving it
// ("unsubscribed"), a revoked user (account disabled, session ended) is
// disconnected (4001).
//
// # Delivery guarantees
//
// Sequence numbers. Store.Post increments conversations.last_seq and inserts
// the message in one transaction. The UPDATE serialises posters of one
// conversation (a row lock on PostgreSQL, the single writer on SQLite), so
// seqs are 1, 2, 3… with no gap or duplicate, on any number of nodes. On
// SQLite the posts of concurrent senders are committed together by one
// writer, many per transaction (writer.go: group commit); each is still
// answered only once its own transaction is committed, and a full queue
// answers ErrBusy ("busy").
//
// Ack after commit. The hub answers "ack" only after Post has returned, that
// is after the commit. A database failure gives an "error", never an ack:
// an acknowledged message is never lost.
//
// Idempotent resend. (conversation, sender, client_id) is unique; a resend
// returns the stored message (same seq) and stores nothing. It is broadcast
// again — the node that stored it may have died before publishing it — and
// connections that hold its seq skip it.
//
// Recovery by seq. A client subscribes with the last seq it holds; the hub
// replays everything after it from the database, in order, sends
// "subscribed", then goes live. Live messages that arrive during the replay
// wait in the connection's state and are sent afterwards; those already
// replayed are skipped, so each message reaches a connection once. Live
// messages from concurrent senders may arrive out of seq order; clients
// order by seq and resume from the highest seq below which they hold
// everything. Each connection remembers, per conversation, the seqs it was
// sent (all up to one, and those above), and never sends one twice.
//
// The broker only fans out. After the commit, the hub delivers the message
// to its own connections directly and publishes it, tagged with its node id,
// on the conversation's topic; other nodes deliver it to theirs, and each
// node ignores its own. The broker is never the record: if Redis is down,
// each node still serves its own clients. Catch-up (catchup.go) brings a
// connection what the broker lost, from the store and without
// reconnecting: when a Resumer broker says a subscription is back after a
// cut (Redis returned), and when a hole in the seqs it was sent stays open
// for a second (a node died between a commit and its publish).
//
// # The real-time path
//
// Each connection has one reader goroutine (started once the handshake has
// hijacked the connection, so that the HTTP handler's stack is not kept)
// and one writer goroutine; nothing else touches the socket. Fan-out puts the same
// encoded bytes on every subscriber's bounded queue (Config.SendQueue)
// without waiting: a connection whose queue is full is closed with 1013 and
// recovers by reconnecting. Replayed history is handed to the writer one
// frame at a time, the reader waiting until it is written, so a long
// replay is paced by the client's own socket and never fills the live
// queue. The writer takes every queued frame at each wake-up and, when
// there are several, sends them in one write(2) (batchConn, under the
// library: the same bytes in the same order). No lock is held while
// writing to a socket; every write has a deadline, kept by one hub
// goroutine rather than a timer per frame (watchWrites); the server pings
// every 30 s.
//
// Limits (SECURITY.md): frames ≤ 16 KiB (1009 beyond), bodies ≤ 4,000
// characters, 20 sends per 10 s per user by default (1008 beyond; serve
// --chat-send-limit for a load-test server), 5 connections per user. The sender of a message is always the session's user. Frames with
// unknown fields or duplicate keys are refused. A conversation the user is
// not a member of answers not_found, exactly like one that does not exist.
//
// # Replies and attachments
//
// A message may answer an earlier one (ReplyTo, a seq of the same
// conversation) and carry up to 5 attachments (attach.go): the current
// version of a file of the Documents, checked by a FileResolver against the
// sender's rights when sent and copied into a storage key the message owns
// (web adapts storage/files), at most 10 MiB each, so that later replaces
// and the pruning of versions do not lose it. Members download them
// through the conversation; a deleted message loses them, copies included.
package chat
