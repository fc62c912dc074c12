// SPDX-License-Identifier: GPL-2.0
/*
 * The HALF_DUPLEX policy.
 *
 * RFC 1122 4.2.2.13 lets a host implement a "half-duplex" close: an
 * application that closed its read side cannot read any more, and input
 * pending at that moment, or arriving later, SHOULD be answered with RST
 * so the peer learns that data was lost.
 *
 * Stock Linux does this for close(): __tcp_close() resets when unread
 * data is tossed, and an orphan in FIN_WAIT1/2 resets on new data.  It
 * does not do it for shutdown(SHUT_RD): the socket stays ESTABLISHED (or
 * CLOSE_WAIT), input is still acknowledged and queued, and read() still
 * returns it.  TCPTERM_POLICY_HALF_DUPLEX closes that gap:
 *
 *   shutdown(SHUT_RD or SHUT_RDWR) succeeds
 *        |
 *        +-- input pending?  tcp_abort(ECONNABORTED): RST now, the local
 *        |                   socket fails with ECONNABORTED
 *        +-- none pending    stays open; the first segment with new data
 *                            is dropped unacknowledged and the same abort
 *                            runs from a workqueue (tcp_abort() takes the
 *                            socket lock, the receive path is softirq)
 *
 * close() keeps the stock behaviour, which already is half-duplex; the
 * policy only accounts for it.  With nothing pending and nothing arriving
 * the connection ends with the usual FIN exchange.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/tcpterm.h>

#include "fault.h"
#include "netlink.h"
#include "policy.h"
#include "prot.h"
#include "sock.h"
#include "tcphelp.h"

#ifdef TCPTERM_FAULT_INJECT
/* fault.h: test builds only. */
static int fail_abort_allocs;
module_param(fail_abort_allocs, int, 0600);
MODULE_PARM_DESC(fail_abort_allocs,
		 "test build: fail this many of the next abort allocations");

bool tcpterm_fail_abort_alloc(void)
{
	int left = READ_ONCE(fail_abort_allocs);

	if (left <= 0)
		return false;
	WRITE_ONCE(fail_abort_allocs, left - 1);
	return true;
}
#endif

/* The errno a socket reset by its own policy reports to its owner. */
static const int tcpterm_abort_errno = ECONNABORTED;

static struct workqueue_struct *tcpterm_wq;

struct tcpterm_abort_work {
	struct work_struct	work;
	struct sock		*sk;
	enum tcpterm_rst_reason	reason;
};

static u8 tcpterm_policy_of(const struct tcpterm_sock *ts)
{
	return READ_ONCE(ts->p.policy);
}

static void tcpterm_note_rst(struct sock *sk, struct tcpterm_sock *ts,
			     enum tcpterm_rst_reason reason)
{
	spin_lock_bh(&ts->lock);
	ts->flags |= TCPTERM_F_RST_SENT;
	ts->rst_reason = reason;
	ts->rst_time_ns = ktime_get_ns();
	spin_unlock_bh(&ts->lock);
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_POLICY_RSTS, 1);
	tcpterm_event(sk, TCPTERM_EV_POLICY_RST, reason);
}

/*
 * Is @sk in CLOSING or LAST_ACK (the peer's FIN is in; tcp_abort() resets
 * in neither) with our FIN still queued behind data the peer's closed
 * window holds?  Then the peer has not been told our data ended, and
 * disconnecting sends it an RST (tcp_disconnect() resets in these states
 * exactly then).  Once our FIN has left, the peer has read its end of
 * file and an RST would only meet its TIME_WAIT.  Socket locked.
 */
static bool tcpterm_fin_unsent_after_peer(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return (1 << sk->sk_state) & (TCPF_CLOSING | TCPF_LAST_ACK) &&
	       READ_ONCE(tp->snd_nxt) != READ_ONCE(tp->write_seq);
}

/*
 * Reset @sk in CLOSING or LAST_ACK (tcpterm_fin_unsent_after_peer()):
 * its owner reads ECONNABORTED, as after tcp_abort().  Socket locked.
 */
