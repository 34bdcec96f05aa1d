package main

// The chat load: connections that subscribe to their conversation, senders
// at a fixed total rate, receivers that time every delivery, and the final
// count of lost and duplicated messages.

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	jsonv2 "github.com/go-json-experiment/json"
)

// maxLatencySamples bounds the latencies kept per connection; deliveries
// beyond it are counted, not timed.
const maxLatencySamples = 1 << 18

// loadConn is one WebSocket. Its reader goroutine owns seen, lat, dups and
// acked until it ends; the sender goroutine owns sent.
type loadConn struct {
	conv       int64
	user       int
	node       int // index of its node in --url
	ws         *websocket.Conn
	subscribed chan struct{}
	done       chan struct{}

	seen []uint8 // deliveries by seq (fresh conversations start at 1)
	lat  []uint32
	// With several nodes, the same latencies split by where the sender
	// was: on this connection's node, or on another.
	latLocal, latCross []uint32
	dups               int64
	acked              []int64 // seqs acknowledged to this connection's sends
	sent               int64
}

// frameIn is every server frame the tool reads, in one decode.
type frameIn struct {
	Type string `json:"type"`
	Data struct {
		Conversation int64  `json:"conversation"`
		Seq          int64  `json:"seq"`
		Body         string `json:"body"`
		Code         string `json:"code"`
	} `json:"data"`
}

// loadRun holds the shared counters.
type loadRun struct {
	deliveries atomic.Int64
	acked      atomic.Int64
	errors     atomic.Int64
	expected   atomic.Int64 // Σ acked × connections of the conversation
	convConns  map[int64]int64
}

