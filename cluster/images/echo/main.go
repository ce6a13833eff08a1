// echo: hastack's test app. A static HTTP server that answers with the name of the pod serving it, so
// traffic tests can tell which backend got each request, with switches and knobs driven from outside:
//
//	GET  /                  {"pod": ..., "node": ..., "served": n}; honours the knobs below
//	GET  /readyz, /livez    200, or 503 once switched off
//	GET  /fetch?url=...     fetches url from inside the pod: {"status": 200} or {"error": "..."}
//	POST /admin/ready?on=0|1, /admin/live?on=0|1
//	POST /admin/errors?rate=0.5      fraction of / answered 500
//	POST /admin/latency?ms=100       delay before answering /
//	POST /admin/burn?ms=50           CPU busy time per request to /
//	POST /admin/crash                exits 1 (the container restarts)
//
// Knobs start from the environment (READY, LIVE, ERROR_RATE, LATENCY_MS, BURN_MS); PORT sets the port
// (default 8080), EXTRA_PORT a second one serving the same (so a test can tell a NetworkPolicy that
// admits one port from one that admits the pod). SIGTERM stops accepting and finishes the requests
// in flight; with EXIT_ON_SIGTERM=1 it exits at once, as an app without graceful shutdown does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

type knobs struct {
	ready, live   atomic.Bool
	errorPermille atomic.Int64
	latencyMs     atomic.Int64
	burnMs        atomic.Int64
	served        atomic.Int64
}

func envInt(name string, fallback int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return fallback
}

func envFloat(name string) float64 {
	v, _ := strconv.ParseFloat(os.Getenv(name), 64)
	return v
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func burn(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x += i * i
		}
	}
	_ = x
}

func main() {
	k := &knobs{}
	k.ready.Store(os.Getenv("READY") != "0")
	k.live.Store(os.Getenv("LIVE") != "0")
	k.errorPermille.Store(int64(envFloat("ERROR_RATE") * 1000))
	k.latencyMs.Store(envInt("LATENCY_MS", 0))
	k.burnMs.Store(envInt("BURN_MS", 0))
	pod, _ := os.Hostname()
	if name := os.Getenv("POD_NAME"); name != "" {
		pod = name
	}
	node := os.Getenv("NODE_NAME")

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := k.served.Add(1)
		if ms := k.latencyMs.Load(); ms > 0 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		if ms := k.burnMs.Load(); ms > 0 {
			burn(time.Duration(ms) * time.Millisecond)
		}
		if rand.Int64N(1000) < k.errorPermille.Load() {
			reply(w, http.StatusInternalServerError, map[string]any{"pod": pod, "node": node, "error": "injected"})
			return
		}
		reply(w, http.StatusOK, map[string]any{"pod": pod, "node": node, "served": n, "path": r.URL.Path})
	})
	probe := func(flag *atomic.Bool) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if flag.Load() {
				reply(w, http.StatusOK, map[string]any{"pod": pod, "ok": true})
				return
			}
			reply(w, http.StatusServiceUnavailable, map[string]any{"pod": pod, "ok": false})
		}
	}
	mux.HandleFunc("/readyz", probe(&k.ready))
	mux.HandleFunc("/livez", probe(&k.live))
	client := &http.Client{Timeout: 3 * time.Second}
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(r.URL.Query().Get("url"))
		if err != nil {
			reply(w, http.StatusOK, map[string]any{"pod": pod, "error": err.Error()})
			return
		}
		_ = resp.Body.Close()
		reply(w, http.StatusOK, map[string]any{"pod": pod, "status": resp.StatusCode})
	})
	admin := func(path string, set func(r *http.Request) error) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				reply(w, http.StatusMethodNotAllowed, map[string]any{"error": "POST"})
				return
			}
			if err := set(r); err != nil {
				reply(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
				return
			}
			reply(w, http.StatusOK, map[string]any{"pod": pod, "set": path})
		})
	}
	number := func(r *http.Request, key string) (float64, error) {
		v, err := strconv.ParseFloat(r.URL.Query().Get(key), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: a number", key)
		}
		return v, nil
	}
	admin("/admin/ready", func(r *http.Request) error { k.ready.Store(r.URL.Query().Get("on") != "0"); return nil })
	admin("/admin/live", func(r *http.Request) error { k.live.Store(r.URL.Query().Get("on") != "0"); return nil })
	admin("/admin/errors", func(r *http.Request) error {
		v, err := number(r, "rate")
		k.errorPermille.Store(int64(v * 1000))
		return err
	})
	admin("/admin/latency", func(r *http.Request) error {
		v, err := number(r, "ms")
		k.latencyMs.Store(int64(v))
		return err
	})
	admin("/admin/burn", func(r *http.Request) error {
		v, err := number(r, "ms")
		k.burnMs.Store(int64(v))
		return err
	})
	admin("/admin/crash", func(*http.Request) error {
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(1) }()
		return nil
	})

	server := &http.Server{Addr: ":" + strconv.FormatInt(envInt("PORT", 8080), 10), Handler: mux,
		ReadHeaderTimeout: 10 * time.Second}
	servers := []*http.Server{server}
	if extra := envInt("EXTRA_PORT", 0); extra > 0 {
		second := &http.Server{Addr: ":" + strconv.FormatInt(extra, 10), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, second)
		go func() { _ = second.ListenAndServe() }()
	}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		if os.Getenv("EXIT_ON_SIGTERM") == "1" { // as an app without graceful shutdown: requests in flight are cut
			os.Exit(0)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, s := range servers {
			_ = s.Shutdown(ctx)
		}
	}()
	if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
