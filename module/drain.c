// SPDX-License-Identifier: GPL-2.0
/*
 * Graceful termination: the DRAIN policy and the deadlines that bound it.
 *
 * A server that closes with input still unread (a pipelined request, an
 * unread upload) gets an RST from stock Linux, and the RST throws away
 * the response still in its send queue.  Servers work around it in user
 * space by shutting down their sending side and reading until EOF or a
 * timeout (nginx's lingering close); that stops when the process exits.
 * TCPTERM_POLICY_DRAIN does the same inside the kernel, for the orphan:
 *
 *   close()
 *     |  unread input is discarded before __tcp_close() counts it, so
 *     |  the stock code queues a FIN behind the data, not an RST
 *     v
 *   FIN_WAIT1 / FIN_WAIT2 (draining)
 *     |  every segment with new data in the window is acknowledged and
 *     |  discarded: rcv_nxt moves past its payload (and past queued
 *     |  out-of-order data it reaches) before the stock code sees it,
 *     |  which then takes it for a pure ACK (or a bare FIN) and, with an
 *     |  ACK scheduled, acknowledges it; nothing new is ever queued
 *     |
 *     +-- peer's FIN ---------------------> TIME_WAIT (clean end)
 *     +-- TCPTERM_DRAIN_TIME_MS since close() or
 *         TCPTERM_DRAIN_IDLE_MS without a segment --> RST, forced
 *
 * TCPTERM_GRACE_MS bounds the end of any policy: from the moment our FIN
 * is queued (FIN_WAIT1 or LAST_ACK), the peer has that long to finish
 * the termination, or the connection is reset and flagged forced.  It
 * counts from the queueing, not the sending, so a peer that stops
 * reading cannot hold the FIN back and the deadline with it.
 *
 * Each socket with a pending deadline holds one delayed work item and a
 * socket reference.  The work runs at the earliest deadline, looks at the
 * socket under its lock and either re-arms, resets, or lets go once the
 * connection has ended.  While armed, tcp_sk()->linger2 is raised past
 * the last deadline: an orphan in FIN_WAIT2 stays a full socket instead
 * of becoming a timewait mini-socket, which could neither drain (it
 * resets on data) nor be reset at the deadline.  The application's
 * value comes back when the deadline is disarmed or the module unloads.
 *
 * Unload hands sockets back: pending deadlines are cancelled, linger2 is
 * restored and the stock code finishes the connection (a draining orphan
 * then resets on new data, as stock Linux does).  This happens while the
 * hooks are still in place; from its start no deadline is armed.
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
#include "policy.h"
#include "sock.h"

/* The errno a socket ended by a deadline reports to its owner. */
static const int tcpterm_forced_errno = ETIMEDOUT;

/* linger2 margin past the last deadline, so our work always comes first. */
static const unsigned long tcpterm_linger_slack_jiffies = 5 * HZ;

/* States from which a connection can still end; CLOSE means it has. */
static const int tcpterm_live_states = TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				       TCPF_CLOSING | TCPF_LAST_ACK;

/* Input can arrive after close() in these, and must be drained. */
static const int tcpterm_drain_states = TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2;

static struct workqueue_struct *tcpterm_dl_wq;

/*
 * The armed list: every tcpterm_sock with a deadline.  Its lock also
 * guards dl_node and dl_dead; whoever takes an entry off the list owns
 * the socket reference (and, once dl_dead, the entry).
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
 * holds a reference.  tcp_abort() is exported by every supported kernel
 * and, in all of them, also ends an orphan: RST where TCP sends one
 * (not in CLOSING or LAST_ACK, where the peer has finished sending),
 * then tcp_done(), which destroys an orphan as any other.  An owner
 * still holding the socket reads the errno.
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

/* The drain limit by time since close(); only while draining. */
static unsigned long tcpterm_drain_end(const struct tcpterm_sock *ts)
{
	return ts->close_at + msecs_to_jiffies(READ_ONCE(ts->p.drain_time_ms));
}

