package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchauth/latch/store"
)

// row is a sessions row as scanned.
type row struct {
	ID              string `db:"id"`
	Subject         string `db:"subject"`
	DeviceLabel     string `db:"device_label"`
	DeviceUserAgent string `db:"device_user_agent"`
	DeviceIP        string `db:"device_ip"`
	SecretHash      []byte `db:"secret_hash"`
	RefreshHash     []byte `db:"refresh_hash"`
	Spent           string `db:"spent"`
	Claims          []byte `db:"claims"`
	CreatedAt       int64  `db:"created_at"`
	LastUsedAt      int64  `db:"last_used_at"`
	RotatedAt       int64  `db:"rotated_at"`
	FreshUntil      int64  `db:"fresh_until"`
	AccessExpiresAt int64  `db:"access_expires_at"`
	IdleUntil       int64  `db:"idle_until"`
	ExpiresAt       int64  `db:"expires_at"`
	IdleTimeout     int64  `db:"idle_timeout"`
	// Both NULL for the subject's own login, both set for a delegated one.
	ActorSubject   sql.NullString `db:"actor_subject"`
	ActorSessionID sql.NullString `db:"actor_session_id"`
}

// fields returns pointers to r's fields in the order of columns, for
// Scan: no reflection per row, as StructScan has.
func (r *row) fields() []any {
	return []any{&r.ID, &r.Subject, &r.DeviceLabel, &r.DeviceUserAgent, &r.DeviceIP,
		&r.SecretHash, &r.RefreshHash, &r.Spent, &r.Claims,
		&r.CreatedAt, &r.LastUsedAt, &r.RotatedAt, &r.FreshUntil, &r.AccessExpiresAt, &r.IdleUntil, &r.ExpiresAt,
		&r.IdleTimeout, &r.ActorSubject, &r.ActorSessionID}
}

func (r *row) session() (store.Session, error) {
	spent, err := decodeSpent(r.Spent)
	if err != nil {
		return store.Session{}, err
	}
	s := store.Session{
		ID:      r.ID,
		Subject: r.Subject,
		Device: store.Device{
			Label:     r.DeviceLabel,
			UserAgent: r.DeviceUserAgent,
			IP:        r.DeviceIP,
		},
		SecretHash:      r.SecretHash,
		RefreshHash:     r.RefreshHash,
		Spent:           spent,
		CreatedAt:       fromMS(r.CreatedAt),
		LastUsedAt:      fromMS(r.LastUsedAt),
		RotatedAt:       fromMS(r.RotatedAt),
		FreshUntil:      fromMS(r.FreshUntil),
		AccessExpiresAt: fromMS(r.AccessExpiresAt),
		IdleUntil:       fromMS(r.IdleUntil),
		ExpiresAt:       fromMS(r.ExpiresAt),
		IdleTimeout:     time.Duration(r.IdleTimeout),
	}
	if r.ActorSubject.Valid {
		s.Actor = &store.Actor{Subject: r.ActorSubject.String, SessionID: r.ActorSessionID.String}
	}
	if r.Claims != nil {
		if err := json.Unmarshal(r.Claims, &s.Claims); err != nil {
			return store.Session{}, fmt.Errorf("sqlstore: corrupt claims column: %w", err)
		}
	}
	return s, nil
}

// device binds a device field: BYTEA on PostgreSQL (kept byte for byte
// even when not UTF-8), a string elsewhere. lib/pq would send a []byte as
// bytea text, so the choice must match the column.
func (s *Store) device(v string) any {
	if s.d == PostgreSQL {
		return []byte(v)
	}
	return v
}

// actorArgs binds an Actor's columns: NULL for none.
func actorArgs(a *store.Actor) (subject, sessionID any) {
	if a == nil {
		return nil, nil
	}
	return a.Subject, a.SessionID
}
