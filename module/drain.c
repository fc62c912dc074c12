// SPDX-License-Identifier: GPL-2.0
/*
 * Graceful termination: the DRAIN policy and the deadlines that bound it.
 *
 * A server that closes with input still unread (a pipelined request, an
 * unread upload) gets an RST from stock Linux, and the RST throws away
 * the response still in its send queue.  Servers work around it in user
 * space by shutting down their sending side and reading until EOF or a
 * timeout (nginx's lingering close); that stops when the process exits.
 * TCPTERM_POLICY_DRAIN does the same inside the kernel: on close() the
 * socket is not orphaned, tcpterm keeps it the way such a server keeps
 * its descriptor, and reads and discards its input through the stock
 * read path.  Everything on the wire is what the stock code does for a
 * half-closed socket whose owner reads: only data the stack accepted is
 * consumed, ACKs, window updates, timestamps and SACK are stock.
 *
 *   close()
 *     |  unread input is consumed first, then SHUT_WR: a FIN follows the
 *     |  data, not an RST; the socket is detached from its file
 *     v
 *   FIN_WAIT1 / FIN_WAIT2, held
 *     |  sk_data_ready: input accepted by the stack is consumed
 *     |
 *     +-- peer's FIN --------------------------> TIME_WAIT (clean end)
 *     +-- drain limit (TCPTERM_DRAIN_TIME_MS since close(), or
 *     |   TCPTERM_DRAIN_IDLE_MS without new input or new ACKs of our
 *     |   data and FIN), input was discarded:
 *     |     everything we sent acknowledged ---> RST, forced
 *     |     the peer still acknowledging -------> wait
 *     |     the peer stalled -------------------> stock close
 *     +-- TCPTERM_DRAIN_TIME_MS, no input ever --> stock close
 *
 * "Stock close" hands the socket to tcp_close(): from there it is an
 * orphan like any other.  A DRAIN socket that never saw input after
 * close() therefore behaves exactly as stock, packet for packet.
 *
 * TCPTERM_GRACE_MS bounds the end of any policy once our FIN is queued:
 * the peer has GRACE_MS after the last moment it made progress (our
 * data or FIN newly acknowledged) to finish the termination, or the
 * connection is reset and flagged forced.  A slow reader that keeps
 * acknowledging is never cut; one that stalls (zero window, silence) or
 * that has everything and does not send its FIN is.  Progress is sampled
 * every GRACE_MS/4 and seen at once when our FIN is acknowledged.  A
 * socket closed with a grace set is held as DRAIN holds it (an orphan
 * in FIN_WAIT2 would become a timewait socket, which cannot be reset),
 * with its read side shut: input after close() gets the stock RST.
 *
 * Each socket with a pending deadline holds one delayed work item and a
 * socket reference; a held socket also holds the reference its file
 * had.  The work runs at the earliest deadline, looks at the socket under
 * its lock and waits, resets, hands it to tcp_close(), or lets go once
 * the connection has ended.  A held socket that the stack closes in
 * softirq (TIME_WAIT after the peer's FIN, a reset) is ended right there,
 * as tcp_done() ends an orphan; its work only drops the reference, in
 * one run for all the sockets that ended within tcpterm_reap_delay_ms.
 * Unload hands every held socket to tcp_close() and cancels every
 * deadline.
 */
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/tcpterm.h>

#include "drain.h"
#include "netlink.h"
#include "notice.h"
#include "prot.h"
#include "sock.h"
#include "tcphelp.h"

/* The errno a socket ended by a deadline reports to its owner. */
static const int tcpterm_forced_errno = ETIMEDOUT;

/* States from which a connection can still end; CLOSE means it has. */
static const int tcpterm_live_states = TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				       TCPF_CLOSING | TCPF_LAST_ACK;

/* Our FIN is queued or sent. */
static const int tcpterm_fin_states = TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				      TCPF_CLOSING | TCPF_LAST_ACK;