/* The grace deadline, when one is set and our FIN is queued. */
static bool tcpterm_grace_end(const struct tcpterm_sock *ts,
			      unsigned long *at)
{
	u32 grace_ms = READ_ONCE(ts->p.grace_ms);

	if (!ts->fin_queued || !grace_ms)
		return false;
	*at = ts->fin_at + msecs_to_jiffies(grace_ms);
	return true;
}

/*
 * Which deadline has run out at @now, if any; otherwise the earliest one
 * left in *next (*any false: none left).  Socket locked.
 */
static enum tcpterm_rst_reason
tcpterm_deadline_check(const struct tcpterm_sock *ts, unsigned long now,
		       unsigned long *next, bool *any)
{
	unsigned long idle = msecs_to_jiffies(READ_ONCE(ts->p.drain_idle_ms));
	unsigned long grace;

	*any = false;
	if (ts->draining) {
		if (tcpterm_due(tcpterm_drain_end(ts), now, next, any))
			return TCPTERM_RST_DRAIN_TIME;
		if (tcpterm_due(ts->last_rx + idle, now, next, any))
			return TCPTERM_RST_DRAIN_IDLE;
	}
	if (tcpterm_grace_end(ts, &grace) &&
	    tcpterm_due(grace, now, next, any))
		return TCPTERM_RST_GRACE;
	return TCPTERM_RST_NONE;
}

/*
 * The latest moment any armed deadline can fire (the idle limit never
 * outlasts the drain limit).  Socket locked.
 */
static unsigned long tcpterm_deadline_last(const struct tcpterm_sock *ts,
					   unsigned long now)
{
	unsigned long last = now, at;

	if (ts->draining) {
		at = tcpterm_drain_end(ts);
		if (time_after(at, last))
			last = at;
	}
	if (tcpterm_grace_end(ts, &at) && time_after(at, last))
		last = at;
	return last;
}

/*
 * Keep an orphan in FIN_WAIT2 a full socket until the last deadline
 * (see tcp_fin_time() and the FIN_WAIT2 paths of tcp_close() and
 * tcp_rcv_state_process()).  A negative linger2 asks for an RST in
 * FIN_WAIT2 at once; only a drain overrides that.  Socket locked.
 */
static void tcpterm_keep_full(struct sock *sk, struct tcpterm_sock *ts,
			      unsigned long now, bool first)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (first)
		ts->saved_linger2 = tp->linger2;
	if (ts->saved_linger2 < 0 && !ts->draining)
		return;
	tp->linger2 = TCP_TIMEWAIT_LEN + tcpterm_linger_slack_jiffies +
		      (tcpterm_deadline_last(ts, now) - now);
}

static unsigned long tcpterm_delay(unsigned long at, unsigned long now)
{
	return time_after(at, now) ? at - now : 0;
}

/* Arm or move the deadline work of @sk.  Socket locked, any context. */
static void tcpterm_deadline_arm(struct sock *sk, struct tcpterm_sock *ts)
{
	unsigned long now = jiffies, next = now;
	bool any, first;

	if (tcpterm_deadline_check(ts, now, &next, &any) != TCPTERM_RST_NONE)
		next = now;
	else if (!any)
		return;

	spin_lock_bh(&tcpterm_dl_lock);
	if (tcpterm_dl_stopping) {
		spin_unlock_bh(&tcpterm_dl_lock);
		return;
	}
	first = list_empty(&ts->dl_node);
	if (first) {
		sock_hold(sk);
		list_add(&ts->dl_node, &tcpterm_dl_list);
	}
	tcpterm_keep_full(sk, ts, now, first);
	mod_delayed_work(tcpterm_dl_wq, &ts->dl_work, tcpterm_delay(next, now));
	spin_unlock_bh(&tcpterm_dl_lock);

	if (first)
		tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_DEADLINES, 1);
}

