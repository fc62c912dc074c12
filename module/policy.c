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
#include "netlink.h"
#include "policy.h"
#include "sock.h"

/* The errno a socket reset by its own policy reports to its owner. */
static const int tcpterm_abort_errno = ECONNABORTED;

static struct workqueue_struct *tcpterm_wq;

struct tcpterm_abort_work {
	struct work_struct	work;
	struct sock		*sk;
};

static u8 tcpterm_policy_of(const struct sock *sk)
{
	struct tcpterm_sock *ts;
	u8 policy = TCPTERM_POLICY_DEFAULT;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts)
		policy = READ_ONCE(ts->p.policy);
	rcu_read_unlock();
	return policy;
}

/* In-order input not yet read; the peer's FIN is not data. */
u32 tcpterm_unread(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 unread = READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq);

	if (unread && sock_flag(sk, SOCK_DONE))
		unread--;
	return unread;
}

void tcpterm_count_discard(struct sock *sk, struct tcpterm_sock *ts, u32 bytes)
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

/* Process context, socket not locked. */
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
	if (ts)
		tcpterm_note_rst(sk, ts, reason);
	rcu_read_unlock();
	release_sock(sk);
	tcp_abort(sk, tcpterm_abort_errno);
}

bool tcpterm_shutdown_wanted(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;

	if (how != SHUT_RD && how != SHUT_RDWR)
		return false;
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return false;
	return tcpterm_policy_of(sk) == TCPTERM_POLICY_HALF_DUPLEX;
}

/*
 * Throw away what the application can no longer read, as __tcp_close()
 * does on close().  Out-of-order data was never readable; the abort that
 * follows leaves it to the destructor.  Socket locked.
 */
static void tcpterm_purge_input(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	__skb_queue_purge(&sk->sk_receive_queue);
	WRITE_ONCE(tp->copied_seq, tp->rcv_nxt);
}

/* Purge and count what the application left unread.  Socket locked. */
u32 tcpterm_discard_unread(struct sock *sk, struct tcpterm_sock *ts)
{
	u32 unread = tcpterm_unread(sk);

	if (unread) {
		tcpterm_purge_input(sk);
		tcpterm_count_discard(sk, ts, unread);
	}
	return unread;
}

/* shutdown(SHUT_RD or SHUT_RDWR) succeeded on a HALF_DUPLEX socket. */
void tcpterm_read_closed(struct sock *sk)
{
	struct tcpterm_sock *ts;
	u32 unread = 0;

	lock_sock(sk);
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts)
		unread = tcpterm_discard_unread(sk, ts);
	rcu_read_unlock();
	release_sock(sk);

	if (unread)
		tcpterm_abort(sk, TCPTERM_RST_UNREAD_ON_SHUTDOWN);
}

/*
 * Entry of __tcp_close(), socket locked.  HALF_DUPLEX: account for the
 * RST the stock code is about to send for unread input.  DRAIN: start
 * draining (drain.c), which discards that input first so that the stock
 * code sends a FIN instead.
 */
void tcpterm_on_close(struct sock *sk)
{
	struct tcpterm_sock *ts;
	u32 unread;

	if (!tcpterm_sock_any())
		return;
	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE) ||
	    tcp_sk(sk)->repair)
		return;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (!ts)
		goto out;
	switch (READ_ONCE(ts->p.policy)) {
	case TCPTERM_POLICY_HALF_DUPLEX:
		unread = tcpterm_unread(sk);
		if (unread) {
			tcpterm_count_discard(sk, ts, unread);
			tcpterm_note_rst(sk, ts, TCPTERM_RST_UNREAD_ON_CLOSE);
		}
		break;
	case TCPTERM_POLICY_DRAIN:
		tcpterm_drain_on_close(sk, ts);
		break;
	}
out:
	rcu_read_unlock();
}

/* Payload of @skb beyond what we acknowledged, within our window. */
u32 tcpterm_new_data(const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 end = cb->end_seq;

	if (cb->tcp_flags & (TCPHDR_RST | TCPHDR_SYN))
		return 0;
	if (cb->tcp_flags & TCPHDR_FIN)
		end--;
	if (!after(end, tp->rcv_nxt) ||
	    after(cb->seq, tp->rcv_nxt + tcp_receive_window(tp)))
		return 0;
	return end - (after(cb->seq, tp->rcv_nxt) ? cb->seq : tp->rcv_nxt);
}

/*
 * ftrace callback of tcp_v4_do_rcv/tcp_v6_do_rcv: is this a segment with
 * new data for a HALF_DUPLEX socket whose owner closed its read side?
 * Orphans are left to the stock code, which already resets them.
 */
bool tcpterm_rcv_should_reject(struct sock *sk, struct sk_buff *skb)
{
	const int states = TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
			   TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2;

	if (!tcpterm_sock_any())
		return false;
	if (!(READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	    sock_flag(sk, SOCK_DEAD) || !((1 << sk->sk_state) & states))
		return false;
	if (!tcpterm_new_data(sk, skb))
		return false;
	if (tcpterm_policy_of(sk) != TCPTERM_POLICY_HALF_DUPLEX)
		return false;
	return !tcp_checksum_complete(skb);
}

static void tcpterm_abort_workfn(struct work_struct *work)
{
	struct tcpterm_abort_work *aw;

	aw = container_of(work, struct tcpterm_abort_work, work);
	tcpterm_abort(aw->sk, TCPTERM_RST_DATA_AFTER_SHUTDOWN);
	sock_put(aw->sk);
	kfree(aw);
}

static bool tcpterm_schedule_abort(struct sock *sk)
{
	struct tcpterm_abort_work *aw = kmalloc(sizeof(*aw), GFP_ATOMIC);

	if (!aw)
		return false;
	INIT_WORK(&aw->work, tcpterm_abort_workfn);
	sock_hold(sk);
	aw->sk = sk;
	queue_work(tcpterm_wq, &aw->work);
	return true;
}

/*
 * Redirect target of tcp_v4_do_rcv/tcp_v6_do_rcv for the segments chosen
 * above: drop the segment unacknowledged and have the socket reset.  The
 * first such segment schedules the abort; retransmissions of it while the
 * abort is pending are dropped without being counted again.  Without
 * memory for the work item, the next retransmission tries again.
 */
void tcpterm_rcv_reject(struct sock *sk, struct sk_buff *skb)
{
	struct tcpterm_sock *ts;
	bool first = false;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts) {
		spin_lock_bh(&ts->lock);
		first = !ts->abort_pending && tcpterm_schedule_abort(sk);
		if (first)
			ts->abort_pending = true;
		spin_unlock_bh(&ts->lock);
		if (first)
			tcpterm_count_discard(sk, ts, tcpterm_new_data(sk, skb));
	}
	rcu_read_unlock();
	kfree_skb(skb);
}

/* Entry of tcp_reset(): the peer reset the connection. */
void tcpterm_on_peer_reset(struct sock *sk)
{
	struct tcpterm_sock *ts;

	if (!tcpterm_sock_any() || sk->sk_state == TCP_CLOSE)
		return;
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts)
		WRITE_ONCE(ts->peer_rst, true);
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
	ts = tcpterm_sock_get(sk, GFP_KERNEL);
	if (ts) {
		tcpterm_param_store(&ts->p, optname, val);
		if (optname == TCPTERM_GRACE_MS)
			tcpterm_grace_changed(sk, ts);
	}
	release_sock(sk);
	return ts ? 0 : -ENOMEM;
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
	if (sock_flag(sk, SOCK_DONE))
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
