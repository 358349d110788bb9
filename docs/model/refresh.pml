/*
 * The refresh protocol of issue 14 (part 1), as a Promela model for Spin.
 * docs/sessions.md, "The refresh protocol, model-checked", says what it
 * proves and what it leaves out; .ci/spin runs every check.
 *
 * Mapping to the Go code:
 *   store.Session    alive, live, sp, rotAt below. A secret is a small
 *                    number and its hash the number itself (SHA-256 taken
 *                    as injective): RefreshHash == hash(t) is live == {t},
 *                    Spent is sp, RotatedAt is rotAt.
 *   store.Get        read(): the snapshot Auth.Refresh decides on, in one
 *                    atomic step with the decision, at the request's own
 *                    now w (a.now() is read once per request).
 *   store.Rotate     the ROTATE step: one compare-and-swap.
 *   store.Revoke     the REVOKE step (reuse detection) and the Revoker
 *                    process (Logout, RevokeSession, RevokeAll, ...).
 *   Auth.Refresh     present(): read and decide, then Rotate, Revoke or
 *                    nothing; after a lost compare-and-swap, read again.
 *   the HMAC         derive(t) = t+1: successors form one chain
 *                    t0 -> t1 -> t2 -> ..., so a reply can be recomputed.
 *   reuse_grace      G ticks of the Clock process.
 *   keep_spent       KEEP = 2 entries of sp.
 *
 * Processes: TABS tabs of the one legitimate client, which share its token
 * jar, refresh concurrently, lose replies and retry; a Thief, who presents
 * a copy of any secret the client (or the thief) ever held, or a forged
 * one, at any time; a Revoker (logout, an administrator) who may end the
 * session at any time; and the Clock.
 *
 * Broken variants, one macro each (spin -DBROKEN_...):
 *   BROKEN_RANDOM   random successors, as before issue 14: a retry cannot
 *                   get the reply it lost                         (fails p1)
 *   BROKEN_NOGRACE  the idempotent retry ignores the grace        (fails p2)
 *   BROKEN_REVOKE   Rotate ignores revocation                     (fails p3)
 *   BROKEN_CHILD    a presentation inside the grace mints a new live child
 *                   instead of repeating the one successor        (fails p4)
 *   BROKEN_CONFLICT after a lost compare-and-swap, answer as for any spent
 *                   secret, as issue 14 first said: a winner whose request
 *                   began a grace before the loser's (RotatedAt is the
 *                   winner's now, not the instant of its swap) gets the
 *                   loser revoked                                 (fails p1)
 */

#ifndef G
#define G 2		/* reuse grace, in clock ticks */
#endif
#ifndef TMAX
#define TMAX 3		/* the clock stops here */
#endif
#ifndef ROUNDS
#define ROUNDS 1	/* refreshes per tab */
#endif
#ifndef THEFTS
#define THEFTS 2	/* presentations by the thief */
#endif
#define TABS 2		/* legitimate tabs */
#define LOSSES 1	/* replies a refresh may lose before one arrives */

#define NONE 255	/* no secret */
#define FORGED 7	/* a secret never issued; every other is below it */
#define bit(t) (1 << (t))

/* The session in the store. */
bool alive = true;	/* not revoked */
int live = 1;		/* bit set of the secrets whose hash is current: {t0};
			   one element, but BROKEN_CHILD adds more */
byte sp[2];		/* Spent (KEEP = 2), newest first */
byte rotAt;		/* RotatedAt */
byte now;		/* the clock */
byte fresh = 1;		/* the next random secret (BROKEN_RANDOM, _CHILD) */

/* Ghost state: what the properties observe; the protocol never reads it. */
int issued = 1;		/* every secret ever made current */
int held = 1;		/* every secret the client ever received, t0 first */
int thiefHeld;		/* every secret the thief received */
byte jar;		/* the newest secret the client holds; tabs share it */
byte tabsDone;
bool thiefActed;	/* the thief presented something */
bool revokeActed;	/* the Revoker ended the session */
bool lateSpent;		/* the client presented a spent secret after the grace */
bool loggedOut;		/* P1 broken: see judge() */
bool spentGranted;	/* P2 broken: a spent secret got tokens after the grace */
bool deadGranted;	/* P3 broken: a revoked session granted tokens */
bool twoLineages;	/* P4 broken: see judge() */
byte jk, jn;		/* judge()'s scratch, 0 between steps */

mtype = { READ, ROTATE, REREAD, REVOKE, DONE };

#define SPENT(t) (sp[0] == (t) || sp[1] == (t))
#define LIVE(t) ((live & bit(t)) != 0)
/* w is inside the grace of the latest rotation */
#define WITHIN(w) ((w) - rotAt < G)

/* The idempotent case: t is the most recently spent secret and its one
   successor is still current, so the reply is computed again. */
#if defined(BROKEN_RANDOM)
#define AGAIN(t, w) false	/* a random successor cannot be recomputed */
#elif defined(BROKEN_NOGRACE)
#define AGAIN(t, w) (sp[0] == (t) && live == bit((t) + 1))
#elif defined(BROKEN_CHILD)
#define AGAIN(t, w) (sp[0] == (t) && WITHIN(w))	/* mints a new child */
#else
#define AGAIN(t, w) (sp[0] == (t) && WITHIN(w) && live == bit((t) + 1))
#endif

