package main

import (
	"fmt"
	"os"
	"time"
)

// The fault tests (nodes_test.go) run real `preau serve` processes: the
// test binary itself, started with nodeChildEnv set, is `preau` — this init
// runs main before any test machinery and exits. nodeLifetimeEnv bounds
// such a process's life, so that none outlives a test run that was killed.
const (
	nodeChildEnv    = "PREAU_TEST_RUN_AS_PREAU"
	nodeLifetimeEnv = "PREAU_TEST_NODE_LIFETIME"
)

func init() {
	if os.Getenv(nodeChildEnv) != "1" {
		return
	}
	if d, err := time.ParseDuration(os.Getenv(nodeLifetimeEnv)); err == nil && d > 0 {
		time.AfterFunc(d, func() {
			fmt.Fprintf(os.Stderr, "preau (test node): lifetime of %s over, exiting\n", d)
			os.Exit(3)
		})
	}
	main()
	os.Exit(0)
}
