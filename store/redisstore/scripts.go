package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each runs atomically on the node that owns its keys'
// slot, and every key a script reads or writes is in its KEYS: none is
// built inside a script. That is what keeps them right while Redis
// Cluster migrates a slot. Redis decides where a command may run from its
// declared keys alone: while a slot migrates, a node answers ASK when the
// keys are elsewhere and TRYAGAIN when they are split between the two
// nodes, and go-redis follows the one and retries the other. A key a
// script builds itself escapes that check: on the importing node, after
// ASKING, a session key that has not migrated yet reads as absent, and a
// script that trusted that read would drop a live session from its
// subject's index (see doc.go).
//
// A caller that needs the subject's members as KEYS reads them first
// (ZRANGE, one round trip), then passes their session keys. Members added
// in between are not declared: a script that must see every member (a
// capped Create, RevokeSubject) checks that none is left undeclared and
// otherwise reports it, and the caller starts again.
//
// Numbers are handed to redis.call as Lua numbers only where they are
// whole milliseconds below 2^53 in magnitude (the store refuses times
// beyond that), which Redis formats exactly.
//
// Script results: 1 done, 0 the condition failed (throttled touch, lost
// compare-and-swap, id already taken), -1 no live session, -2 the index
// holds a member the caller did not declare (read the index again).
//
// Every script is safe to run twice. go-redis resends a command whose
// connection failed after the write (MaxRetries, 3 by default), so a
// script may run again after it succeeded and its reply was lost. Create
// and Rotate recognise their own earlier run (the value they wrote, the
// random hash they stored) and report success without writing again;
// Touch, Freshen and Revoke write the same state again; RevokeSubject's
// second run finds less to delete and counts that (see RevokeSubject);
// List only prunes. AddStrike is the exception: its rerun counts the
// failure twice, an error in the safe direction for a throttle.

// prelude is prepended to every script.
const prelude = `
-- Redis' clock in milliseconds. It decides nothing about a session's
-- liveness (the caller's now does that); it only drops index members whose
-- session keys Redis has already expired.
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- prune removes the members of the index past their score: a member's
-- score is its session's ExpiresAt, never before the key's own expiry,
-- min(IdleUntil, ExpiresAt), and Redis expires a key once its clock is
-- past that instant. So a pruned member's key is gone.
local function prune(idx)
  return redis.call('ZREMRANGEBYSCORE', idx, '-inf', clock() - 1)
end

-- expire sets the index's own TTL to its highest score, so the index
-- expires when the last ExpiresAt of its sessions has passed.
local function expire(idx)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] then
    redis.call('PEXPIREAT', idx, tonumber(top[2]))
  end
end

-- id returns the session id that ends a session key (store.IDLen
-- characters).
local function id(key)
  return string.sub(key, -22)
end

-- undeclared reports whether the index holds a member scored from min (a
-- ZRANGEBYSCORE bound) on that is not in the set declared.
local function undeclared(idx, min, declared)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', idx, min, '+inf')) do
    if not declared[m] then
      return true
    end
  end
  return false
end

-- report tells every watcher that the session id ended or changed: a
-- PUBLISH on the store's change channel, which is the script's last
-- ARGV (see watch.go).
local function report(sid)
  redis.call('PUBLISH', ARGV[#ARGV], 's:' .. sid)
end

-- subject returns the subject of an encoded session (see encode.go).
local function subject(v)
  local n = struct.unpack('>I2', v, 58)
  return string.sub(v, 60, 59 + n)
end

-- fetch returns the session at key with its LastUsedAt, IdleUntil and
-- ExpiresAt if it is live at now, or nothing.
local function fetch(key, now)
  local v = redis.call('GET', key)
  if not v then
    return nil
  end
  local l, i, e = struct.unpack('>i8i8i8', v, 2)
  if now < i and now < e then
    return v, l, i, e
  end
  return nil
end
`

