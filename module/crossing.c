// SPDX-License-Identifier: GPL-2.0
/*
 * Crossing FINs.
 *
 * TCP's close handshake is symmetric, so when both ends half-close at the
 * same moment neither learns that the other still expected an answer:
 * each reads a clean EOF.  On the wire the crossing is exact: we sent a
 * FIN, and the peer's FIN arrived before the peer acknowledged ours.  In
 * Linux that is the move FIN_WAIT1 -> CLOSING, made only by tcp_fin(),
 * seen here through the inet_sock_set_state tracepoint.
 *
 * Linux enters FIN_WAIT1 when the FIN is queued, not when it is sent.  A
 * FIN still waiting behind unsent data (snd_nxt short of write_seq) has
 * crossed nothing: the peer's FIN came first and ours will acknowledge
 * it.  A FIN that arrives together with the ACK of ours goes FIN_WAIT1 ->
 * FIN_WAIT2 -> TIME_WAIT and is not a crossing either.
 *
 * The related loss: a segment with new data that arrives in FIN_WAIT1,
 * after our FIN went out, and does not acknowledge it.  The peer wrote it
 * before it could know we had stopped sending; any answer it expects can
 * never come.  Counted as late data.
 *
 * Crossings are counted (per netns counters and netlink events) for
 * sockets tcpterm tracks, and for every TCP socket of a namespace with
 * net.tcpterm.watch_all set.  The tracepoint is attached only while
 * either can happen (gate.c); then it costs every socket one call per
 * state change.  Late data is seen only on sockets with a policy (their
 * sk_data_ready, once their FIN is queued), so that no other socket pays
 * per segment.  Sockets that opted in also
 * get the flags and time in TCPTERM_INFO, and with TCPTERM_CROSSING_ERROR
 * the EOF they would read becomes an error.
 */
#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/socket.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/mptcp.h>
#include <linux/tcpterm.h>

#include "crossing.h"
#include "netlink.h"
#include "ns.h"
#include "sock.h"
#include "tcphelp.h"

/*
 * The errno a crossing turns into.  EPROTO: the termination handshake
 * did not give the guarantee the application relies on.  No stock TCP
 * read returns it, so it cannot be mistaken for ECONNRESET (the peer
 * aborted) or EPIPE (we wrote after shutdown).
 */
static const int tcpterm_crossing_errno = EPROTO;

static bool tcpterm_fin_sent(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	return READ_ONCE(tp->snd_nxt) == READ_ONCE(tp->write_seq);
}

/*
 * Set @flag on a tracked socket.  True when the flag is new there, or the
 * socket is untracked (nothing remembers what it was told): the caller's
 * cue to send an event, once per socket and kind.
 */
static bool tcpterm_flag(struct sock *sk, u32 flag)
{
	struct tcpterm_sock *ts;
	bool report = false, first = true;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts) {
		spin_lock_bh(&ts->lock);
		first = !(ts->flags & flag);
		ts->flags |= flag;
		if (flag == TCPTERM_F_CROSSED) {
			ts->crossed_time_ns = ktime_get_ns();
			report = READ_ONCE(ts->p.crossing_error);
		}
		spin_unlock_bh(&ts->lock);
	}
	rcu_read_unlock();

	if (report && !sock_flag(sk, SOCK_DEAD)) {
		WRITE_ONCE(sk->sk_err, tcpterm_crossing_errno);
		sk_error_report(sk);
		tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_CROSSING_ERRORS, 1);
	}
	return first;
}

/*
 * inet_sock_set_state tracepoint; the socket is locked.  @owned: it has
 * tcpterm's ops.  Others count only where the namespace watches all.
 */
void tcpterm_crossing_state(const struct sock *csk, int oldstate, int newstate,
			    bool owned)
{
	struct sock *sk = (struct sock *)csk;

	/*
	 * MPTCP subflows: the MPTCP socket, not TCP's FINs, ends the data.
	 * A kernel socket holds no reference on its namespace: one that
	 * changes state while the namespace is torn down must not reach
	 * its counters (freed by then).  The probe is an RCU reader, and
	 * the count drops to zero a grace period before any exit runs.
	 */
	if (newstate != TCP_CLOSING || oldstate != TCP_FIN_WAIT1 ||
	    sk->sk_protocol != IPPROTO_TCP || sk_is_mptcp(sk) ||
	    !tcpterm_fin_sent(sk) || !check_net(sock_net(sk)))
		return;
	if (!owned && !tcpterm_ns_watch_all(sock_net(sk)))
		return;

	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_CROSSINGS, 1);
	if (tcpterm_flag(sk, TCPTERM_F_CROSSED))
		tcpterm_event(sk, TCPTERM_EV_CROSSING, TCPTERM_RST_NONE);
}

/*
 * sk_data_ready of a watched socket: data the stack accepted after our
 * FIN went out, without acknowledging it, is late data: the state is
 * still FIN_WAIT1 (an ACK is processed before the data is queued), or
 * CLOSING when the peer's FIN came with the data.  Socket locked.
 */
void tcpterm_crossing_data(struct sock *sk, struct tcpterm_sock *ts)
{
	/* The end of the data: in CLOSING the peer's FIN is in rcv_nxt. */
	u32 end = READ_ONCE(tcp_sk(sk)->rcv_nxt) -
		  (sk->sk_state == TCP_CLOSING);
	bool late;

	late = (1 << sk->sk_state) & (TCPF_FIN_WAIT1 | TCPF_CLOSING) &&
	       tcpterm_fin_sent(sk) && after(end, ts->ext->rcv_seen);
	ts->ext->rcv_seen = end;
	if (!late)
		return;
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_LATE_DATA, 1);
	if (tcpterm_flag(sk, TCPTERM_F_LATE_DATA))
		tcpterm_event(sk, TCPTERM_EV_LATE_DATA, TCPTERM_RST_NONE);
}

/*
 * Would this read return EOF although a crossing error is pending?
 * Stock tcp_recvmsg() tests SOCK_DONE before sk_err, so without this the
 * error would only show in poll() and SO_ERROR.  Nothing can be queued
 * after the peer's FIN, so "no unread data" stays true until the read
 * runs.
 */
bool tcpterm_crossing_recv_error_pending(struct sock *sk, int flags)
{
	struct tcpterm_sock *ts;
	bool pending = false;

	if (!tcpterm_sock_any() || (flags & MSG_ERRQUEUE))
		return false;
	if (!READ_ONCE(sk->sk_err) || !sock_flag(sk, SOCK_DONE) ||
	    tcpterm_unread(sk))
		return false;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts)
		pending = READ_ONCE(ts->p.crossing_error) &&
			  (READ_ONCE(ts->flags) & TCPTERM_F_CROSSED);
	rcu_read_unlock();
	return pending;
}

/* Redirect target of tcp_recvmsg for the reads chosen above. */
int tcpterm_crossing_recv_error(struct sock *sk, int flags)
{
	if (flags & MSG_PEEK)
		return -READ_ONCE(sk->sk_err);
	return sock_error(sk);
}
