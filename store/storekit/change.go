package storekit

import (
	"strings"

	"github.com/latchauth/latch/store"
)

// The text form of a store.Change, as a store that sends reports through
// its backend (a Redis channel, a PostgreSQL notification) writes them: a
// letter for the kind, a colon and the id. A store may build these in its
// backend's own language (a Lua script, a trigger): they are part of the
// format, stable.
const (
	SessionChangePrefix = "s:" // store.ChangeSession
	SubjectChangePrefix = "u:" // store.ChangeSubject
	BeatChangePrefix    = "b:" // store.ChangeBeat
)

// ChangeText returns the text form of c; a ChangeReady, which no backend
// carries, has none ("").
func ChangeText(c store.Change) string {
	switch c.Kind {
	case store.ChangeSession:
		return SessionChangePrefix + c.ID
	case store.ChangeSubject:
		return SubjectChangePrefix + c.ID
	case store.ChangeBeat:
		return BeatChangePrefix + c.ID
	}
	return ""
}

// ParseChange reads the text form of a Change. Text of no known form is
// not ok: a watcher that cannot read a report must treat it as a
// subscription that broke (something changed, it cannot say what).
func ParseChange(text string) (c store.Change, ok bool) {
	for _, k := range [...]struct {
		prefix string
		kind   store.ChangeKind
	}{{SessionChangePrefix, store.ChangeSession}, {SubjectChangePrefix, store.ChangeSubject}, {BeatChangePrefix, store.ChangeBeat}} {
		if id, found := strings.CutPrefix(text, k.prefix); found && id != "" {
			return store.Change{Kind: k.kind, ID: id}, true
		}
	}
	return store.Change{}, false
}