/* close() in these can be held: input can still arrive. */
static const int tcpterm_hold_states = TCPF_ESTABLISHED | TCPF_FIN_WAIT1 |
				       TCPF_FIN_WAIT2;

/* Grace progress is sampled this many times per GRACE_MS. */
static const unsigned int tcpterm_grace_samples = 4;

/*
 * A socket destroyed while its deadline is armed, but not by tcpterm
 * (a close() of a socket with a grace, a reset in process context),
 * leaves its entry for the work to free.  Not at once: one work run then
 * serves the many sockets that ended meanwhile, instead of a wakeup each.
 */
static const unsigned int tcpterm_reap_delay_ms = 100;

static struct workqueue_struct *tcpterm_dl_wq;

/*
 * The armed list: every tcpterm_sock with a deadline.  Its lock guards
 * the dl_ fields of struct tcpterm_ext.  Being on the list holds a
 * reference on the socket, and so does each run of the work that is
 * queued or running (dl_runs counts them): a run always finds its
 * socket.  The entry of a destroyed socket (dl_dead) is freed by
 * whoever leaves it off the list with no run left, and not by unload's
 * loop (dl_unload) while that has it.
 */
static LIST_HEAD(tcpterm_dl_list);
static DEFINE_SPINLOCK(tcpterm_dl_lock);
static bool tcpterm_dl_stopping;

static void tcpterm_note_forced(struct sock *sk, struct tcpterm_sock *ts,
				enum tcpterm_rst_reason why, bool rst)
{
	enum tcpterm_stat stat = why == TCPTERM_RST_GRACE ?
				 TCPTERM_STAT_GRACE_FORCED :
				 TCPTERM_STAT_DRAINS_FORCED;

	spin_lock_bh(&ts->lock);
	ts->flags |= TCPTERM_F_FORCED | (rst ? TCPTERM_F_RST_SENT : 0);
	ts->rst_reason = why;
	ts->rst_time_ns = ktime_get_ns();
	spin_unlock_bh(&ts->lock);
	tcpterm_stat_add(sock_net(sk), stat, 1);
	tcpterm_event(sk, TCPTERM_EV_FORCED, why);
}

/*
 * A deadline ran out.  Process context, socket not locked; the caller
 * holds a reference.  tcp_abort() sends the RST where TCP sends one (not
 * in CLOSING or LAST_ACK, where the peer has finished sending), then
 * tcp_done(); an owner still holding the socket reads the errno.
 */
static void tcpterm_force(struct sock *sk, struct tcpterm_sock *ts,
			  enum tcpterm_rst_reason why)
{
	bool live;

	lock_sock(sk);
	live = (1 << sk->sk_state) & tcpterm_live_states;
	if (live)
		tcpterm_note_forced(sk, ts, why,
				    tcpterm_abort_resets(sk->sk_state));
	release_sock(sk);
	if (live)
		tcp_abort(sk, tcpterm_forced_errno);
}

/* Has @at passed?  If not, bring *next forward to it. */
static bool tcpterm_due(unsigned long at, unsigned long now,
			unsigned long *next, bool *any)
{
	if (time_after_eq(now, at))
		return true;
	if (!*any || time_before(at, *next))
		*next = at;
	*any = true;
	return false;
}

static unsigned long tcpterm_ms(u32 ms)
{
	return msecs_to_jiffies(ms);
}

/* Has everything we sent, FIN included, been acknowledged? */
static bool tcpterm_all_acked(const struct sock *sk)
{
	return sk->sk_state == TCP_FIN_WAIT2;
}

/* Note progress: snd_una moved since the last look.  Socket locked. */
static void tcpterm_sample(struct sock *sk, struct tcpterm_sock *ts,
			   unsigned long now)
{
	u32 una = READ_ONCE(tcp_sk(sk)->snd_una);

	if (una != ts->ext->una_seen) {
		ts->ext->una_seen = una;
		ts->ext->progress_at = now;
	}
}

