// SPDX-License-Identifier: GPL-2.0
/*
 * Termination policies and the SOL_TCPTERM option interface.
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
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <net/mptcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/tcpterm.h>

#include "drain.h"
#include "hooks.h"
#include "netlink.h"
#include "policy.h"
#include "sock.h"

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

/*
 * Has the peer's FIN arrived?  SOCK_DONE says so, except on a socket
 * whose crossing is reported as an error (crossing.c clears it there).
 */
static bool tcpterm_peer_fin(const struct sock *sk)
{
	return sock_flag(sk, SOCK_DONE) ||
	       ((1 << sk->sk_state) &
		(TCPF_CLOSE_WAIT | TCPF_CLOSING | TCPF_LAST_ACK));
}

/* In-order input not yet read; the peer's FIN is not data. */
u32 tcpterm_unread(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 unread = READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq);

	if (unread && tcpterm_peer_fin(sk))
		unread--;
	return unread;
}

static void tcpterm_count_discard(struct sock *sk, struct tcpterm_sock *ts,
				  u32 bytes)
{
	if (!bytes)
		return;
	spin_lock_bh(&ts->lock);
	ts->bytes_discarded += bytes;
	spin_unlock_bh(&ts->lock);
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_BYTES_DISCARDED, bytes);
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

/* Does tcp_abort() send an RST in @state?  (tcp_need_reset() in tcp.c) */
bool tcpterm_abort_resets(int state)
{
	return (1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
			       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_SYN_RECV);
}

static int tcpterm_discard_actor(read_descriptor_t *desc, struct sk_buff *skb,
				 unsigned int offset, size_t len)
{
	desc->written += len;
	return len;
}

/*
 * Consume what the application can no longer read, as a reader would:
 * the stock read path frees it, moves copied_seq, re-opens the window
 * and acknowledges (tcp_read_sock(), which kTLS's parser also runs from
 * sk_data_ready).  Out-of-order data is not readable yet and stays.
 * Socket locked (owner or bh).  Returns the bytes consumed.
 */
u32 tcpterm_discard_unread(struct sock *sk, struct tcpterm_sock *ts)
{
	read_descriptor_t desc = { .count = 1 };
	u32 unread = tcpterm_unread(sk);

	if (!unread)
		return 0;
	tcp_read_sock(sk, &desc, tcpterm_discard_actor);
	unread = desc.written;
	tcpterm_count_discard(sk, ts, unread);
	return unread;
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
	if (sock_flag(sk, SOCK_DEAD) || !tcpterm_abort_resets(sk->sk_state)) {
		release_sock(sk);
		return;
	}
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts) {
		tcpterm_discard_unread(sk, ts);
		tcpterm_note_rst(sk, ts, reason);
	}
	rcu_read_unlock();
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
	aw = kzalloc(sizeof(*aw), GFP_KERNEL);
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
	if (!aw) {
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
	if (!ts || tcpterm_policy_of(ts) != TCPTERM_POLICY_HALF_DUPLEX ||
	    !tcpterm_abort_resets(sk->sk_state))
		return;
	/* Without memory for the watch, late input goes unanswered. */
	if (tcpterm_sock_ext(ts, GFP_KERNEL)) {
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
	    !(READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	    sock_flag(sk, SOCK_DEAD) || !tcpterm_unread(sk))
		return false;
	tcpterm_discard_unread(sk, ts);
	tcpterm_schedule_abort(sk, ts, TCPTERM_RST_DATA_AFTER_SHUTDOWN);
	return true;
}

/*
 * close() of a socket with tcpterm's ops, before anything else; socket
 * not locked.  True when tcpterm keeps the socket (drain.c); otherwise
 * the stock close runs.  HALF_DUPLEX: account for the RST the stock code
 * is about to send for unread input.
 */
bool tcpterm_on_close(struct sock *sk, long timeout)
{
	struct tcpterm_sock *ts;
	bool held = false;
	u32 unread;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (!ts || tcp_sk(sk)->repair) {
		rcu_read_unlock();
		return false;
	}
	if (tcpterm_policy_of(ts) == TCPTERM_POLICY_HALF_DUPLEX &&
	    !((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))) {
		unread = tcpterm_unread(sk);
		if (unread) {
			tcpterm_count_discard(sk, ts, unread);
			tcpterm_note_rst(sk, ts, TCPTERM_RST_UNREAD_ON_CLOSE);
		}
	}
	rcu_read_unlock();

	/* The entry lives until the socket's destroy op: no RCU needed. */
	if (tcpterm_drain_close(sk, ts, timeout))
		held = true;
	return held;
}

/* New payload of @skb, an accepted segment, beyond rcv_nxt. */
static u32 tcpterm_skb_new_data(const struct sock *sk,
				const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	u32 rcv_nxt = tcp_sk(sk)->rcv_nxt;
	u32 end = cb->end_seq - !!(cb->tcp_flags & TCPHDR_FIN);

	if (!after(end, rcv_nxt))
		return 0;
	return end - (after(cb->seq, rcv_nxt) ? cb->seq : rcv_nxt);
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
		tcpterm_count_discard(sk, ts, tcpterm_skb_new_data(sk, skb));
		tcpterm_note_rst(sk, ts, TCPTERM_RST_DATA_AFTER_SHUTDOWN);
	}
	rcu_read_unlock();
}