// createScript stores a new session without a cap.
//
//	KEYS[1] subject index, KEYS[2] session key
//	ARGV[1] id, ARGV[2] encoded session, ARGV[3] the key's deadline (ms,
//	>= 1), ARGV[4] the member's score: ExpiresAt (ms, >= 1)
var createScript = redis.NewScript(prelude + `
local idx, s = KEYS[1], KEYS[2]
local cur = redis.call('GET', s)
if cur then
  -- A replay (the client resent the script after losing the reply) finds
  -- exactly what it wrote, and the id is new and random: done, and
  -- nothing is written or evicted a second time.
  if cur == ARGV[2] then
    return 1
  end
  return 0
end
prune(idx)
redis.call('SET', s, ARGV[2], 'PXAT', ARGV[3])
redis.call('ZADD', idx, ARGV[4], ARGV[1])
expire(idx)
return 1
`)

// createCappedScript stores a new session, evicting under a cap.
//
//	KEYS[1] subject index, KEYS[2] session key, KEYS[3…] the session keys
//	of the members scored after CreatedAt, as the caller read them
//	ARGV[1] id, ARGV[2] encoded session, ARGV[3] deadline (ms, >= 1),
//	ARGV[4] score (ms, >= 1), ARGV[5] max, ARGV[6] CreatedAt (ms),
//	ARGV[7] the change channel: each evicted session is reported
var createCappedScript = redis.NewScript(prelude + `
local idx, s = KEYS[1], KEYS[2]
local cur = redis.call('GET', s)
if cur then
  -- A replay (the client resent the script after losing the reply) finds
  -- exactly what it wrote, and the id is new and random: done, and
  -- nothing is written or evicted a second time.
  if cur == ARGV[2] then
    return 1
  end
  return 0
end
prune(idx)
local at = tonumber(ARGV[6])
local declared = {}
for k = 3, #KEYS do
  declared[id(KEYS[k])] = KEYS[k]
end
-- Members scored at or before CreatedAt are dead at CreatedAt, since a
-- score is an ExpiresAt: they do not count. Any other must be declared.
if undeclared(idx, '(' .. ARGV[6], declared) then
  return -2
end
local others = {}
for k = 3, #KEYS do
  local c = redis.call('GETRANGE', KEYS[k], 1, 32)
  if #c == 32 then
    local _, i, e, created = struct.unpack('>i8i8i8i8', c)
    if at < i and at < e then -- live at CreatedAt
      others[#others + 1] = {created, id(KEYS[k]), KEYS[k]}
    else
      -- Dead at CreatedAt (idled out by the caller's clock, not yet by
      -- Redis'): deleted, as memstore does.
      redis.call('DEL', KEYS[k])
      redis.call('ZREM', idx, id(KEYS[k]))
    end
  else
    -- A declared key that is missing really is: idle-expired, evicted,
    -- deleted by hand. Its member goes.
    redis.call('ZREM', idx, id(KEYS[k]))
  end
end
local max = tonumber(ARGV[5])
if #others >= max then
  -- List order: CreatedAt descending, then id ascending byte by byte
  -- (Lua's < on strings follows the server's locale).
  table.sort(others, function(a, b)
    if a[1] ~= b[1] then
      return a[1] > b[1]
    end
    local x, y = a[2], b[2]
    for k = 1, math.min(#x, #y) do
      local p, q = string.byte(x, k), string.byte(y, k)
      if p ~= q then
        return p < q
      end
    end
    return #x < #y
  end)
  for k = max, #others do
    redis.call('DEL', others[k][3])
    redis.call('ZREM', idx, others[k][2])
    report(others[k][2])
  end
end
redis.call('SET', s, ARGV[2], 'PXAT', ARGV[3])
redis.call('ZADD', idx, ARGV[4], ARGV[1])
expire(idx)
return 1
`)

