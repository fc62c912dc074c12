// SPDX-License-Identifier: GPL-2.0
/*
 * What the policies ask of a TCP socket, in one place: is the peer's FIN
 * in, how much input is unread, how much new data an accepted segment
 * carries, does tcp_abort() send an RST in a state, and consuming unread
 * input the way a reader would.  Everything here reads or drives the
 * stock TCP code; nothing knows about policies.
 */
#include <net/sock.h>
#include <net/tcp.h>

#include "sock.h"
#include "tcphelp.h"

/*
 * Has the peer's FIN arrived?  SOCK_DONE says so, except on a socket
 * whose crossing is reported as an error (crossing.c clears it there).
 */
bool tcpterm_peer_fin(const struct sock *sk)
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

/* New payload of @skb, an accepted segment, beyond rcv_nxt. */
u32 tcpterm_skb_new_data(const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	u32 rcv_nxt = tcp_sk(sk)->rcv_nxt;
	u32 end = cb->end_seq - !!(cb->tcp_flags & TCPHDR_FIN);

	if (!after(end, rcv_nxt))
		return 0;
	return end - (after(cb->seq, rcv_nxt) ? cb->seq : rcv_nxt);
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
 * Counted as discarded for @ts.  Socket locked (owner or bh).  Returns
 * the bytes consumed.
 */
u32 tcpterm_discard_unread(struct sock *sk, struct tcpterm_sock *ts)
{
	read_descriptor_t desc = { .count = 1 };

	if (!tcpterm_unread(sk))
		return 0;
	tcp_read_sock(sk, &desc, tcpterm_discard_actor);
	tcpterm_sock_count_discard(sk, ts, desc.written);
	return desc.written;
}
