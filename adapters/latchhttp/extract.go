package latchhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/b64token"
)

// found is a token and where it was found.
type found struct {
	tok string
	loc Location
}

// extract finds the token of type typ in r, trying locs in order. The first
// location holding a token decides, except that different tokens in two of
// header, query and json are latch.ErrConflictingTokens (RFC 6750 §2: a client
// uses one method). A body read for the json location is put back for the
// handler.
func (a *Auth) extract(r *http.Request, typ latch.TokenType, locs []Location) (found, error) {
	var first, rfc found
	for _, loc := range locs {
		var tok string
		var err error
		switch loc {
		case InHeader:
			tok, err = a.fromHeader(r)
		case InCookie:
			tok, err = a.fromCookie(r, typ)
		case InQuery:
			if typ == latch.Access {
				tok, err = fromQuery(r, a.cfg.QueryParam)
			}
		case InJSON:
			tok, err = a.fromJSON(r, typ)
			if err != nil && first.tok != "" {
				// A token was found already; the body was read only to
				// catch a second, different one. A body that cannot hold
				// one does not fail the request.
				tok, err = "", nil
			}
		}
		if err != nil {
			return found{}, err
		}
		if tok == "" {
			continue
		}
		if first.tok == "" {
			first = found{tok, loc}
		}
		if loc == InCookie {
			continue
		}
		if rfc.tok != "" && rfc.tok != tok {
			return found{}, latch.ErrConflictingTokens
		}
		rfc = found{tok, loc}
	}
	if first.tok == "" {
		return found{}, latch.ErrNoToken
	}
	return first, nil
}

// fromHeader reads "Authorization: Bearer <token>". A header with another
// scheme holds no bearer token; a bearer header without a usable token is
// malformed; two headers are a bad request.
func (a *Auth) fromHeader(r *http.Request) (string, error) {
	h := a.cfg
	vals := r.Header.Values(h.HeaderName)
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", fmt.Errorf("%w: more than one %s header", latch.ErrBadRequest, h.HeaderName)
	}
	v := strings.TrimSpace(vals[0])
	if h.HeaderScheme != "" {
		scheme, rest, _ := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, h.HeaderScheme) {
			return "", nil
		}
		v = strings.TrimLeft(rest, " ")
	}
	if v == "" {
		return "", fmt.Errorf("%w: empty %s header", latch.ErrMalformedToken, h.HeaderName)
	}
	return v, checkTokenText(v)
}

func (a *Auth) fromCookie(r *http.Request, typ latch.TokenType) (string, error) {
	name := a.cookieName(typ, false)
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return "", nil
	}
	return c.Value, checkTokenText(c.Value)
}

func fromQuery(r *http.Request, param string) (string, error) {
	vals := r.URL.Query()[param]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		if vals[0] == "" {
			return "", fmt.Errorf("%w: empty %s parameter", latch.ErrMalformedToken, param)
		}
		return vals[0], checkTokenText(vals[0])
	}
	return "", fmt.Errorf("%w: more than one %s parameter", latch.ErrBadRequest, param)
}

// fromJSON reads the token field of a JSON body, at most MaxBodyBytes, and
// restores the body for the handler. Only application/json bodies are
// read; anything else holds no token.
func (a *Auth) fromJSON(r *http.Request, typ latch.TokenType) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return "", nil
	}
	body, err := ReadBody(r, a.cfg.MaxBodyBytes)
	if err != nil {
		return "", err
	}
	if !json.Valid(body) {
		return "", fmt.Errorf("%w: body is not valid JSON", latch.ErrBadRequest)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "", nil // valid JSON but not an object: it holds no token
	}
	key := a.cfg.JSONAccessKey
	if typ == latch.Refresh {
		key = a.cfg.JSONRefreshKey
	}
	raw, ok := fields[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var tok string
	if err := json.Unmarshal(raw, &tok); err != nil {
		return "", fmt.Errorf("%w: %s is not a string", latch.ErrBadRequest, key)
	}
	if tok == "" {
		return "", fmt.Errorf("%w: empty %s", latch.ErrMalformedToken, key)
	}
	return tok, checkTokenText(tok)
}

// ReadBody reads r's body, at most limit bytes, and puts it back so the
// handler can read it again. A longer body is latch.ErrBodyTooLarge, and the
// handler can still read it whole; a body that fails to arrive is
// latch.ErrBadRequest.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, latch.ErrBodyTooLarge
	}
	rest := r.Body
	b, err := io.ReadAll(io.LimitReader(rest, limit+1))
	// Whatever happens, the handler reads what was read, then the rest.
	r.Body = readCloser{io.MultiReader(bytes.NewReader(b), rest), rest}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, latch.ErrBodyTooLarge
		}
		return nil, fmt.Errorf("%w: reading the body failed", latch.ErrBadRequest)
	}
	if int64(len(b)) > limit {
		return nil, latch.ErrBodyTooLarge
	}
	return b, nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// checkTokenText refuses a token no format accepts, before anything else
// looks at it; Authenticate checks the same again.
func checkTokenText(tok string) error {
	if p := b64token.Problem(tok); p != "" {
		return fmt.Errorf("%w: %s", latch.ErrMalformedToken, p)
	}
	return nil
}