/* Rotate's compare-and-swap condition. */
#if defined(BROKEN_REVOKE)
#define CAS(t) LIVE(t)		/* on a revoked session too */
#else
#define CAS(t) (alive && LIVE(t))
#endif

/* Presenting t at w now would yield tokens. */
#define GRANTS(t, w) (alive && (LIVE(t) || AGAIN(t, w)))

/* The observers of P2 and P3, run at each instant tokens are granted for
   a presented t at w, before the store changes. */
#define GRANTED(t, w) \
	spentGranted = spentGranted || ((issued & bit(t)) != 0 && !LIVE(t) && !WITHIN(w)); \
	deadGranted = deadGranted || !alive

/*
 * judge(): the observers of P1 and P4, run at the end of every step that
 * changes what they read (inside that step's d_step).
 * loggedOut: every tab is done, no thief presented, the Revoker did not
 *   act and no spent secret of the client's arrived after the grace, yet
 *   no secret the client holds would yield tokens now (which includes a
 *   revoked session).
 * twoLineages: the grace of the latest rotation has passed and more than
 *   one secret would yield tokens now.
 */
inline judge() {
	if
	:: tabsDone == TABS && !thiefActed && !revokeActed && !lateSpent ->
		jk = 0; jn = 0;
		do
		:: jk < FORGED ->
			if :: (held & bit(jk)) != 0 && GRANTS(jk, now) -> jn++ :: else fi;
			jk++
		:: else -> break
		od;
		loggedOut = loggedOut || jn == 0
	:: else
	fi;
	if
	:: !WITHIN(now) ->
		jk = 0; jn = 0;
		do
		:: jk <= FORGED ->
			if :: GRANTS(jk, now) -> jn++ :: else fi;
			jk++
		:: else -> break
		od;
		twoLineages = twoLineages || jn > 1
	:: else
	fi;
	jk = 0; jn = 0
}

/* A line of a trace, said for the presenting tab or the thief. */
#define SAY(bytab, bythief) if :: tab -> bytab :: else -> bythief fi

/* again(t, got, tab): the reply when t is presented again: the same
   successor, or (BROKEN_CHILD) a new child. */
inline again(t, got, tab) {
	GRANTED(t, w);
#if defined(BROKEN_CHILD)
	got = fresh; fresh++;
	live = live | bit(got); issued = issued | bit(got);
	SAY(printf("MSC:   tab%d: new child t%d\n", _pid, got),
	    printf("MSC:   thief: new child t%d\n", got));
#else
	got = t + 1;
	SAY(printf("MSC:   tab%d: t%d again (no write)\n", _pid, got),
	    printf("MSC:   thief: t%d again (no write)\n", got));
#endif
	d = DONE
}

/* read(t, got, tab): store.Get and the decision on that snapshot, the
   first step of a presentation, at the request's now w. */
inline read(t, got, tab) {
	w = now;
	if
	:: tab -> printf("MSC: tab%d presents t%d at %d\n", _pid, t, w)
	:: else -> printf("MSC: thief presents t%d at %d\n", t, w)
	fi;
	/* the client's own spent secret after the grace: the case P1 leaves
	   out, as reuse detection is meant to end the session then */
	lateSpent = lateSpent || (tab && (issued & bit(t)) != 0 && !LIVE(t) && !WITHIN(w));
	if
	:: !alive ->
		d = DONE;
		SAY(printf("MSC:   tab%d: refused: session ended\n", _pid),
		    printf("MSC:   thief: refused: session ended\n"))
	:: alive && LIVE(t) ->
		d = ROTATE
	:: alive && !LIVE(t) && AGAIN(t, w) ->
		again(t, got, tab)
	:: alive && !LIVE(t) && !AGAIN(t, w) && SPENT(t) && WITHIN(w) ->
		d = DONE;
		SAY(printf("MSC:   tab%d: refused: spent inside the grace\n", _pid),
		    printf("MSC:   thief: refused: spent inside the grace\n"))
	:: alive && !LIVE(t) && !AGAIN(t, w) && SPENT(t) && !WITHIN(w) ->
		d = REVOKE
	:: alive && !LIVE(t) && !AGAIN(t, w) && !SPENT(t) ->
		d = DONE;
		SAY(printf("MSC:   tab%d: refused: not a secret of the session\n", _pid),
		    printf("MSC:   thief: refused: not a secret of the session\n"))
	fi;
	judge()
}

/* finish(t, got, tab): the rest of the presentation read() began; got is the
   secret of the tokens replied, or NONE for a refusal. */
