//go:build sfupprof

package main

// Built only with `-tags sfupprof`, for profiling the server under
// `preau loadtest sfu`: serves net/http/pprof on PREAU_PPROF_ADDR (loopback
// only). Never in a normal build.

import (
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("PREAU_PPROF_ADDR")
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		panic("PREAU_PPROF_ADDR must be a loopback address")
	}
	go http.ListenAndServe(addr, nil)
}
