package chat

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"preau/internal/dbtest"
)

// BenchmarkPost: committed posts on SQLite, one after the other, across the
// conversations of one class (with the moderation checks Post makes).
func BenchmarkPost(b *testing.B) {
	d := dbtest.SQLite(b)
	sc := newSchool(b, d)
	s := NewStore(d)
	ctx := context.Background()
	c, err := s.EnsureClassChannel(ctx, sc.c3A)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Post(ctx, c.ID, sc.lea, fmt.Sprintf("b-%d", i), "message de test"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkPostConcurrent: committed posts/s with 64 posters per core at
// once over 50 group conversations, each post committed on its own
// ("direct", as every post was before the writer) or through the batching
// writer (writer.go), on both engines.
//
//	go test -run '^$' -bench PostConcurrent -benchtime 3000x -p 1 ./chat/
func BenchmarkPostConcurrent(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"direct", "batched"} {
			b.Run(engine+"/"+mode, func(b *testing.B) {
				d := dbtest.SQLite(b)
				if engine == "postgres" {
					d = dbtest.Postgres(b)
				}
				f := newFixture(b, d)
				s := NewStore(d)
				if s.writer = nil; mode == "batched" {
					s.writer = newPostWriter(s)
				}
				convs := make([]int64, 50)
				for i := range convs {
					convs[i] = groupConv(b, s, f, fmt.Sprintf("Groupe %d", i), f.pupilA, f.pupilB)
				}
				senders := []int64{f.pupilA, f.pupilB}
				var n atomic.Int64
				ctx := context.Background()
				b.SetParallelism(64)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						if _, err := s.Post(ctx, convs[i%int64(len(convs))], senders[i%2], fmt.Sprintf("b-%d", i), "message de test"); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
			})
		}
	}
}

// BenchmarkFanout: messages fanned out to the conns connections subscribed
// to one conversation on this process's hub, as bare clients read them
// (rawWS), burst messages at a time before waiting for every delivery. It
// reports the process's CPU time (server and clients) and the wall time per
// delivery; burst=1 is a message at a time, as in a class channel, burst=16
// lets queues build up, as when a node falls behind.
//
//	go test -run '^$' -bench Fanout -benchmem ./chat/
func BenchmarkFanout(b *testing.B) {
	for _, burst := range []int{1, 16} {
		b.Run(fmt.Sprintf("conns=1000/burst=%d", burst), func(b *testing.B) {
			benchFanout(b, 1000, burst)
		})
	}
}

func benchFanout(b *testing.B, conns, burst int) {
	d := dbtest.SQLite(b)
	f := newFixture(b, d)
	s := NewStore(d)
	conv := classChannel(b, s, f)
	broker := NewMemoryBroker(0)
	defer broker.Close()
	h := NewHub(Config{MaxConnsPerUser: conns, PingInterval: time.Hour, Namespace: uniqueTopic("bench")},
		s, broker, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h.Handler(testAuth))
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		h.Shutdown(ctx)
	}()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	var pending sync.WaitGroup
	ws := make([]*rawWS, conns)
	defer func() { // before Shutdown, which would wait for their close replies
		for _, w := range ws {
			w.close()
		}
	}()
	for i := range ws {
		w, _ := rawSubscribe(b, url, f.pupilA, conv.ID, 0, 0)
		ws[i] = w
		go func() {
			buf := make([]byte, 4096)
			for {
				fr, err := w.next(buf)
				if err != nil {
					return
				}
				if fr.opcode == opText && bytes.Contains(fr.payload, []byte(`"type":"message"`)) {
					pending.Done()
				}
			}
		}()
	}
	m := Message{ConversationID: conv.ID, SenderID: f.pupilB, ClientID: "0123456789abcdef",
		Body: "Bonjour à tous, n’oubliez pas le contrôle de demain sur le chapitre 4.", CreatedAtMs: time.Now().UnixMilli()}
	cpu0 := cpuTime()
	var seq int64
	for b.Loop() {
		seq++
		m.Seq = seq
		pending.Add(conns)
		h.fanout(conv.ID, seq, encodeMessage(m))
		if seq%int64(burst) == 0 {
			pending.Wait()
		}
	}
	pending.Wait()
	n := float64(seq) * float64(conns)
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/n, "cpu-ns/delivery")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/delivery")
}

// cpuTime is the CPU time of this process so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