/*
 * Drop the work's hold on @sk, and free @orphan (the entry of a socket
 * destroyed while armed) if given.  Once off the armed list an entry
 * that is not orphaned may be freed by the destroy hook at any time:
 * callers read what they need from it first.
 */
static void tcpterm_deadline_put(struct sock *sk, struct tcpterm_sock *orphan)
{
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_DEADLINES, (u64)-1);
	sock_put(sk);
	if (orphan)
		tcpterm_sock_free(orphan);
}

/*
 * End of a work run: re-arm for @next, or let go when the connection is
 * over (@done) or its socket was destroyed meanwhile.  A destroy that
 * raced with this run kicked the work once more: cancel that.
 */
static void tcpterm_deadline_settle(struct tcpterm_sock *ts, bool done,
				    unsigned long next)
{
	struct tcpterm_sock *orphan = NULL;
	struct sock *sk = ts->sk;
	bool put = false;

	spin_lock_bh(&tcpterm_dl_lock);
	if (list_empty(&ts->dl_node)) {
		/* Unload took the entry and waits for this run. */
		spin_unlock_bh(&tcpterm_dl_lock);
		return;
	}
	if (done || ts->dl_dead) {
		list_del_init(&ts->dl_node);
		cancel_delayed_work(&ts->dl_work);
		put = true;
		if (ts->dl_dead)
			orphan = ts;
	} else {
		mod_delayed_work(tcpterm_dl_wq, &ts->dl_work,
				 tcpterm_delay(next, jiffies));
	}
	spin_unlock_bh(&tcpterm_dl_lock);

	if (put)
		tcpterm_deadline_put(sk, orphan);
}

void tcpterm_deadline_workfn(struct work_struct *work)
{
	struct tcpterm_sock *ts = container_of(to_delayed_work(work),
					       struct tcpterm_sock, dl_work);
	enum tcpterm_rst_reason due = TCPTERM_RST_NONE;
	struct sock *sk = ts->sk;
	unsigned long next = 0;
	bool done, any = false;

	lock_sock(sk);
	done = READ_ONCE(ts->dl_dead) ||
	       !((1 << sk->sk_state) & tcpterm_live_states);
	if (!done) {
		due = tcpterm_deadline_check(ts, jiffies, &next, &any);
		done = due != TCPTERM_RST_NONE || !any;
	}
	if (done && !READ_ONCE(ts->dl_dead))
		tcp_sk(sk)->linger2 = ts->saved_linger2;
	release_sock(sk);

	if (due != TCPTERM_RST_NONE)
		tcpterm_force(sk, ts, due);
	tcpterm_deadline_settle(ts, done, next);
}

/*
 * The socket of @ts is being destroyed (tcp_v4_destroy_sock).  With a
 * deadline armed, the work owns the entry from now on: it is kicked to
 * run at once, and frees the entry; during unload, the unload loop
 * does.  Returns whether the entry was taken.
 */
bool tcpterm_deadline_orphan(struct tcpterm_sock *ts)
{
	bool armed, taken;

	spin_lock_bh(&tcpterm_dl_lock);
	armed = !list_empty(&ts->dl_node);
	taken = armed || ts->dl_unload;
	if (taken)
		WRITE_ONCE(ts->dl_dead, true);
	if (armed)
		mod_delayed_work(tcpterm_dl_wq, &ts->dl_work, 0);
	spin_unlock_bh(&tcpterm_dl_lock);
	return taken;
}

/* Entry of __tcp_close() on a DRAIN socket; socket locked, RCU held. */
void tcpterm_drain_on_close(struct sock *sk, struct tcpterm_sock *ts)
{
	/* SO_LINGER with a zero timeout asks for an RST: that wins. */
	if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)
		return;

	tcpterm_discard_unread(sk, ts);
	ts->draining = true;
	ts->close_at = jiffies;
	ts->last_rx = ts->close_at;
	spin_lock_bh(&ts->lock);
	ts->flags |= TCPTERM_F_DRAINING;
	spin_unlock_bh(&ts->lock);
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_DRAINS, 1);
	tcpterm_deadline_arm(sk, ts);
}

