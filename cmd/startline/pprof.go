package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
)

// withPprof mounts net/http/pprof under /debug/pprof/ on the metrics
// listener (STARTLINE_METRICS_ADDR) when STARTLINE_PPROF=1, for the load
// harness (cmd/loadbench -pprof) to profile a server under load. Off by
// default; even when on, only loopback clients are answered, since
// profiles show internals and a CPU profile costs the server while it runs.
func withPprof(next http.Handler) http.Handler {
	if os.Getenv("STARTLINE_PPROF") != "1" {
		return next
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/debug/pprof") && !fromLoopback(r) {
			http.NotFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