enum tcpterm_dl_act {
	TCPTERM_DL_WAIT,	/* until *next (none left: !*any) */
	TCPTERM_DL_FORCE,	/* reset, for *why */
	TCPTERM_DL_HANDBACK,	/* a held socket goes to tcp_close() */
};

/* The grace deadline, when one is set and our FIN is queued. */
static enum tcpterm_dl_act tcpterm_grace_eval(struct sock *sk,
					      struct tcpterm_sock *ts,
					      unsigned long now,
					      unsigned long *next, bool *any)
{
	u32 grace_ms = READ_ONCE(ts->p.grace_ms);
	unsigned long at, sample;

	if (!ts->ext->fin_queued || !grace_ms)
		return TCPTERM_DL_WAIT;
	at = ts->ext->progress_at + tcpterm_ms(grace_ms);
	if (tcpterm_due(at, now, next, any))
		return TCPTERM_DL_FORCE;
	if (!tcpterm_all_acked(sk)) {
		sample = max(tcpterm_ms(grace_ms) / tcpterm_grace_samples, 1UL);
		tcpterm_due(now + sample, now, next, any);
	}
	return TCPTERM_DL_WAIT;
}

/* The drain limits of a held DRAIN socket. */
static enum tcpterm_dl_act tcpterm_drain_eval(struct sock *sk,
					      struct tcpterm_sock *ts,
					      unsigned long now,
					      unsigned long *next, bool *any,
					      enum tcpterm_rst_reason *why)
{
	unsigned long idle = tcpterm_ms(READ_ONCE(ts->p.drain_idle_ms));
	unsigned long end = ts->ext->close_at +
			    tcpterm_ms(READ_ONCE(ts->p.drain_time_ms));
	unsigned long quiet;

	if (!ts->ext->held || !ts->ext->drain)
		return TCPTERM_DL_WAIT;
	if (!ts->ext->draining)
		return tcpterm_due(end, now, next, any) ?
		       TCPTERM_DL_HANDBACK : TCPTERM_DL_WAIT;

	/* Idle: neither input nor progress on what we sent. */
	quiet = time_after(ts->ext->progress_at, ts->ext->last_rx) ? ts->ext->progress_at :
							   ts->ext->last_rx;
	if (tcpterm_due(end, now, next, any))
		*why = TCPTERM_RST_DRAIN_TIME;
	else if (tcpterm_due(quiet + idle, now, next, any))
		*why = TCPTERM_RST_DRAIN_IDLE;
	else
		return TCPTERM_DL_WAIT;

	/* A limit ran out: reset only what the peer has all of. */
	if (tcpterm_all_acked(sk))
		return TCPTERM_DL_FORCE;
	if (tcpterm_due(ts->ext->progress_at + idle, now, next, any))
		return TCPTERM_DL_HANDBACK;
	return TCPTERM_DL_WAIT;
}

/*
 * What to do at @now, or the next moment to look again in *next (*any
 * false: nothing left to wait for).  Socket locked.
 */
static enum tcpterm_dl_act tcpterm_deadline_eval(struct sock *sk,
						 struct tcpterm_sock *ts,
						 unsigned long now,
						 unsigned long *next,
						 bool *any,
						 enum tcpterm_rst_reason *why)
{
	enum tcpterm_dl_act act;

	*any = false;
	*why = TCPTERM_RST_NONE;
	tcpterm_sample(sk, ts, now);
	act = tcpterm_grace_eval(sk, ts, now, next, any);
	if (act == TCPTERM_DL_FORCE) {
		*why = TCPTERM_RST_GRACE;
		return act;
	}
	return tcpterm_drain_eval(sk, ts, now, next, any, why);
}

static unsigned long tcpterm_delay(unsigned long at, unsigned long now)
{
	return time_after(at, now) ? at - now : 0;
}

