package latch

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchauth/latch/store"
)

// Bucket names one of login throttling's counters of failures.
type Bucket string

// The buckets every login attempt is counted in.
const (
	BucketAccount Bucket = "account"         // the account, from any address
	BucketPair    Bucket = "account_address" // the account from one address
	BucketAddress Bucket = "address"         // one address (IPv6: its /64), any account
)

// buckets are the buckets in the order of Attempt.keys.
var buckets = [3]Bucket{BucketAccount, BucketPair, BucketAddress}

// keyPrefix begins each bucket's store keys.
var keyPrefix = map[Bucket]string{BucketAccount: "thr-a:", BucketPair: "thr-p:", BucketAddress: "thr-n:"}

// Bounds of ThrottleConfig.
const (
	maxThrottleFree  = 10000
	maxThrottleDelay = time.Hour
)

// Throttle asks whether a login to account from the client address addr
// may be tried now, before the application checks the password. It
// returns an Attempt to report the outcome on, or a *ThrottledError
// (ErrThrottled) saying how long to wait: then do not check the password.
//
//	att, err := auth.Throttle(ctx, username, clientIP)
//	if err != nil {
//		return err // ErrThrottled: latchhttp answers 429 with Retry-After
//	}
//	user := users.Check(username, password) // as slow for unknown users
//	if err := att.Done(ctx, user != nil); err != nil || user == nil {
//		...
//	}
//
// account is the name the user typed (compared in lower case); latch
// never looks it up, so an unknown account costs and answers exactly as a
// known one. addr is the client's IP address, with or without a port
// (http.Request.RemoteAddr will do when no proxy stands in front): behind
// a reverse proxy, pass the client's address the proxy vouches for, or
// every client shares the proxy's bucket. An address that is not an IP
// address is ErrBadRequest.
//
// The counters live in the store, which must implement store.Throttle (an
// error naming the store otherwise); a store failure is ErrUnavailable,
// never a pass. See ThrottleConfig for the buckets and delays.
func (a *Auth) Throttle(ctx context.Context, account, addr string) (*Attempt, error) {
	network, err := clientNetwork(addr)
	if err != nil {
		return nil, err
	}
	account = strings.ToLower(account)
	t := &Attempt{a: a, keys: [3]string{
		a.bucketKey(BucketAccount, account),
		a.bucketKey(BucketPair, account, network),
		a.bucketKey(BucketAddress, network),
	}}
	now := a.now()
	recs, err := a.sessions.Strikes(ctx, t.keys[:], now)
	if err != nil {
		return nil, err
	}
	var wait time.Duration
	for i, r := range recs {
		wait = max(wait, a.cfg.Throttle.wait(buckets[i], r, now))
	}
	if wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	// Count the attempt in the account's buckets before the password is
	// checked, so that attempts made at once cannot all pass the check
	// above: each gets a count of its own, and one whose count is past the
	// free attempts and not the next after what it read was overtaken by
	// another attempt. It is refused and keeps its strike, and is not
	// counted in the next bucket: a count there then goes only to
	// attempts the buckets before it let through, so a burst gets as many
	// tries as the smallest allowance, not fewer. A success clears these
	// buckets again.
	for i, key := range t.keys[:2] {
		r, err := a.sessions.AddStrike(context.WithoutCancel(ctx), key, now, a.cfg.Throttle.Window.D())
		if err != nil {
			return nil, err
		}
		a.tripped(ctx, buckets[i], r, now)
		if r.Count <= a.cfg.Throttle.free(buckets[i]) || r.Count == recs[i].Count+1 {
			continue
		}
		if w := a.cfg.Throttle.wait(buckets[i], r, now); w > 0 {
			t.done.Store(true)
			return nil, &ThrottledError{RetryAfter: w}
		}
	}
	return t, nil
}

// tripped reports an EventThrottle when r has just used up bucket b's
// free attempts.
func (a *Auth) tripped(ctx context.Context, b Bucket, r store.Strikes, now time.Time) {
	if r.Count == a.cfg.Throttle.free(b) {
		a.emit(ctx, Event{Kind: EventThrottle, Time: now, Bucket: b})
	}
}