/*
 * Drop the SACK blocks rcv_nxt has reached (tcp_sack_remove()), trimming
 * one it only entered.
 */
static void tcpterm_drain_sacks(struct tcp_sock *tp)
{
	int i, n = 0;

	if (RB_EMPTY_ROOT(&tp->out_of_order_queue)) {
		tp->rx_opt.num_sacks = 0;
		return;
	}
	for (i = 0; i < tp->rx_opt.num_sacks; i++) {
		struct tcp_sack_block sp = tp->selective_acks[i];

		if (!after(sp.end_seq, tp->rcv_nxt))
			continue;
		if (before(sp.start_seq, tp->rcv_nxt))
			sp.start_seq = tp->rcv_nxt;
		tp->selective_acks[n++] = sp;
	}
	tp->rx_opt.num_sacks = n;
}

/*
 * Out-of-order data that rcv_nxt has reached is in sequence now: move
 * past it and free it, where tcp_ofo_queue() would queue it.  Without
 * this the peer, which holds that data as SACKed, would never send it
 * again, and rcv_nxt would never get past it.  A FIN stays for the stock
 * code: rcv_nxt stops in front of it, and the peer retransmits it.
 * Returns the bytes discarded.
 */
static u32 tcpterm_drain_ofo(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;
	u32 n = 0;

	while ((skb = skb_rb_first(&tp->out_of_order_queue))) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		u32 end = cb->end_seq - !!(cb->tcp_flags & TCPHDR_FIN);

		if (after(cb->seq, tp->rcv_nxt))
			break;
		if (after(end, tp->rcv_nxt)) {
			n += end - tp->rcv_nxt;
			WRITE_ONCE(tp->rcv_nxt, end);
		}
		if (cb->tcp_flags & TCPHDR_FIN)
			break;
		rb_erase(&skb->rbnode, &tp->out_of_order_queue);
		if (tp->ooo_last_skb == skb)
			tp->ooo_last_skb = skb_rb_last(&tp->out_of_order_queue);
		kfree_skb(skb);
	}
	tcpterm_drain_sacks(tp);
	return n;
}

/*
 * Acknowledge and discard the new payload of @skb: move rcv_nxt past it
 * and make the segment a pure ACK (or a bare FIN at rcv_nxt) for the
 * stock code, with an ACK scheduled.  A segment beyond a hole takes the
 * hole with it: all input is thrown away, so a hole only costs the peer
 * retransmissions, and a silent drop would withhold the duplicate ACKs
 * its loss recovery (F-RTO) waits for.  Segments beyond the window and
 * bad checksums are left to the stock code, which drops them.  Socket
 * held exclusively (bh lock or owner).
 */
static void tcpterm_drain_skb(struct sock *sk, struct tcpterm_sock *ts,
			      struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct tcp_sock *tp = tcp_sk(sk);
	u32 end, n;

	if (!((1 << sk->sk_state) & tcpterm_drain_states))
		return;
	if ((cb->tcp_flags & (TCPHDR_RST | TCPHDR_SYN)) ||
	    !(cb->tcp_flags & TCPHDR_ACK))
		return;
	end = cb->end_seq - !!(cb->tcp_flags & TCPHDR_FIN);
	if (!after(end, tp->rcv_nxt) ||
	    after(cb->seq, tp->rcv_nxt + tcp_receive_window(tp)))
		return;
	if (tcp_checksum_complete(skb))
		return;

	n = end - tp->rcv_nxt;
	WRITE_ONCE(tp->rcv_nxt, end);
	n += tcpterm_drain_ofo(sk);
	tp->bytes_received += n;
	WRITE_ONCE(tp->copied_seq, tp->rcv_nxt);
	/*
	 * A FIN loses its payload too: tcp_data_queue() accepts only an
	 * empty one into a closed window.  If trimming needs memory it
	 * cannot get, the FIN is dropped there and comes again.
	 */
	cb->seq = tp->rcv_nxt;
	if (!after(cb->end_seq, cb->seq))
		cb->end_seq = cb->seq;
	else
		pskb_trim(skb, skb_transport_offset(skb) + tcp_hdrlen(skb));
	inet_csk_schedule_ack(sk);
	tcpterm_count_discard(sk, ts, n);
}