/*
 * Have the work run at @at, counting (and holding @sk for) a run that
 * this queues.  A run already queued for @at or earlier stays as it is:
 * it looks again when it runs, and a run asked for "now" (the socket
 * ended) is never put off.  Under the armed list's lock.
 */
static void tcpterm_dl_queue(struct sock *sk, struct tcpterm_ext *ext,
			     unsigned long at, unsigned long now)
{
	if (delayed_work_pending(&ext->dl_work) &&
	    !time_after(ext->dl_at, at))
		return;
	ext->dl_at = at;
	if (!mod_delayed_work(tcpterm_dl_wq, &ext->dl_work,
			      tcpterm_delay(at, now))) {
		ext->dl_runs++;
		sock_hold(sk);
	}
}

/*
 * Take @ext off the armed list and cancel a run still queued; under the
 * list's lock.  Returns how many references on the socket the caller
 * must drop (the list's, a cancelled run's) once it has let the lock go.
 */
static int tcpterm_dl_disarm(struct tcpterm_ext *ext)
{
	int puts = 0;

	if (!list_empty(&ext->dl_node)) {
		list_del_init(&ext->dl_node);
		puts++;
	}
	if (cancel_delayed_work(&ext->dl_work)) {
		ext->dl_runs--;
		puts++;
	}
	return puts;
}

/* Drop what tcpterm_dl_disarm() handed over; @off: it left the list. */
static void tcpterm_dl_put(struct sock *sk, int puts, bool off)
{
	if (off)
		tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_DEADLINES, (u64)-1);
	while (puts--)
		sock_put(sk);
}

/* May the entry of a destroyed socket go?  Under the list's lock. */
static bool tcpterm_dl_unused(const struct tcpterm_ext *ext)
{
	return ext->dl_dead && list_empty(&ext->dl_node) && !ext->dl_runs &&
	       !ext->dl_unload;
}

/*
 * Arm or move the deadline work of @sk.  Socket locked, any context.
 * False when it is not armed: nothing to wait for, or unload began.
 */
static bool tcpterm_deadline_arm(struct sock *sk, struct tcpterm_sock *ts)
{
	unsigned long now = jiffies, next = now;
	enum tcpterm_rst_reason why;
	bool any, first;

	if (tcpterm_deadline_eval(sk, ts, now, &next, &any, &why) !=
	    TCPTERM_DL_WAIT)
		next = now;
	else if (!any)
		return !list_empty(&ts->ext->dl_node);

	spin_lock_bh(&tcpterm_dl_lock);
	if (tcpterm_dl_stopping) {
		spin_unlock_bh(&tcpterm_dl_lock);
		return false;
	}
	first = list_empty(&ts->ext->dl_node);
	if (first) {
		sock_hold(sk);
		list_add(&ts->ext->dl_node, &tcpterm_dl_list);
	}
	tcpterm_dl_queue(sk, ts->ext, next, now);
	spin_unlock_bh(&tcpterm_dl_lock);

	if (first)
		tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_DEADLINES, 1);
	return true;
}

/*
 * End of a work run: re-arm for @next, or disarm when the connection is
 * over (@done) or its socket was destroyed.  Drops the run's reference;
 * frees the entry if the socket is gone and nothing else refers to it.
 * Nothing of the entry may be touched after the lock unless it is ours.
 */
static void tcpterm_deadline_settle(struct tcpterm_sock *ts, bool done,
				    unsigned long next)
{
	struct tcpterm_ext *ext = ts->ext;
	struct sock *sk = ts->sk;
	bool off = false, unused;
	int puts = 1;

	spin_lock_bh(&tcpterm_dl_lock);
	ext->dl_runs--;
	if (!list_empty(&ext->dl_node)) {
		if (done || ext->dl_dead) {
			off = true;
			puts += tcpterm_dl_disarm(ext);
		} else {
			tcpterm_dl_queue(sk, ext, next, jiffies);
		}
	}
	unused = tcpterm_dl_unused(ext);
	spin_unlock_bh(&tcpterm_dl_lock);

	if (unused)
		tcpterm_sock_free(ts);
	tcpterm_dl_put(sk, puts, off);
}