func loadtestChat(ctx context.Context, cfg loadConfig, logw io.Writer) (loadSummary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Data != "" {
		fmt.Fprintln(logw, "loadtest: --data is deprecated and ignored: the server sets the run up itself (POST /api/v1/chat/loadtest)")
	}
	p, err := setupChat(ctx, cfg)
	if err != nil {
		return loadSummary{}, err
	}
	defer func() {
		if err := endChat(ctx, cfg, p); err != nil {
			fmt.Fprintf(logw, "%v (the server deletes the set-up once its ttl has passed)\n", err)
		}
	}()
	sum := loadSummary{Connections: len(p.conns), Conversations: len(p.convs), Members: cfg.Members, Users: len(p.users), Rate: cfg.Rate,
		Nodes: len(cfg.URLs)}
	run := &loadRun{convConns: map[int64]int64{}}
	for _, s := range p.conns {
		run.convConns[s.conv]++
	}

	m0 := scrapeNodes(ctx, cfg.URLs)
	fmt.Fprintf(logw, "loadtest: connecting %d connections as %d accounts…\n", len(p.conns), len(p.users))
	conns, err := dialAll(ctx, cfg.URLs, p, run)
	defer func() {
		for _, c := range conns {
			c.ws.CloseNow()
		}
		for _, c := range conns {
			<-c.done
		}
	}()
	if err != nil {
		return sum, err
	}
	select { // let the server's memory settle before measuring it
	case <-ctx.Done():
		return sum, ctx.Err()
	case <-time.After(time.Second):
	}
	m1 := scrapeNodes(ctx, cfg.URLs)
	if m0.ok && m1.ok {
		sum.ServerKBPerConnection = (m1.rssBytes - m0.rssBytes) / 1024 / float64(len(conns))
		sum.ServerRSSMB = m1.rssBytes / (1 << 20)
		sum.ServerHeapKBPerConnection = (m1.heapStacks - m0.heapStacks) / 1024 / float64(len(conns))
	}

	// One sender per account (its first connection), each at rate/senders.
	var senders []*loadConn
	used := map[int]bool{}
	for _, c := range conns {
		if !used[c.user] {
			used[c.user] = true
			senders = append(senders, c)
		}
	}
	rate := cfg.Rate
	if max := p.perUser * float64(len(senders)); rate > max {
		rate, sum.RateCapped = max, true
		fmt.Fprintf(logw, "loadtest: --rate %.0f is over what %d accounts may send (%.1f msg/s each, under the server's limit): %.0f msg/s\n",
			cfg.Rate, len(senders), p.perUser, rate)
	}
	sum.Rate = rate
	start := time.Now()
	if rate > 0 {
		sum.Senders = len(senders)
		fmt.Fprintf(logw, "loadtest: sending %.0f msg/s for %s…\n", rate, cfg.Duration)
		sendCtx, stop := context.WithTimeout(ctx, cfg.Duration)
		interval := time.Duration(float64(time.Second) * float64(len(senders)) / rate)
		var wg sync.WaitGroup
		for i, c := range senders {
			wg.Go(func() { c.send(sendCtx, i, interval*time.Duration(i)/time.Duration(len(senders)), interval) })
		}
		wg.Wait()
		stop()
		// Wait for every ack and every delivery, within the drain time.
		var sent int64
		for _, c := range senders {
			sent += c.sent
		}
		deadline := time.Now().Add(cfg.Drain)
		for time.Now().Before(deadline) && ctx.Err() == nil &&
			(run.acked.Load() < sent || run.deliveries.Load() < run.expected.Load()) {
			time.Sleep(20 * time.Millisecond)
		}
	} else {
		fmt.Fprintf(logw, "loadtest: %d idle connections for %s…\n", len(conns), cfg.Duration)
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Duration):
		}
		// Idle, the memory is read at the end: what the connections hold
		// once the connect phase's garbage is collected (a Go runtime
		// collects at least every 2 minutes: give --duration 2m10s or more).
		if m := scrapeNodes(ctx, cfg.URLs); m0.ok && m.ok {
			sum.ServerKBPerConnection = (m.rssBytes - m0.rssBytes) / 1024 / float64(len(conns))
			sum.ServerRSSMB = m.rssBytes / (1 << 20)
			sum.ServerHeapKBPerConnection = (m.heapStacks - m0.heapStacks) / 1024 / float64(len(conns))
		}
	}
	elapsed := time.Since(start)
	m2 := scrapeNodes(ctx, cfg.URLs)

	for _, c := range conns {
		c.ws.Close(websocket.StatusNormalClosure, "")
	}
	for _, c := range conns {
		<-c.done
	}
	sum.SendSeconds = elapsed.Seconds()
	var lat, latLocal, latCross []uint32
	ackedByConv := map[int64][]int64{}
	for _, c := range conns {
		sum.Sent += c.sent
		sum.Duplicated += c.dups
		lat = append(lat, c.lat...)
		latLocal, latCross = append(latLocal, c.latLocal...), append(latCross, c.latCross...)
		ackedByConv[c.conv] = append(ackedByConv[c.conv], c.acked...)
	}
	for _, c := range conns {
		for _, seq := range ackedByConv[c.conv] {
			if seq >= int64(len(c.seen)) || c.seen[seq] == 0 {
				sum.Lost++
			}
		}
	}
	sum.Acked, sum.Deliveries, sum.Errors = run.acked.Load(), run.deliveries.Load(), run.errors.Load()
	sum.DeliveriesPerS = float64(sum.Deliveries) / elapsed.Seconds()
	slices.Sort(lat)
	sum.LatencyP50, sum.LatencyP99, sum.LatencyP999 = quantileMs(lat, 0.50), quantileMs(lat, 0.99), quantileMs(lat, 0.999)
	slices.Sort(latLocal)
	slices.Sort(latCross)
	sum.LatencyLocalP50, sum.LatencyCrossP50 = quantileMs(latLocal, 0.50), quantileMs(latCross, 0.50)
	if m1.ok && m2.ok && sum.Deliveries > 0 {
		sum.ServerCPUUsPerDelivery = (m2.cpuS - m1.cpuS) * 1e6 / float64(sum.Deliveries)
	}
	return sum, nil
}

func quantileMs(sorted []uint32, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(math.Ceil(q*float64(len(sorted))))-1)
	return float64(sorted[max(i, 0)]) / 1000
}

