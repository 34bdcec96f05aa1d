package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"preau/chat"
	"preau/sfu"
)

// liveCollector exposes the chat hub's and the SFU's counters on /metrics,
// reading each one's Stats once per scrape.
type liveCollector struct {
	hub *chat.Hub
	sfu *sfu.Manager
}

func desc(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }

var (
	chatConnections   = desc("preau_chat_connections", "Open chat WebSocket connections on this node.")
	chatTopics        = desc("preau_chat_conversations_active", "Conversations with a subscriber on this node.")
	chatDelivered     = desc("preau_chat_delivered_total", "Chat frames queued to connections.")
	chatSlowClosed    = desc("preau_chat_slow_closed_total", "Chat connections closed because their queue was full.")
	chatFloodClosed   = desc("preau_chat_flood_closed_total", "Chat connections closed for exceeding the message rate.")
	chatBrokerErrors  = desc("preau_chat_broker_errors_total", "Failed publishes to the broker (local clients still got the message).")
	chatBrokerDropped = desc("preau_chat_broker_dropped_total", "Payloads the broker dropped for a slow subscriber.")
	sfuRooms          = desc("preau_sfu_rooms", "Open live rooms on this node.")
	sfuParticipants   = desc("preau_sfu_participants", "Connected live-room participants on this node.")
	sfuPackets        = desc("preau_sfu_forwarded_packets_total", "RTP packets forwarded (one per subscriber).")
	sfuBytes          = desc("preau_sfu_forwarded_bytes_total", "RTP bytes forwarded.")
	sfuSlowClosed     = desc("preau_sfu_slow_closed_total", "Signaling connections closed because their queue was full.")
)

func (c liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{chatConnections, chatTopics, chatDelivered, chatSlowClosed, chatFloodClosed,
		chatBrokerErrors, chatBrokerDropped, sfuRooms, sfuParticipants, sfuPackets, sfuBytes, sfuSlowClosed} {
		ch <- d
	}
}

func (c liveCollector) Collect(ch chan<- prometheus.Metric) {
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	cs := c.hub.Stats()
	g(chatConnections, float64(cs.Connections))
	g(chatTopics, float64(cs.Topics))
	n(chatDelivered, cs.Delivered)
	n(chatSlowClosed, cs.SlowClosed)
	n(chatFloodClosed, cs.FloodClosed)
	n(chatBrokerErrors, cs.BrokerErrors)
	n(chatBrokerDropped, cs.BrokerDropped)
	ss := c.sfu.Stats()
	g(sfuRooms, float64(ss.Rooms))
	g(sfuParticipants, float64(ss.Participants))
	n(sfuPackets, ss.ForwardedPackets)
	n(sfuBytes, ss.ForwardedBytes)
	n(sfuSlowClosed, ss.SlowClosed)
}