/*
 * Stop holding @sk: its callbacks go back and tcp_close() does what a
 * close() would have done.  Process context, socket not locked; the
 * caller still has its own reference (tcp_close() drops the file's).
 */
static void tcpterm_release_held(struct sock *sk, struct tcpterm_sock *ts)
{
	lock_sock(sk);
	/*
	 * The stack may have ended it meanwhile (tcpterm_end_held(), in
	 * softirq while nobody owned it); once unwatched here, it cannot.
	 */
	if (!ts->ext->held) {
		release_sock(sk);
		return;
	}
	tcpterm_unwatch(sk, ts);
	ts->ext->held = false;
	release_sock(sk);
	tcp_close(sk, 0);
}

static void tcpterm_deadline_workfn(struct work_struct *work)
{
	struct tcpterm_ext *ext = container_of(to_delayed_work(work),
					       struct tcpterm_ext, dl_work);
	struct tcpterm_sock *ts = ext->ts;
	enum tcpterm_dl_act act = TCPTERM_DL_WAIT;
	enum tcpterm_rst_reason why = TCPTERM_RST_NONE;
	struct sock *sk = ts->sk;
	bool done, held, any = false;
	unsigned long next = 0;

	lock_sock(sk);
	held = ts->ext->held && !READ_ONCE(ts->ext->dl_dead);
	done = READ_ONCE(ts->ext->dl_dead) ||
	       !((1 << sk->sk_state) & tcpterm_live_states);
	if (!done) {
		act = tcpterm_deadline_eval(sk, ts, jiffies, &next, &any, &why);
		done = act != TCPTERM_DL_WAIT || !any;
	}
	release_sock(sk);

	if (act == TCPTERM_DL_FORCE)
		tcpterm_force(sk, ts, why);
	if (held && done)
		tcpterm_release_held(sk, ts);
	tcpterm_deadline_settle(ts, done, next);
}

/*
 * The socket of @ts is being destroyed (its destroy op, any context).
 * An entry that is armed, has a run of its work queued or running, or
 * is in unload's hands stays until they let it go: true then.  An armed
 * one is reaped by a run soon (it takes itself off the list).
 */
static bool tcpterm_deadline_orphan(struct tcpterm_sock *ts)
{
	struct tcpterm_ext *ext = ts->ext;
	bool taken;

	if (!ext)
		return false;
	spin_lock_bh(&tcpterm_dl_lock);
	taken = !list_empty(&ext->dl_node) || ext->dl_runs || ext->dl_unload;
	if (taken)
		ext->dl_dead = true;
	if (!list_empty(&ext->dl_node))
		tcpterm_dl_queue(ts->sk, ext, jiffies +
				 msecs_to_jiffies(tcpterm_reap_delay_ms),
				 jiffies);
	spin_unlock_bh(&tcpterm_dl_lock);
	return taken;
}

/* Input is being discarded after close(): the drain has begun. */
static void tcpterm_drain_begin(struct sock *sk, struct tcpterm_sock *ts)
{
	ts->ext->draining = true;
	ts->ext->last_rx = jiffies;
	spin_lock_bh(&ts->lock);
	ts->flags |= TCPTERM_F_DRAINING;
	spin_unlock_bh(&ts->lock);
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_DRAINS, 1);
	tcpterm_event(sk, TCPTERM_EV_DRAIN, TCPTERM_RST_NONE);
}

/* Our FIN not yet acknowledged (sk_stream_closing() in stream.c). */
static bool tcpterm_closing(const struct sock *sk)
{
	return (1 << READ_ONCE(sk->sk_state)) &
	       (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK);
}