inline finish(t, got, tab) {
	do
	:: d_step {
		d == ROTATE;
		/* store.Rotate: the compare-and-swap */
		if
		:: CAS(t) ->
			GRANTED(t, w);
#if defined(BROKEN_RANDOM) || defined(BROKEN_CHILD)
			got = fresh; fresh++;
			live = (live & ~bit(t)) | bit(got);
#else
			got = t + 1;
			live = bit(got);
#endif
			issued = issued | bit(got);
			sp[1] = sp[0]; sp[0] = t; rotAt = w;
			d = DONE;
			SAY(printf("MSC:   tab%d: rotated to t%d\n", _pid, got),
			    printf("MSC:   thief: rotated to t%d\n", got))
		:: !CAS(t) && !alive ->
			d = DONE;
			SAY(printf("MSC:   tab%d: Rotate: not found\n", _pid),
			    printf("MSC:   thief: Rotate: not found\n"))
		:: !CAS(t) && alive ->
			d = REREAD;
			SAY(printf("MSC:   tab%d: Rotate: conflict\n", _pid),
			    printf("MSC:   thief: Rotate: conflict\n"))
		fi;
		judge()
	   }
	:: d_step {
		d == REREAD;
		/* ErrConflict: t was current when this request read the session,
		   so it lost a race: read again and answer with the successor,
		   or refuse; never revoke */
		if
		:: alive && AGAIN(t, w) ->
			again(t, got, tab)
#if defined(BROKEN_CONFLICT)
		:: alive && !AGAIN(t, w) && SPENT(t) && !WITHIN(w) ->
			d = REVOKE	/* answered as for any spent secret */
#endif
		:: else ->
			d = DONE;
			SAY(printf("MSC:   tab%d: refused: lost the race\n", _pid),
			    printf("MSC:   thief: refused: lost the race\n"))
		fi;
		judge()
	   }
	:: d_step {
		d == REVOKE;
		/* reuse detection: store.Revoke */
		alive = false; d = DONE;
		SAY(printf("MSC:   tab%d: spent after the grace: revoked\n", _pid),
		    printf("MSC:   thief: spent after the grace: revoked\n"));
		judge()
	   }
	:: d == DONE -> break
	od;
	d == DONE	/* not a d_step: a break may jump here */
}

/* A tab takes the newest secret the client holds, refreshes with it, and
   retries with the same secret when the reply is lost. */
active [TABS] proctype Tab() {
	byte t, got, w, r, lost;
	mtype d;
	do
	:: r < ROUNDS ->
		t = jar;
		do
		:: d_step { got = NONE; read(t, got, true) };
			finish(t, got, true);
			if
			:: d_step {
				got != NONE && lost < LOSSES;
				/* the reply is lost: present t again */
				lost++;
				printf("MSC: tab%d: reply t%d lost\n", _pid, got)
			   }
			:: d_step {
				true;	/* the reply arrives, or it is a refusal */
				if
				:: got != NONE ->
					held = held | bit(got);
					if :: got > jar -> jar = got :: else fi;
					printf("MSC: tab%d holds t%d\n", _pid, got)
				:: else	/* refused: the next round takes what
					   another tab stored */
				fi;
				r++;
				if
				:: r == ROUNDS -> tabsDone++
				:: else
				fi;
				t = 0; got = 0; w = 0; lost = 0; d = 0;	/* dead */
				judge()
			   };
				break
			fi
		od
	:: else -> break
	od
}

/* The thief picks secret v, one that it or the client ever held. */
#define STOLEN(v) ((held | thiefHeld) & bit(v)) != 0 -> t = v

/* The thief presents a copy of any secret the client or the thief ever
   held, or a forged one, at any time. */
active proctype Thief() {
	byte t, got, w, n;
	mtype d;
	do
	:: n < THEFTS ->
		atomic {
			if
			:: STOLEN(0) :: STOLEN(1) :: STOLEN(2) :: STOLEN(3)
			:: STOLEN(4) :: STOLEN(5) :: STOLEN(6)
			:: t = FORGED
			fi;
			thiefActed = true;
			got = NONE;
			read(t, got, false)
		}
		finish(t, got, false);
		d_step {
			if :: got != NONE -> thiefHeld = thiefHeld | bit(got) :: else fi;
			n++;
			t = 0; got = 0; w = 0; d = 0	/* dead */
		}
	:: else -> break
	od
}

/* Logout or an administrator's revocation, at any time; final. */
active proctype Revoker() {
	d_step {
		alive = false; revokeActed = true;
		printf("MSC: revoked at %d\n", now);
		judge()
	}
}

active proctype Clock() {
	do
	:: d_step { now < TMAX; now++; judge() }
	:: now == TMAX -> break
	od
}

/* P1: with no thief, no revocation, and no spent secret of the client's
   presented after the grace, the client is never logged out: once every
   tab is done the session is live and the client holds a secret that
   yields tokens, as the clock runs on. */
ltl p1 { [] !loggedOut }

/* P2: a spent secret presented after the grace never yields tokens; it
   revokes the session, or is refused (a lost race, or a secret the store
   no longer remembers). */
ltl p2 { [] !spentGranted }

/* P3: a revoked session never yields tokens again. */
ltl p3 { [] !deadGranted }

/* P4: once the grace has passed, at most one secret yields tokens. */
ltl p4 { [] !twoLineages }
