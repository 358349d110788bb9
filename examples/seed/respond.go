package main

import (
	"net/http"

	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
)

// writeJSON answers with status and v as JSON, uncached, as latch's own
// answers go out: they carry tokens or depend on who asks.
func writeJSON(w http.ResponseWriter, status int, v any) { latchhttp.WriteJSON(w, status, v) }

// jsonErrors makes the mux's own answers, 404 for an unknown path and 405
// for a known path with another method, JSON like every other answer.
// Requests that match a route pass through untouched.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			w = &jsonErrorWriter{ResponseWriter: w}
		}
		mux.ServeHTTP(w, r)
	})
}

// jsonErrorWriter replaces a plain-text error body with {"msg": status
// text}, keeping the status and headers such as Allow.
type jsonErrorWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *jsonErrorWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	writeJSON(w.ResponseWriter, status, walkthrough.Message{Msg: http.StatusText(status)})
}

// Write drops the plain-text body; the JSON one is already written.
func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return len(b), nil
}