/*
 * SO_LINGER with a timeout: close() waits until our data and FIN are
 * acknowledged or the time runs out, as sk_stream_wait_close() does (not
 * exported by every supported kernel).  Socket locked.
 */
static void tcpterm_wait_close(struct sock *sk, long timeout)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	do {
		if (sk_wait_event(sk, &timeout, !tcpterm_closing(sk), &wait))
			break;
	} while (!signal_pending(current) && timeout);
	remove_wait_queue(sk_sleep(sk), &wait);
}

/*
 * Our FIN is queued: from now on input is late data (crossing.c), and a
 * grace deadline counts.  Socket locked.
 */
static void tcpterm_fin_queued(struct sock *sk, struct tcpterm_sock *ts,
			       struct tcpterm_ext *ext)
{
	ext->fin_queued = true;
	ext->fin_at = jiffies;
	ext->progress_at = ext->fin_at;
	ext->una_seen = READ_ONCE(tcp_sk(sk)->snd_una);
}

/* Would close() of @sk be held (@drain: as DRAIN)?  Socket locked. */
static bool tcpterm_hold_wanted(struct sock *sk, struct tcpterm_sock *ts,
				bool drain)
{
	if (!((1 << sk->sk_state) & tcpterm_hold_states) ||
	    READ_ONCE(tcpterm_dl_stopping))
		return false;
	if (drain)
		return true;
	/* Unread input without DRAIN: the stock RST, not a grace. */
	return READ_ONCE(ts->p.grace_ms) && !tcpterm_unread(sk);
}

/*
 * close() of a DRAIN socket, or of any socket with a grace: keep it.
 * Process context, socket not locked.  False: the stock close runs.
 */
bool tcpterm_drain_close(struct sock *sk, struct tcpterm_sock *ts,
			 long timeout)
{
	bool drain = READ_ONCE(ts->p.policy) == TCPTERM_POLICY_DRAIN;

	/* SO_LINGER with a zero timeout asks for an RST: that wins. */
	if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)
		return false;

	lock_sock(sk);
	/* A connection that sends the notice ends as DRAIN ends it. */
	if (!READ_ONCE(tcpterm_dl_stopping) && tcpterm_notice_close(sk, ts))
		drain = true;
	if (!tcpterm_hold_wanted(sk, ts, drain) ||
	    !tcpterm_sock_ext(ts, GFP_KERNEL)) {
		release_sock(sk);
		return false;
	}
	ts->ext->held = true;
	ts->ext->drain = drain;
	ts->ext->close_at = jiffies;
	if (!drain)
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	else if (tcpterm_discard_unread(sk, ts))
		tcpterm_drain_begin(sk, ts);

	/* What close() sends: a FIN behind the data. */
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
	tcpterm_stock_shutdown(sk, SEND_SHUTDOWN);
	if (timeout)
		tcpterm_wait_close(sk, timeout);
	if (!ts->ext->fin_queued && (1 << sk->sk_state) & tcpterm_fin_states)
		tcpterm_fin_queued(sk, ts, ts->ext);

	/*
	 * Held only with a deadline that will end it: a socket that closed
	 * meanwhile (SO_LINGER), or one no deadline can be armed for
	 * (unload began), gets the stock close.
	 */
	if (sk->sk_state == TCP_CLOSE || !tcpterm_deadline_arm(sk, ts)) {
		ts->ext->held = false;
		release_sock(sk);
		return false;
	}

	/* From here the socket is tcpterm's: no file, no waiters. */
	tcpterm_watch(sk, ts);
	write_lock_bh(&sk->sk_callback_lock);
	sk_set_socket(sk, NULL);
	RCU_INIT_POINTER(sk->sk_wq, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);
	return true;
}

/*
 * sk_data_ready of a watched socket: the stack accepted and queued new
 * data.  A held DRAIN socket consumes it; a held socket wakes nobody.
 * True when tcpterm holds @sk.  Socket locked (bh or owner).
 */
