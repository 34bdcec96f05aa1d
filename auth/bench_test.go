package auth

import (
	"context"
	"testing"
)

// BenchmarkHashDefault measures one argon2id hash at DefaultParams: the cost
// of a login on this machine (ns/op).
func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "une phrase de passe assez longue"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel measures logins per second when many arrive at
// once: the hasher lets 2 × GOMAXPROCS run.
func BenchmarkVerifyParallel(b *testing.B) {
	h := NewHasher(DefaultParams)
	ctx := context.Background()
	phc, _ := h.Hash(ctx, "une phrase de passe assez longue")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, err := h.Verify(ctx, phc, "une phrase de passe assez longue"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
