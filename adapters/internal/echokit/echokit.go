// Package echokit holds what latch's two echo adapters, latchecho (echo
// v4) and latchecho5 (echo v5), share: the error a refused request
// returns, how latch's answer is written on echo's response, and what
// their error handlers do with an error. It needs no echo import: the
// adapters pass in what only echo knows.
package echokit

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// Error is what an echo guard returns for a refused request, after
// writing latch's answer: Err is latch's error (errors.Is matches its
// kind through Unwrap), Status the status of the answer written, which
// StatusCode reports to echo (echo v5's echo.HTTPStatusCoder).
type Error struct {
	Err    error
	Status int
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// StatusCode is Status: the status latch answered with.
func (e *Error) StatusCode() int { return e.Status }

// Write writes web's answer to err on w and returns the status it went
// out with. sent is the status of a response already committed (0 when
// it is not): latch's answer is then appended, as on net/http. The
// response is committed when Write returns, even if a responder wrote
// nothing (it is then a 200 with latch's headers, as on net/http), so that
// no error handler answers it a second time.
func Write(web *latchhttp.Auth, w http.ResponseWriter, r *http.Request, sent int, err error) int {
	sw := &statusWriter{ResponseWriter: w, status: sent}
	web.WriteError(sw, r, err)
	if sw.status == 0 {
		sw.WriteHeader(http.StatusOK) // what net/http sends for a handler that wrote nothing
	}
	return sw.status
}

// statusWriter notes the status written through it. It does not rely on
// echo's Response for that: a writer in between (echo v5's AutoHandleHEAD,
// a middleware's) may hold the status back, and one that does not unwrap
// to echo's Response hides it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.NewResponseController and echo reach the writer
// underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush, FlushError and Hijack make the writer an http.Flusher and an
// http.Hijacker, as net/http's own writer and echo's Response are, for
// responders that assert those interfaces; they go to the writer
// underneath. A flush before any status sends 200, as on net/http.
func (w *statusWriter) Flush() { _ = w.FlushError() }

func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Action is what an adapter's error handler does with an error.
type Action int

const (
	// Answered: an *Error, answered already; left alone, not passed on.
	Answered Action = iota
	// PassOn: not latch's to answer; the wrapped handler gets it.
	PassOn
	// Answer: one of latch's errors, answered with Write.
	Answer
)

// Decide says what an error handler does with err. echoStatus reports
// that err carries a status echo's own way (echo chose its code, so latch
// does not); committed, that the response has been sent.
func Decide(err error, echoStatus, committed bool) Action {
	var le *Error
	switch {
	case errors.As(err, &le):
		return Answered
	case echoStatus, latch.Kind(err) == nil, committed:
		return PassOn
	}
	return Answer
}