bool tcpterm_drain_data(struct sock *sk, struct tcpterm_sock *ts)
{
	if (!ts->ext->held)
		return false;
	if (!ts->ext->drain || !tcpterm_discard_unread(sk, ts))
		return true;
	ts->ext->last_rx = jiffies;
	if (!ts->ext->draining) {
		tcpterm_drain_begin(sk, ts);
		tcpterm_deadline_arm(sk, ts);
	}
	return true;
}

/*
 * A held socket reached CLOSE (tcp_done(): TIME_WAIT, a reset, a
 * timeout) while the stack had it spin-locked in softirq: end it there,
 * as tcp_done() ends an orphan, instead of in a work run that would take
 * its lock only to call tcp_close() on a closed socket.  The destroy op
 * hands the entry to the deadline work, which drops its reference.
 * False (the work ends it) in process context or while a task owns the
 * socket: the owner, maybe that very work, still uses it after this.
 */
static bool tcpterm_end_held(struct sock *sk, struct tcpterm_sock *ts)
{
	bool off;
	int puts;

	if (in_task() || sock_owned_by_user(sk))
		return false;
	spin_lock(&tcpterm_dl_lock);
	off = !list_empty(&ts->ext->dl_node);
	puts = tcpterm_dl_disarm(ts->ext);
	spin_unlock(&tcpterm_dl_lock);

	tcpterm_unwatch(sk, ts);
	ts->ext->held = false;
	/*
	 * Destroy op (the entry goes, or waits for a run of the work that is
	 * running now), unhash (done at CLOSE), orphan, the file's reference.
	 */
	sk_common_release(sk);
	tcpterm_dl_put(sk, puts, off);
	return true;
}

/*
 * sk_state_change of a watched socket.  A held one that reached CLOSE
 * ends now (here, or in its deadline work); on any other change (our
 * FIN acknowledged) its deadline is looked at again, and the work runs
 * only if that brought it forward.  True when tcpterm holds @sk.
 */
bool tcpterm_drain_state_change(struct sock *sk, struct tcpterm_sock *ts)
{
	if (!ts->ext->held)
		return false;
	if (sk->sk_state != TCP_CLOSE) {
		tcpterm_deadline_arm(sk, ts);
		return true;
	}
	if (tcpterm_end_held(sk, ts))
		return true;
	spin_lock_bh(&tcpterm_dl_lock);
	if (!list_empty(&ts->ext->dl_node))
		tcpterm_dl_queue(sk, ts->ext, jiffies, jiffies);
	spin_unlock_bh(&tcpterm_dl_lock);
	return true;
}

/*
 * inet_sock_set_state of a socket with tcpterm's ops; socket locked,
 * preemption off (GFP_ATOMIC; without memory the socket's end goes
 * unwatched, as stock).
 */
void tcpterm_drain_state(const struct sock *csk, int oldstate, int newstate)
{
	struct sock *sk = (struct sock *)csk;
	struct tcpterm_sock *ts;
	struct tcpterm_ext *ext;

	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK &&
	    newstate != TCP_FIN_WAIT2)
		return;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (!ts)
		goto out;
	if (newstate == TCP_FIN_WAIT2) {
		/* Our FIN is acknowledged: progress, and maybe a deadline. */
		ext = ts->ext;
		if (ext && ext->fin_queued && READ_ONCE(ts->p.grace_ms)) {
			tcpterm_sample(sk, ts, jiffies);
			tcpterm_deadline_arm(sk, ts);
		}
		goto out;
	}
	ext = tcpterm_sock_ext(ts, GFP_ATOMIC);
	if (!ext)
		goto out;
	if (!ext->fin_queued) {
		tcpterm_fin_queued(sk, ts, ext);
		if (READ_ONCE(ts->p.grace_ms))
			tcpterm_deadline_arm(sk, ts);
	}
	/* Input after our FIN is late data (crossing.c). */
	if (newstate == TCP_FIN_WAIT1 && !sock_flag(sk, SOCK_DEAD)) {
		ext->rcv_seen = READ_ONCE(tcp_sk(sk)->rcv_nxt);
		tcpterm_watch(sk, ts);
	}