// touchScript records a use. It declares the session key alone and never
// writes the index: a member's score is ExpiresAt, which a touch does not
// move. A session of version 2 with a positive IdleTimeout slides by no
// more than that: now+IdleTimeout, rounded down to the millisecond, is
// now's milliseconds, IdleTimeout's, and the carry of their nanoseconds
// (see encode.go), so the result is what now.Add(IdleTimeout) gives in Go.
//
//	KEYS[1] session key
//	ARGV[1] now (ms), ARGV[2] now+idle (ms), ARGV[3] now-every (ms): a
//	LastUsedAt after it is too recent to write, ARGV[4] now's nanoseconds
//	past ARGV[1] (0 to 999999)
var touchScript = redis.NewScript(prelude + `
local now = tonumber(ARGV[1])
local v, l, _, e = fetch(KEYS[1], now)
if not v then
  return -1
end
if l > tonumber(ARGV[3]) then
  return 0
end
local idle = math.min(tonumber(ARGV[2]), e)
if string.byte(v, 1) == 2 then
  local ms, ns = struct.unpack('>i8I4', v, 64 + struct.unpack('>I2', v, 58))
  if ms > 0 or (ms == 0 and ns > 0) then
    idle = math.min(idle, now + ms + math.floor((tonumber(ARGV[4]) + ns) / 1000000))
  end
end
redis.call('SETRANGE', KEYS[1], 1, struct.pack('>i8i8', now, idle))
redis.call('PEXPIREAT', KEYS[1], math.max(idle, 1))
return 1
`)

// freshenScript sets FreshUntil alone (SETRANGE) on a live session. Like
// Touch it declares the session key alone, and a session that is gone
// stays gone.
//
//	KEYS[1] session key
//	ARGV[1] now (ms), ARGV[2] FreshUntil (ms), ARGV[3] the change channel
var freshenScript = redis.NewScript(prelude + `
if not fetch(KEYS[1], tonumber(ARGV[1])) then
  return -1
end
redis.call('SETRANGE', KEYS[1], 41, struct.pack('>i8', tonumber(ARGV[2])))
report(id(KEYS[1]))
return 1
`)

// rotateScript is Rotate's compare-and-swap. Like Touch it declares the
// session key alone.
//
//	KEYS[1] session key
//	ARGV[1] now (ms), ARGV[2] old refresh hash, ARGV[3] new refresh hash,
//	ARGV[4] new access hash, ARGV[5] AccessExpiresAt (ms), ARGV[6] IdleUntil
//	(ms), ARGV[7] FreshUntil (ms), ARGV[8] KeepSpent, ARGV[9] the change
//	channel
var rotateScript = redis.NewScript(prelude + `
local now = tonumber(ARGV[1])
local v, _, _, e = fetch(KEYS[1], now)
if not v then
  return -1
end
local n = struct.unpack('>I2', v, 58)
local rot = 64 + n + struct.unpack('>I4', v, 60 + n)
local hl = string.byte(v, rot)
if string.sub(v, rot + 1, rot + hl) ~= ARGV[2] then
  -- A replay (the client resent the script after losing the reply) finds
  -- the new hashes it stored. The new refresh hash is random, so no other
  -- rotation stored it: done, without spending Old a second time.
  local ah = rot + 1 + hl
  if ARGV[3] ~= ARGV[2] and string.sub(v, rot + 1, rot + hl) == ARGV[3] and
      string.sub(v, ah + 1, ah + string.byte(v, ah)) == ARGV[4] then
    return 1
  end
  return 0
end
local p = rot + 1 + hl
p = p + 1 + string.byte(v, p) -- past the access hash: the spent hashes follow
local spent = string.char(#ARGV[2]) .. ARGV[2] .. string.sub(v, p)
local q = 1
for _ = 1, tonumber(ARGV[8]) do
  if q > #spent then
    break
  end
  q = q + 1 + string.byte(spent, q)
end
spent = string.sub(spent, 1, q - 1)
local idle = math.min(tonumber(ARGV[6]), e)
local nv = string.sub(v, 1, 1) .. struct.pack('>i8i8', now, idle) .. string.sub(v, 18, 33) ..
  struct.pack('>i8i8i8', now, tonumber(ARGV[7]), tonumber(ARGV[5])) ..
  string.sub(v, 58, rot - 1) ..
  string.char(#ARGV[3]) .. ARGV[3] .. string.char(#ARGV[4]) .. ARGV[4] .. spent
redis.call('SET', KEYS[1], nv, 'PXAT', math.max(idle, 1))
report(id(KEYS[1]))
return 1
`)