/* Accepted values of the int options, by option name. */
static const struct {
	int min;
	int max;
} tcpterm_int_range[] = {
	[TCPTERM_POLICY]	 = { 0, __TCPTERM_POLICY_MAX - 1 },
	[TCPTERM_CROSSING_ERROR] = { 0, 1 },
	[TCPTERM_DRAIN_TIME_MS]	 = { 1, TCPTERM_MS_MAX },
	[TCPTERM_DRAIN_IDLE_MS]	 = { 1, TCPTERM_MS_MAX },
	[TCPTERM_GRACE_MS]	 = { 0, TCPTERM_MS_MAX },
};

static bool tcpterm_is_int_opt(int optname)
{
	return optname >= 0 && optname < ARRAY_SIZE(tcpterm_int_range) &&
	       tcpterm_int_range[optname].max;
}

static void tcpterm_param_store(struct tcpterm_params *p, int optname,
				int val)
{
	switch (optname) {
	case TCPTERM_POLICY:
		WRITE_ONCE(p->policy, val);
		break;
	case TCPTERM_CROSSING_ERROR:
		WRITE_ONCE(p->crossing_error, val);
		break;
	case TCPTERM_DRAIN_TIME_MS:
		WRITE_ONCE(p->drain_time_ms, val);
		break;
	case TCPTERM_DRAIN_IDLE_MS:
		WRITE_ONCE(p->drain_idle_ms, val);
		break;
	case TCPTERM_GRACE_MS:
		WRITE_ONCE(p->grace_ms, val);
		break;
	}
}

static int tcpterm_param_load(const struct tcpterm_params *p, int optname)
{
	switch (optname) {
	case TCPTERM_POLICY:
		return READ_ONCE(p->policy);
	case TCPTERM_CROSSING_ERROR:
		return READ_ONCE(p->crossing_error);
	case TCPTERM_DRAIN_TIME_MS:
		return READ_ONCE(p->drain_time_ms);
	case TCPTERM_DRAIN_IDLE_MS:
		return READ_ONCE(p->drain_idle_ms);
	case TCPTERM_GRACE_MS:
		return READ_ONCE(p->grace_ms);
	}
	return 0;
}

static int tcpterm_set_int(struct sock *sk, int optname, int val)
{
	struct tcpterm_sock *ts;

	if (val < tcpterm_int_range[optname].min ||
	    val > tcpterm_int_range[optname].max)
		return -EINVAL;

	lock_sock(sk);
	if (!tcpterm_prot_can_attach(sk)) {
		release_sock(sk);
		return -EOPNOTSUPP;
	}
	ts = tcpterm_sock_get(sk, GFP_KERNEL);
	if (!IS_ERR(ts)) {
		tcpterm_param_store(&ts->p, optname, val);
		tcpterm_prot_attach(sk, READ_ONCE(ts->p.crossing_error));
		if (optname == TCPTERM_GRACE_MS)
			tcpterm_grace_changed(sk, ts);
	}
	release_sock(sk);
	return PTR_ERR_OR_ZERO(ts);
}

int tcpterm_setsockopt(struct sock *sk, int optname, sockptr_t optval,
		       unsigned int optlen)
{
	int val;

	/* MPTCP refuses unknown levels itself; never track a subflow. */
	if (sk_is_mptcp(sk))
		return -EOPNOTSUPP;

	if (!tcpterm_is_int_opt(optname))
		return -ENOPROTOOPT;
	if (optlen != sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	return tcpterm_set_int(sk, optname, val);
}

static u8 tcpterm_peer_end(const struct sock *sk, bool peer_rst)
{
	if (peer_rst)
		return TCPTERM_PEER_RST;
	if (tcpterm_peer_fin(sk))
		return TCPTERM_PEER_FIN;
	return TCPTERM_PEER_OPEN;
}

static void tcpterm_fill_info(struct sock *sk, struct tcpterm_info *info)
{
	struct tcpterm_sock *ts;
	bool peer_rst = false;

	memset(info, 0, sizeof(*info));
	info->tti_version = TCPTERM_INFO_VERSION;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts) {
		spin_lock_bh(&ts->lock);
		info->tti_flags = ts->flags | TCPTERM_F_TRACKED;
		info->tti_policy = READ_ONCE(ts->p.policy);
		info->tti_rst_reason = ts->rst_reason;
		info->tti_crossing_error = READ_ONCE(ts->p.crossing_error);
		info->tti_bytes_discarded = ts->bytes_discarded;
		info->tti_rst_time_ns = ts->rst_time_ns;
		info->tti_crossed_time_ns = ts->crossed_time_ns;
		peer_rst = ts->peer_rst;
		spin_unlock_bh(&ts->lock);
	}
	rcu_read_unlock();
	info->tti_peer_end = tcpterm_peer_end(sk, peer_rst);
}

static int tcpterm_get_int(struct sock *sk, int optname)
{
	struct tcpterm_sock *ts;
	int val;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	val = tcpterm_param_load(ts ? &ts->p : &tcpterm_default_params,
				 optname);
	rcu_read_unlock();
	return val;
}

int tcpterm_getsockopt(struct sock *sk, int optname, char __user *optval,
		       int __user *optlen)
{
	struct tcpterm_info info;
	int len, val;

	if (sk_is_mptcp(sk))
		return -EOPNOTSUPP;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	if (optname == TCPTERM_INFO) {
		tcpterm_fill_info(sk, &info);
		len = min_t(int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	}
	if (!tcpterm_is_int_opt(optname))
		return -ENOPROTOOPT;
	if (len < sizeof(val))
		return -EINVAL;
	len = sizeof(val);
	val = tcpterm_get_int(sk, optname);
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
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