out:
	rcu_read_unlock();
}

/*
 * TCPTERM_GRACE_MS was set; socket locked.  A socket tracked only now,
 * after its FIN was queued, counts the grace from this call.
 */
void tcpterm_grace_changed(struct sock *sk, struct tcpterm_sock *ts)
{
	struct tcpterm_ext *ext;

	if (!((1 << sk->sk_state) & tcpterm_fin_states) ||
	    !READ_ONCE(ts->p.grace_ms))
		return;
	ext = tcpterm_sock_ext(ts, GFP_KERNEL);
	if (!ext)
		return;
	if (!ext->fin_queued)
		tcpterm_fin_queued(sk, ts, ext);
	tcpterm_deadline_arm(sk, ts);
}

/* A new struct tcpterm_ext: its deadline is not armed. */
static void tcpterm_deadline_init(struct tcpterm_ext *ext)
{
	INIT_DELAYED_WORK(&ext->dl_work, tcpterm_deadline_workfn);
	INIT_LIST_HEAD(&ext->dl_node);
}

/* For the store (sock.c), wired by main.c. */
const struct tcpterm_sock_ops tcpterm_drain_sock_ops = {
	.ext_init	= tcpterm_deadline_init,
	.take		= tcpterm_deadline_orphan,
};

int tcpterm_drain_init(void)
{
	tcpterm_dl_wq = alloc_workqueue("tcpterm_dl", WQ_UNBOUND, 0);
	return tcpterm_dl_wq ? 0 : -ENOMEM;
}

/*
 * Unload, before the hooks go: no new deadline is armed, no close() is
 * held any more, and every armed socket is handed back to the stock code
 * (a held one through tcp_close()).  An entry taken off the list
 * here is this loop's; if its socket is destroyed meanwhile (a reset in
 * progress, a peer's FIN), the destroy hook only marks it, and the loop
 * frees it.
 */
void tcpterm_drain_stop(void)
{
	struct tcpterm_ext *ext;
	struct tcpterm_sock *ts;
	struct sock *sk;
	bool unused;
	int puts;

	spin_lock_bh(&tcpterm_dl_lock);
	tcpterm_dl_stopping = true;
	spin_unlock_bh(&tcpterm_dl_lock);

	for (;;) {
		spin_lock_bh(&tcpterm_dl_lock);
		ext = list_first_entry_or_null(&tcpterm_dl_list,
					       struct tcpterm_ext, dl_node);
		ts = ext ? ext->ts : NULL;
		if (ts) {
			list_del_init(&ts->ext->dl_node);
			ts->ext->dl_unload = true;
		}
		spin_unlock_bh(&tcpterm_dl_lock);
		if (!ts)
			break;

		/*
		 * No run is queued or running after this: a running one
		 * finds the entry off the list and does not queue again.
		 */
		sk = ts->sk;
		puts = 1;
		if (cancel_delayed_work_sync(&ts->ext->dl_work)) {
			spin_lock_bh(&tcpterm_dl_lock);
			ts->ext->dl_runs--;
			spin_unlock_bh(&tcpterm_dl_lock);
			puts++;
		}
		if (ts->ext->held)
			tcpterm_release_held(sk, ts);

		spin_lock_bh(&tcpterm_dl_lock);
		ts->ext->dl_unload = false;
		unused = tcpterm_dl_unused(ts->ext);
		spin_unlock_bh(&tcpterm_dl_lock);
		if (unused)
			tcpterm_sock_free(ts);
		tcpterm_dl_put(sk, puts, true);
	}
}

/* After the hooks: the reaps still queued run now. */
void tcpterm_drain_exit(void)
{
	destroy_workqueue(tcpterm_dl_wq);
}