// dialAll opens every connection, a few at a time, and waits until each is
// subscribed. The connections opened are returned even on an error, for the
// caller to close.
func dialAll(ctx context.Context, bases []string, p loadPlan, run *loadRun) ([]*loadConn, error) {
	wsURLs := make([]string, len(bases))
	for i, b := range bases {
		wsURLs[i] = "ws" + strings.TrimPrefix(strings.TrimSuffix(b, "/"), "http") + "/ws/chat"
	}
	conns := make([]*loadConn, len(p.conns))
	errs := make(chan error, len(p.conns))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	inConv := map[int64]int{} // a conversation's connections take the nodes in turn
	for k, s := range p.conns {
		node := inConv[s.conv] % len(wsURLs)
		inConv[s.conv]++
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			h := http.Header{"Cookie": {p.cookie}, p.header: {strconv.FormatInt(p.users[s.user].id, 10)}}
			ws, _, err := websocket.Dial(dctx, wsURLs[node], &websocket.DialOptions{HTTPHeader: h})
			if err != nil {
				errs <- fmt.Errorf("loadtest: connection %d: %w", k, err)
				return
			}
			ws.SetReadLimit(64 << 10)
			c := &loadConn{conv: s.conv, user: s.user, node: node, ws: ws, subscribed: make(chan struct{}), done: make(chan struct{})}
			conns[k] = c
			go c.read(context.WithoutCancel(ctx), run)
			// Subscribe, then watch the conversation's presence as the
			// Messagerie page does: counts only in a large conversation
			// (SmallConversation), so a join storm fans nothing out there.
			sub := fmt.Sprintf(`{"v":1,"type":"subscribe","id":1,"data":{"conversations":[{"id":%d,"after_seq":0}]}}`, s.conv)
			pres := fmt.Sprintf(`{"v":1,"type":"presence","id":2,"data":{"conversation":%d}}`, s.conv)
			for _, f := range []string{sub, pres} {
				if err := ws.Write(dctx, websocket.MessageText, []byte(f)); err != nil {
					errs <- fmt.Errorf("loadtest: subscribe %d: %w", k, err)
					return
				}
			}
			select {
			case <-c.subscribed:
			case <-c.done:
				errs <- fmt.Errorf("loadtest: connection %d closed before it was subscribed", k)
			case <-dctx.Done():
				errs <- fmt.Errorf("loadtest: connection %d: no subscribed within 30 s", k)
			}
		})
	}
	wg.Wait()
	close(errs)
	opened := conns[:0]
	for _, c := range conns {
		if c != nil {
			opened = append(opened, c)
		}
	}
	return opened, <-errs // nil when errs is empty
}

// read is the connection's one reader; it ends when the socket closes.
func (c *loadConn) read(ctx context.Context, run *loadRun) {
	defer close(c.done)
	subscribed := false
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s != -1 && s != websocket.StatusNormalClosure {
				run.errors.Add(1) // closed by the server: rate, slow consumer, shutdown
			}
			return
		}
		now := time.Now().UnixNano()
		var f frameIn
		// encoding/json/v2's decoder: half the CPU of v1's for these frames,
		// which matters with the tool beside the server at 200,000 frames/s.
		if err := jsonv2.Unmarshal(b, &f); err != nil {
			run.errors.Add(1)
			continue
		}
		switch f.Type {
		case "subscribed":
			if !subscribed {
				subscribed = true
				close(c.subscribed)
			}
		case "message":
			seq := f.Data.Seq
			if seq <= 0 || seq > 1<<24 {
				continue
			}
			if seq >= int64(len(c.seen)) {
				c.seen = slices.Grow(c.seen, int(seq)+1-len(c.seen))[:seq+1]
			}
			if c.seen[seq]++; c.seen[seq] > 1 {
				c.dups++
				continue
			}
			run.deliveries.Add(1)
			// The body is "lt <sent, Unix ns> <sender's node>".
			if rest, ok := strings.CutPrefix(f.Data.Body, "lt "); ok && len(c.lat) < maxLatencySamples {
				ts, node, _ := strings.Cut(rest, " ")
				if sent, err := strconv.ParseInt(ts, 10, 64); err == nil && now >= sent {
					us := uint32(min((now-sent)/1000, math.MaxUint32))
					c.lat = append(c.lat, us)
					if n, err := strconv.Atoi(node); err == nil && n == c.node {
						c.latLocal = append(c.latLocal, us)
					} else if err == nil {
						c.latCross = append(c.latCross, us)
					}
				}
			}
		case "ack":
			c.acked = append(c.acked, f.Data.Seq)
			run.acked.Add(1)
			run.expected.Add(run.convConns[c.conv])
		case "error":
			run.errors.Add(1)
		}
	}
}

// send writes one message every interval, after offset, until ctx ends.
func (c *loadConn) send(ctx context.Context, n int, offset, interval time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(offset):
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; ; i++ {
		msg := fmt.Sprintf(`{"v":1,"type":"send","id":%d,"data":{"conversation":%d,"client_id":"lt-%d-%d","body":"lt %d %d"}}`,
			i+2, c.conv, n, i, time.Now().UnixNano(), c.node)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := c.ws.Write(wctx, websocket.MessageText, []byte(msg))
		cancel()
		if err != nil {
			return
		}
		c.sent++
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