static void tcpterm_disconnect(struct sock *sk, struct tcpterm_sock *ts,
			       enum tcpterm_rst_reason reason)
{
	tcpterm_note_rst(sk, ts, reason);
	/* The disconnect forgets the peer's FIN (SOCK_DONE); TCPTERM_INFO not. */
	WRITE_ONCE(ts->peer_fin, true);
	sk->sk_prot->disconnect(sk, 0);
	WRITE_ONCE(sk->sk_err, tcpterm_abort_errno);
	sk_error_report(sk);
	/* The socket may connect again: its next SHUT_RD is its own. */
	if (ts->ext)
		ts->ext->rd_shut = false;
}

/*
 * Process context, socket not locked: throw away the input and reset.
 * tcp_abort() sends the RST (where TCP sends one) and ends the socket
 * with ECONNABORTED for its owner.
 */
static void tcpterm_abort(struct sock *sk, enum tcpterm_rst_reason reason)
{
	struct tcpterm_sock *ts;

	lock_sock(sk);
	/* The entry lives until the socket's destroy op: no RCU needed. */
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	rcu_read_unlock();
	if (!ts || sock_flag(sk, SOCK_DEAD)) {
		release_sock(sk);
		return;
	}
	if (!tcpterm_abort_resets(sk->sk_state)) {
		/* Our FIN queued meanwhile (shutdown(SHUT_WR) after SHUT_RD). */
		if (tcpterm_fin_unsent_after_peer(sk)) {
			tcpterm_discard_unread(sk, ts);
			tcpterm_disconnect(sk, ts, reason);
		}
		release_sock(sk);
		return;
	}
	tcpterm_discard_unread(sk, ts);
	tcpterm_note_rst(sk, ts, reason);
	release_sock(sk);
	tcp_abort(sk, tcpterm_abort_errno);
}

static void tcpterm_abort_workfn(struct work_struct *work)
{
	struct tcpterm_abort_work *aw;

	aw = container_of(work, struct tcpterm_abort_work, work);
	tcpterm_abort(aw->sk, aw->reason);
	sock_put(aw->sk);
	kfree(aw);
}

/*
 * The abort of a HALF_DUPLEX socket is allocated when its read side
 * closes (process context), so that the receive path never has to
 * allocate one; without memory then, it tries GFP_ATOMIC when needed.
 */
static void tcpterm_abort_prepare(struct tcpterm_sock *ts)
{
	struct tcpterm_abort_work *aw;

	if (!ts->ext || READ_ONCE(ts->ext->abort_work))
		return;
	aw = tcpterm_fail_abort_alloc() ? NULL : kzalloc(sizeof(*aw), GFP_KERNEL);
	if (!aw)
		return;
	INIT_WORK(&aw->work, tcpterm_abort_workfn);
	spin_lock_bh(&ts->lock);
	if (!ts->ext->abort_work && !ts->abort_pending) {
		ts->ext->abort_work = aw;
		aw = NULL;
	}
	spin_unlock_bh(&ts->lock);
	kfree(aw);
}

/*
 * Have @sk reset from process context, once.  False if no work item
 * could be had: the next segment tries again (abort_pending stays clear).
 */
static bool tcpterm_schedule_abort(struct sock *sk, struct tcpterm_sock *ts,
				   enum tcpterm_rst_reason reason)
{
	struct tcpterm_abort_work *aw;

	spin_lock_bh(&ts->lock);
	if (ts->abort_pending) {
		spin_unlock_bh(&ts->lock);
		return true;
	}
	aw = ts->ext ? ts->ext->abort_work : NULL;
	if (!aw && !tcpterm_fail_abort_alloc()) {
		aw = kzalloc(sizeof(*aw), GFP_ATOMIC);
		if (aw)
			INIT_WORK(&aw->work, tcpterm_abort_workfn);
	}
	if (aw) {
		if (ts->ext)
			ts->ext->abort_work = NULL;
		ts->abort_pending = true;
	}
	spin_unlock_bh(&ts->lock);
	if (!aw) {
		net_warn_ratelimited("no memory for an abort, retried at the next segment\n");
		return false;
	}
	sock_hold(sk);
	aw->sk = sk;
	aw->reason = reason;
	queue_work(tcpterm_wq, &aw->work);
	return true;
}

/*
 * shutdown() of a socket with tcpterm's ops, after the stock shutdown;
 * socket locked.  @how is in RCV_SHUTDOWN/SEND_SHUTDOWN bits.
 * HALF_DUPLEX, read side closed: unread input is answered with RST now,
 * input arriving later when it is accepted (tcpterm_policy_data()).
 */