// revokeScript deletes one session of a subject.
//
//	KEYS[1] session key, KEYS[2] the subject's index under the id's tag
//	ARGV[1] subject, ARGV[2] the change channel
var revokeScript = redis.NewScript(prelude + `
local v = redis.call('GET', KEYS[1])
if v and subject(v) ~= ARGV[1] then
  return 0
end
local n = redis.call('DEL', KEYS[1])
if n > 0 then
  report(id(KEYS[1]))
end
if redis.call('ZREM', KEYS[2], id(KEYS[1])) + prune(KEYS[2]) > 0 then
  expire(KEYS[2])
end
return n
`)

// revokeSubjectScript deletes the declared sessions of one index but
// keep: {deleted, 1 if the index still holds undeclared members else 0}.
//
//	KEYS[1] subject index, KEYS[2…] the members' session keys
//	ARGV[1] the id to keep ("" none), ARGV[2] the change channel
var revokeSubjectScript = redis.NewScript(prelude + `
local idx = KEYS[1]
local n = 0
local declared = {}
for k = 2, #KEYS do
  local m = id(KEYS[k])
  declared[m] = true
  if m ~= ARGV[1] then
    if redis.call('DEL', KEYS[k]) > 0 then
      n = n + 1
      report(m)
    end
    redis.call('ZREM', idx, m)
  elseif redis.call('EXISTS', KEYS[k]) == 0 then
    redis.call('ZREM', idx, m)
  end
end
prune(idx)
expire(idx)
local more = 0
if undeclared(idx, '-inf', declared) then
  more = 1
end
return {n, more}
`)

// listScript returns the declared sessions live at now: {pruned, id1,
// session1, id2, session2, …}, where pruned counts the members it removed
// (a write).
//
//	KEYS[1] subject index, KEYS[2…] the members' session keys
//	ARGV[1] now (ms)
var listScript = redis.NewScript(prelude + `
local idx = KEYS[1]
local now = tonumber(ARGV[1])
local out = {0}
local pruned = prune(idx)
for k = 2, #KEYS do
  local v = fetch(KEYS[k], now)
  if v then
    out[#out + 1] = id(KEYS[k])
    out[#out + 1] = v
  elseif redis.call('EXISTS', KEYS[k]) == 0 then
    pruned = pruned + redis.call('ZREM', idx, id(KEYS[k]))
  end
end
if pruned > 0 then
  expire(idx)
end
out[1] = pruned
return out
`)

// addStrikeScript counts one failure against a throttle bucket: {Count,
// Last (ms)} as they now stand, or {-1, 0} when the key holds a value this
// package did not write. The record is kept as throttle.go lays it out,
// and the key expires grace after the record, counted from the server's
// clock (PX, relative): a server clock out of step with the callers'
// neither ends a record early nor keeps it past that.
//
//	KEYS[1] the bucket's key
//	ARGV[1] now (ms), ARGV[2] ttl (ms, >= 1), ARGV[3] grace (ms)
var addStrikeScript = redis.NewScript(`
local maxMS = 9007199254740991 -- 2^53-1, maxMS in encode.go
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, last = 0, now
local v = redis.call('GET', KEYS[1])
if v then
  if #v ~= 24 then
    return {-1, 0}
  end
  local c, l, e = struct.unpack('>i8i8i8', v)
  if now < e then -- not expired at now
    n, last = c, math.max(l, now)
  end
end
n = n + 1
local e = math.min(last + ttl, maxMS)
redis.call('SET', KEYS[1], struct.pack('>i8i8i8', n, last, e), 'PX',
  math.max(1, math.min(e - now + tonumber(ARGV[3]), maxMS)))
return {n, last}
`)

// scripts lists every script, for tests that flush and reload them.
var scripts = []*redis.Script{createScript, createCappedScript, touchScript, freshenScript, rotateScript, revokeScript, revokeSubjectScript, listScript, addStrikeScript}