/* ftrace callback of tcp_v4_do_rcv/tcp_v6_do_rcv. */
void tcpterm_drain_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct tcpterm_sock *ts;

	if (!tcpterm_sock_any() ||
	    !((1 << sk->sk_state) & tcpterm_live_states))
		return;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts && ts->draining) {
		ts->last_rx = jiffies;
		tcpterm_drain_skb(sk, ts, skb);
	}
	rcu_read_unlock();
}

/* inet_sock_set_state tracepoint; the socket is locked. */
void tcpterm_drain_state(const struct sock *csk, int oldstate, int newstate)
{
	struct sock *sk = (struct sock *)csk;
	struct tcpterm_sock *ts;

	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK)
		return;
	if (!tcpterm_sock_any() || sk->sk_protocol != IPPROTO_TCP)
		return;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts && !ts->fin_queued) {
		ts->fin_queued = true;
		ts->fin_at = jiffies;
		if (READ_ONCE(ts->p.grace_ms))
			tcpterm_deadline_arm(sk, ts);
	}
	rcu_read_unlock();
}

/*
 * TCPTERM_GRACE_MS was set; socket locked.  A socket tracked only now,
 * after its FIN was queued, counts the grace from this call.
 */
void tcpterm_grace_changed(struct sock *sk, struct tcpterm_sock *ts)
{
	const int fin_states = TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
			       TCPF_CLOSING | TCPF_LAST_ACK;

	if (!((1 << sk->sk_state) & fin_states) || !READ_ONCE(ts->p.grace_ms))
		return;
	if (!ts->fin_queued) {
		ts->fin_queued = true;
		ts->fin_at = jiffies;
	}
	tcpterm_deadline_arm(sk, ts);
}

int tcpterm_drain_init(void)
{
	tcpterm_dl_wq = alloc_workqueue("tcpterm_dl", WQ_UNBOUND, 0);
	return tcpterm_dl_wq ? 0 : -ENOMEM;
}

/*
 * Unload, before the hooks go: no new deadline is armed, and every armed
 * socket is handed back to the stock code.  An entry taken off the list
 * here is this loop's; if its socket is destroyed meanwhile (a reset in
 * progress, a peer's FIN), the destroy hook only marks it, and the loop
 * frees it.
 */
void tcpterm_drain_exit(void)
{
	struct tcpterm_sock *ts;
	struct sock *sk;
	bool dead;

	spin_lock_bh(&tcpterm_dl_lock);
	tcpterm_dl_stopping = true;
	spin_unlock_bh(&tcpterm_dl_lock);

	for (;;) {
		spin_lock_bh(&tcpterm_dl_lock);
		ts = list_first_entry_or_null(&tcpterm_dl_list,
					      struct tcpterm_sock, dl_node);
		if (ts) {
			list_del_init(&ts->dl_node);
			ts->dl_unload = true;
		}
		spin_unlock_bh(&tcpterm_dl_lock);
		if (!ts)
			break;

		cancel_delayed_work_sync(&ts->dl_work);
		sk = ts->sk;
		lock_sock(sk);
		tcp_sk(sk)->linger2 = ts->saved_linger2;
		release_sock(sk);

		spin_lock_bh(&tcpterm_dl_lock);
		dead = ts->dl_dead;
		ts->dl_unload = false;
		spin_unlock_bh(&tcpterm_dl_lock);
		tcpterm_deadline_put(sk, dead ? ts : NULL);
	}
	destroy_workqueue(tcpterm_dl_wq);
}