void tcpterm_on_shutdown(struct sock *sk, int how)
{
	struct tcpterm_sock *ts;

	if (!(how & RCV_SHUTDOWN))
		return;
	/* The entry lives until the socket's destroy op: no RCU needed. */
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	rcu_read_unlock();
	if (!ts || tcpterm_policy_of(ts) != TCPTERM_POLICY_HALF_DUPLEX)
		return;
	if (!tcpterm_abort_resets(sk->sk_state)) {
		/* Once our FIN has left, unread input waits for close(). */
		if (tcpterm_fin_unsent_after_peer(sk) &&
		    tcpterm_discard_unread(sk, ts))
			tcpterm_disconnect(sk, ts, TCPTERM_RST_UNREAD_ON_SHUTDOWN);
		return;
	}
	/* Without memory for the watch, late input goes unanswered. */
	if (tcpterm_sock_ext(ts, GFP_KERNEL)) {
		/* The owner's SHUT_RD, not the peer's FIN: both set RCV_SHUTDOWN. */
		ts->ext->rd_shut = true;
		tcpterm_abort_prepare(ts);
		tcpterm_watch(sk, ts);
	}
	if (tcpterm_discard_unread(sk, ts))
		tcpterm_schedule_abort(sk, ts, TCPTERM_RST_UNREAD_ON_SHUTDOWN);
}

/*
 * sk_data_ready of a watched socket that tcpterm does not hold: the stack
 * accepted and queued new data.  A HALF_DUPLEX socket whose owner closed
 * its read side consumes it at once (the owner must not read it) and
 * resets; true then, and the owner is not woken for it.  Socket locked
 * (bh or owner).
 */
bool tcpterm_policy_data(struct sock *sk, struct tcpterm_sock *ts)
{
	if (tcpterm_policy_of(ts) != TCPTERM_POLICY_HALF_DUPLEX ||
	    !ts->ext->rd_shut || sock_flag(sk, SOCK_DEAD) ||
	    !tcpterm_unread(sk))
		return false;
	tcpterm_discard_unread(sk, ts);
	tcpterm_schedule_abort(sk, ts, TCPTERM_RST_DATA_AFTER_SHUTDOWN);
	return true;
}

/*
 * close() of a socket with tcpterm's ops, before anything else; socket
 * not locked.  HALF_DUPLEX: account for the RST the stock code is about
 * to send for unread input.
 */
void tcpterm_policy_close(struct sock *sk, struct tcpterm_sock *ts)
{
	u32 unread;

	if (tcpterm_policy_of(ts) != TCPTERM_POLICY_HALF_DUPLEX ||
	    ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE)))
		return;
	unread = tcpterm_unread(sk);
	if (unread) {
		tcpterm_sock_count_discard(sk, ts, unread);
		tcpterm_note_rst(sk, ts, TCPTERM_RST_UNREAD_ON_CLOSE);
	}
}

/*
 * Entry of tcp_reset() on a socket with tcpterm's ops, socket locked:
 * an RST from the peer, or the stock RST for data that arrived after the
 * read side was closed in FIN_WAIT1/2 (no RST flag: ours).  The latter
 * is what HALF_DUPLEX asks for: it is the policy's RST (the owner reads
 * the stock ECONNRESET).
 */
void tcpterm_on_reset(struct sock *sk, struct sk_buff *skb)
{
	struct tcpterm_sock *ts;
	bool peer;

	if (sk->sk_state == TCP_CLOSE || !skb)
		return;
	peer = TCP_SKB_CB(skb)->tcp_flags & TCPHDR_RST;
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts && peer) {
		WRITE_ONCE(ts->peer_rst, true);
	} else if (ts && !sock_flag(sk, SOCK_DEAD) &&
		   tcpterm_policy_of(ts) == TCPTERM_POLICY_HALF_DUPLEX) {
		tcpterm_sock_count_discard(sk, ts,
					   tcpterm_skb_new_data(sk, skb));
		tcpterm_note_rst(sk, ts, TCPTERM_RST_DATA_AFTER_SHUTDOWN);
	}
	rcu_read_unlock();
}

int tcpterm_policy_init(void)
{
	tcpterm_wq = alloc_workqueue("tcpterm", WQ_UNBOUND, 0);
	return tcpterm_wq ? 0 : -ENOMEM;
}

/* Hooks are gone: finish the aborts already scheduled. */
void tcpterm_policy_exit(void)
{
	destroy_workqueue(tcpterm_wq);
}