// Attempt is a login attempt that Auth.Throttle let through. Report its
// outcome with Done once the password is checked; an attempt never Done
// (the check itself failed) counts for nothing.
type Attempt struct {
	a    *Auth
	keys [3]string // in the order of buckets
	done atomic.Bool
}

// Done records the outcome of the attempt: ok (the password was right)
// clears the account's buckets (the account's own, and the account's from
// this address); a failure leaves the strikes Throttle counted there and
// adds one to the address's bucket, reporting an EventThrottle for each
// bucket whose free attempts it used up. A failure is recorded even once
// ctx is cancelled, so a client cannot escape it by hanging up; an attempt
// never Done (the check itself failed) keeps its strikes in the account's
// buckets. Only the first call counts; Done on a nil Attempt does
// nothing. Its error is a store failure (ErrUnavailable), or a store that
// lacks store.Throttle.
func (t *Attempt) Done(ctx context.Context, ok bool) error {
	if t == nil || !t.done.CompareAndSwap(false, true) {
		return nil
	}
	a := t.a
	if ok {
		return a.sessions.ClearStrikes(ctx, t.keys[:2])
	}
	ctx = context.WithoutCancel(ctx)
	now := a.now()
	r, err := a.sessions.AddStrike(ctx, t.keys[2], now, a.cfg.Throttle.Window.D())
	if err != nil {
		return err
	}
	a.tripped(ctx, buckets[2], r, now)
	return nil
}

// free returns the free attempts of bucket b.
func (c ThrottleConfig) free(b Bucket) int {
	switch b {
	case BucketAccount:
		return c.AccountFree
	case BucketPair:
		return c.PairFree
	}
	return c.AddressFree
}

// wait returns how long from now bucket b, with record r, delays the next
// attempt: nothing within its free attempts, then BaseDelay after the
// latest failure, doubled for each failure beyond, at most MaxDelay.
func (c ThrottleConfig) wait(b Bucket, r store.Strikes, now time.Time) time.Duration {
	over := r.Count - c.free(b)
	if over < 0 {
		return 0
	}
	d := c.MaxDelay.D()
	if over < 32 {
		d = min(c.BaseDelay.D()<<over, d)
	}
	return max(r.Last.Add(d).Sub(now), 0)
}

// clientNetwork returns the network a client address counts for: the
// address itself for IPv4 (an IPv4-mapped IPv6 address included), its /64
// for IPv6, since one host commonly holds a whole /64.
func clientNetwork(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	bare := addr
	if len(addr) > 2 && addr[0] == '[' && addr[len(addr)-1] == ']' {
		bare = addr[1 : len(addr)-1]
	}
	ip, err := netip.ParseAddr(bare)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			return "", fmt.Errorf("%w: the client address is not an IP address", ErrBadRequest)
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	bits := 64
	if ip.Is4() {
		bits = 32
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return "", fmt.Errorf("%w: the client address is not an IP address", ErrBadRequest)
	}
	return p.String(), nil
}

// bucketKey returns the store key of bucket b for labels: a short prefix
// naming the bucket and an HMAC-SHA256 of the length-prefixed labels
// under a key derived from the session key, so the store never holds an
// account name or address, a dump of it cannot confirm a guessed one,
// and every key has the same length (49 bytes, within
// store.MaxStrikeKeyLen). A new session key starts the counts afresh.
func (a *Auth) bucketKey(b Bucket, labels ...string) string {
	h := hmac.New(sha256.New, a.throttleKey)
	h.Write([]byte(string(b) + "\x00"))
	for _, l := range labels {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(l))))
		h.Write([]byte(l))
	}
	return keyPrefix[b] + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// errNoThrottle is the error of a throttling call on a store without
// store.Throttle.
func errNoThrottle(s store.Store) error {
	return fmt.Errorf("latch: login throttling keeps its counters in the store, and the store (%T) does not implement store.Throttle", s)
}
