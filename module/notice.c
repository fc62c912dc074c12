// SPDX-License-Identifier: GPL-2.0
/*
 * The closing notice: one end tells the other, in TCP, that it is
 * closing and will read nothing more, so that the other end stops
 * sending requests instead of losing one in the close.
 *
 * Wire.  One experimental option (kind 254, RFC 6994), with the
 * experiment id tcpterm_notice_exid:
 *
 *   SYN, SYN-ACK   254, 4, exid          "I take notices"
 *   after close()  254, 8, exid, seq32   "closed; my application read
 *                                          your bytes up to seq"
 *
 * A SYN of a socket with TCPTERM_NOTICE offers it; a listener with
 * TCPTERM_NOTICE echoes it in the SYN-ACK (not in a syncookie SYN-ACK:
 * its child would not know); both ends are then agreed
 * (TCPTERM_F_NOTICE_OK).  A peer that does not echo leaves the
 * connection stock.  close() of an agreed, established connection puts
 * the notice on its FIN and on every segment after it (a lost FIN is
 * retransmitted with it) and ends as DRAIN ends it (drain.c).  The
 * receiving end fails writes from then on, and a read at the end of the
 * stream if bytes it wrote were never read (sockopt/hooks).
 *
 * Mechanism.  The stock kernel asks cgroup BPF sock_ops programs for
 * header options, and only for sockets whose bpf_sock_ops_cb_flags ask
 * for it: WRITE_HDR_OPT on the sockets that write the option (a
 * connecting socket until its SYN-ACK, a listener, a socket whose
 * notice is out), PARSE_UNKNOWN_HDR_OPT on agreed sockets (called only
 * for a segment with an option the stack does not know, after the
 * stack accepted it: window, PAWS, RFC 5961).  tcpterm observes the
 * function that runs those programs, and the static key in front of it
 * is raised while notices are in use.  Every other socket pays nothing
 * more than a connection setup call into an empty program list, and
 * only while some socket or namespace uses notices; with none, the key
 * is left as the kernel had it.  BPF programs attached to the cgroup
 * run after tcpterm and see the option space it took.
 */
#include <linux/bpf-cgroup.h>
#include <linux/filter.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <net/tcp.h>
#include <linux/tcpterm.h>

#include "gate.h"
#include "notice.h"
#include "ns.h"
#include "prot.h"
#include "sock.h"

static unsigned short tcpterm_notice_exid = 0x7474;
module_param_named(notice_exid, tcpterm_notice_exid, ushort, 0444);
MODULE_PARM_DESC(notice_exid,
		 "RFC 6994 experiment id of the closing notice option (default 0x7474)");

/* Option lengths: the offer (SYN, SYN-ACK) and the notice. */
static const u8 tcpterm_notice_offer_len = 4;
static const u8 tcpterm_notice_len = 8;

static const struct tcpterm_gate_ops *tcpterm_notice_hook;
static DEFINE_MUTEX(tcpterm_notice_lock);
static bool tcpterm_notice_on;		/* writes under tcpterm_notice_lock */

/* The hook layer's attach and detach of the sock_ops observer. */
void tcpterm_notice_attach(const struct tcpterm_gate_ops *ops)
{
	tcpterm_notice_hook = ops;
}

/*
 * Notices are wanted (a socket or namespace asked): attach the observer
 * and raise the key, until the gate closes.  Process context, with the
 * gate held.
 */
int tcpterm_notice_enable(void)
{
	int err = 0;

	if (READ_ONCE(tcpterm_notice_on))
		return 0;
	mutex_lock(&tcpterm_notice_lock);
	/* No hook: during load, or the function could not be hooked. */
	if (!tcpterm_notice_hook) {
		err = -EOPNOTSUPP;
	} else if (!tcpterm_notice_on) {
		err = tcpterm_notice_hook->open();
		if (!err) {
			static_branch_inc(&cgroup_bpf_enabled_key[CGROUP_SOCK_OPS]);
			WRITE_ONCE(tcpterm_notice_on, true);
		}
	}
	mutex_unlock(&tcpterm_notice_lock);
	return err;
}

/* The gate closes (nothing tracked, no namespace configured), or unload. */
void tcpterm_notice_disable(void)
{
	mutex_lock(&tcpterm_notice_lock);
	if (tcpterm_notice_on) {
		static_branch_dec(&cgroup_bpf_enabled_key[CGROUP_SOCK_OPS]);
		tcpterm_notice_hook->close();
		WRITE_ONCE(tcpterm_notice_on, false);
	}
	mutex_unlock(&tcpterm_notice_lock);
}

static void tcpterm_notice_flag(struct tcpterm_sock *ts, u32 flags)
{
	spin_lock_bh(&ts->lock);
	ts->flags |= flags;
	spin_unlock_bh(&ts->lock);
}

/* Ask for the sock_ops calls in @flag, remembering what was ours. */
static void tcpterm_notice_ask(struct sock *sk, struct tcpterm_sock *ts,
			       u8 flag, u8 own)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->bpf_sock_ops_cb_flags & flag)
		return;
	tp->bpf_sock_ops_cb_flags |= flag;
	if (ts)
		WRITE_ONCE(ts->notice_own, ts->notice_own | own);
}

/*
 * tcpterm's option of length @len among the options of @th, or NULL.
 * The header is the stack's own (sent, or accepted and pulled).
 */
static const u8 *tcpterm_notice_find(const struct tcphdr *th, u8 len)
{
	const u8 *p = (const u8 *)(th + 1);
	int left = th->doff * 4 - sizeof(*th);

	while (left > 0) {
		u8 size;

		if (*p == TCPOPT_EOL)
			break;
		if (*p == TCPOPT_NOP) {
			p++;
			left--;
			continue;
		}
		if (left < 2)
			break;
		size = p[1];
		if (size < 2 || size > left)
			break;
		if (*p == TCPOPT_EXP && size == len &&
		    get_unaligned_be16(p + 2) == tcpterm_notice_exid)
			return p;
		p += size;
		left -= size;
	}
	return NULL;
}

/* Does the listener @sk take notices: its own setting, or its namespace's? */
static bool tcpterm_notice_listener(struct sock *sk)
{
	struct tcpterm_params p;
	struct tcpterm_sock *ts;

	if (tcpterm_prot_owns(sk)) {
		ts = tcpterm_sock_lookup(sk);
		return ts && READ_ONCE(ts->p.notice);
	}
	return tcpterm_ns_any() && tcpterm_ns_params(sk, &p) && p.notice;
}

/* The TCP header of a SYN kept by a request or a child, or NULL. */
static const struct tcphdr *tcpterm_notice_syn(const struct saved_syn *syn)
{
	if (!syn || syn->tcp_hdrlen < sizeof(struct tcphdr))
		return NULL;
	return (const struct tcphdr *)(syn->data + syn->mac_hdrlen +
				       syn->network_hdrlen);
}

/*
 * What tcpterm writes on the segment @ops describes, of @sk (RCU read
 * side): its length, 0 for nothing; the notice's sequence in @seq.
 * The same answer for the length callback and the write that follows.
 */
static u8 tcpterm_notice_what(struct sock *sk, struct bpf_sock_ops_kern *ops,
			      u32 *seq)
{
	struct tcpterm_sock *ts;

	/*
	 * A SYN-ACK: @sk is the listener, ops->sk the request.  A
	 * retransmitted one comes without the SYN: the request kept it.
	 */
	if (ops->sk != sk) {
		const struct tcphdr *syn = ops->syn_skb ?
			tcp_hdr(ops->syn_skb) :
			tcpterm_notice_syn(((struct request_sock *)ops->sk)->saved_syn);

		if (!syn || ops->args[0] == BPF_WRITE_HDR_TCP_SYNACK_COOKIE ||
		    !tcpterm_notice_find(syn, tcpterm_notice_offer_len) ||
		    !tcpterm_notice_listener(sk))
			return 0;
		return tcpterm_notice_offer_len;
	}
	if (!tcpterm_prot_owns(sk))
		return 0;
	ts = tcpterm_sock_lookup(sk);
	if (!ts)
		return 0;
	if (READ_ONCE(ts->flags) & TCPTERM_F_NOTICE_SENT) {
		*seq = ts->notice_seq;
		return tcpterm_notice_len;
	}
	if (sk->sk_state == TCP_SYN_SENT && ops->skb &&
	    (TCP_SKB_CB(ops->skb)->tcp_flags & TCPHDR_SYN) &&
	    READ_ONCE(ts->p.notice))
		return tcpterm_notice_offer_len;
	return 0;
}

static void tcpterm_notice_reserve(struct sock *sk,
				   struct bpf_sock_ops_kern *ops)
{
	u32 seq;
	u8 len = tcpterm_notice_what(sk, ops, &seq);

	if (len && len <= ops->remaining_opt_len)
		ops->remaining_opt_len -= len;
}

/* Into the space the length callback reserved, all NOPs until now. */
static void tcpterm_notice_write(struct sock *sk,
				 struct bpf_sock_ops_kern *ops)
{
	u32 seq = 0;
	u8 len = tcpterm_notice_what(sk, ops, &seq);
	u8 *p = ops->skb_data_end;

	if (!len || len > ops->remaining_opt_len)
		return;
	p[0] = TCPOPT_EXP;
	p[1] = len;
	put_unaligned_be16(tcpterm_notice_exid, p + 2);
	if (len == tcpterm_notice_len)
		put_unaligned_be32(seq, p + 4);
	ops->skb_data_end += len;
	ops->remaining_opt_len -= len;
}

/* A child read the SYN it kept for tcpterm (socket locked). */
static void tcpterm_notice_drop_syn(struct tcp_sock *tp,
				    struct tcpterm_sock *ts)
{
	if (ts->notice_own & TCPTERM_NOTICE_OWN_SAVE_SYN) {
		tcp_saved_syn_free(tp);
		ts->notice_own &= ~TCPTERM_NOTICE_OWN_SAVE_SYN;
	}
}

/*
 * A Fast Open child met tcpterm after its handshake callback (it is
 * queued later): what it inherited for that callback goes now.
 */
void tcpterm_notice_child(struct sock *sk, struct tcpterm_sock *ts)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!rcu_access_pointer(tp->fastopen_rsk))
		return;
	if (ts->notice_own & TCPTERM_NOTICE_OWN_WRITE) {
		tp->bpf_sock_ops_cb_flags &= ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
		ts->notice_own &= ~TCPTERM_NOTICE_OWN_WRITE;
	}
	tcpterm_notice_drop_syn(tp, ts);
}

/*
 * The handshake is over (socket locked): did the other end echo our
 * offer (@active, in its SYN-ACK) or offer it (in the SYN the child
 * kept)?  Either way the SYN options are written.
 */
static void tcpterm_notice_established(struct sock *sk,
				       struct bpf_sock_ops_kern *ops,
				       bool active)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcphdr *th = NULL;
	struct tcpterm_sock *ts;
	bool agreed;

	if (!tcpterm_prot_owns(sk))
		return;
	ts = tcpterm_sock_lookup(sk);
	if (!ts)
		return;
	/*
	 * The SYN options are written.  A child inherited its listener's
	 * flags with its other fields, and notice_own with them (sock.c);
	 * that of an untracked listener got them from its namespace.
	 */
	if (ts->notice_own & TCPTERM_NOTICE_OWN_WRITE ||
	    (!active && READ_ONCE(ts->p.notice))) {
		tp->bpf_sock_ops_cb_flags &= ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
		ts->notice_own &= ~TCPTERM_NOTICE_OWN_WRITE;
	}
	if (active)
		th = ops->skb ? tcp_hdr(ops->skb) : NULL;
	else
		th = tcpterm_notice_syn(tp->saved_syn);
	agreed = READ_ONCE(ts->p.notice) && th &&
		 tcpterm_notice_find(th, tcpterm_notice_offer_len);
	if (!active)
		tcpterm_notice_drop_syn(tp, ts);
	if (!agreed)
		return;
	tcpterm_notice_ask(sk, ts, BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG,
			   TCPTERM_NOTICE_OWN_PARSE);
	tcpterm_notice_flag(ts, TCPTERM_F_NOTICE_OK);
	/* From now on its reads and writes look at the notice. */
	tcpterm_prot_attach(sk, true);
}

/*
 * Did bytes we wrote go unread by the peer's application, which read up
 * to @seq?  Our FIN takes a sequence number but is no byte.
 */
static bool tcpterm_notice_unread(const struct sock *sk, u32 seq)
{
	u32 end = READ_ONCE(tcp_sk(sk)->write_seq);

	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN)
		end--;
	return after(end, seq);
}

/*
 * The stack checked the segment's sequence (window, PAWS, RFC 5961 for
 * RST and SYN) but not yet its ACK: an in-window segment with any ACK
 * gets here.  A notice is taken only from the segment at rcv_nxt that
 * acknowledges what RFC 5961 5.2 accepts, so a blind attacker has to
 * guess as much as for a reset; a notice that arrives out of order is
 * taken from the retransmission, which carries it too.
 */
static bool tcpterm_notice_acceptable(const struct sock *sk,
				      const struct sk_buff *skb)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 ack = TCP_SKB_CB(skb)->ack_seq;

	return TCP_SKB_CB(skb)->seq == tp->rcv_nxt &&
	       (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_ACK) &&
	       !before(ack, tp->snd_una - tp->max_window) &&
	       !after(ack, tp->snd_nxt);
}

/*
 * A segment the stack accepted carries an option it does not know
 * (socket locked).  The first notice on an agreed connection is taken;
 * its sequence stays for the end of the stream (tcpterm_notice_eof_error).
 */
static void tcpterm_notice_parse(struct sock *sk,
				 struct bpf_sock_ops_kern *ops)
{
	struct tcpterm_sock *ts;
	const u8 *opt;
	u32 flags, seq;

	if (!tcpterm_prot_owns(sk) || !ops->skb)
		return;
	ts = tcpterm_sock_lookup(sk);
	if (!ts || (READ_ONCE(ts->flags) &
		    (TCPTERM_F_NOTICE_OK | TCPTERM_F_NOTICE_RCVD |
		     TCPTERM_F_NOTICE_SENT)) != TCPTERM_F_NOTICE_OK)
		return;
	opt = tcpterm_notice_find(tcp_hdr(ops->skb), tcpterm_notice_len);
	if (!opt || !tcpterm_notice_acceptable(sk, ops->skb))
		return;
	seq = get_unaligned_be32(opt + 4);
	WRITE_ONCE(ts->notice_seq, seq);
	flags = TCPTERM_F_NOTICE_RCVD;
	if (tcpterm_notice_unread(sk, seq))
		flags |= TCPTERM_F_NOTICE_UNREAD;
	tcpterm_notice_flag(ts, flags);
}

/*
 * Entry of the function that runs sock_ops programs (observer): @sk is
 * the full socket, locked, except for a SYN-ACK (the listener).
 */
void tcpterm_notice_sock_ops(struct sock *sk, struct bpf_sock_ops_kern *ops)
{
	rcu_read_lock();
	switch (ops->op) {
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		tcpterm_notice_reserve(sk, ops);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		tcpterm_notice_write(sk, ops);
		break;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		tcpterm_notice_parse(sk, ops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		tcpterm_notice_established(sk, ops, true);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		tcpterm_notice_established(sk, ops, false);
		break;
	}
	rcu_read_unlock();
}

/*
 * A listener-to-be keeps the SYN of each connection (the child reads the
 * offer from it) and writes SYN-ACK options.  Socket locked.
 */
static void tcpterm_notice_listener_start(struct sock *sk,
					  struct tcpterm_sock *ts)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->save_syn) {
		tp->save_syn = 1;
		if (ts)
			WRITE_ONCE(ts->notice_own,
				   ts->notice_own | TCPTERM_NOTICE_OWN_SAVE_SYN);
	}
	tcpterm_notice_ask(sk, ts, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG,
			   TCPTERM_NOTICE_OWN_WRITE);
}

/*
 * @sk (socket locked) got its settings: with TCPTERM_NOTICE before its
 * handshake, it will offer notices (a SYN) or echo them (a listener;
 * one not yet listening might become either).
 */
void tcpterm_notice_start(struct sock *sk, struct tcpterm_sock *ts)
{
	if (!READ_ONCE(ts->p.notice))
		return;
	switch (sk->sk_state) {
	case TCP_CLOSE:
	case TCP_LISTEN:
		tcpterm_notice_listener_start(sk, ts);
		break;
	case TCP_SYN_SENT:
		tcpterm_notice_ask(sk, ts, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG,
				   TCPTERM_NOTICE_OWN_WRITE);
		break;
	}
}

/*
 * An untracked socket starts listening (socket locked) where its
 * namespace gives notices: it echoes offers as a tracked one would.
 */
void tcpterm_notice_listen(struct sock *sk)
{
	struct tcpterm_params p;

	if (tcpterm_ns_params(sk, &p) && p.notice)
		tcpterm_notice_listener_start(sk, NULL);
}

static bool tcpterm_notice_agreed(const struct tcpterm_sock *ts)
{
	return (READ_ONCE(ts->flags) & TCPTERM_F_NOTICE_OK) &&
	       READ_ONCE(ts->p.notice);
}

/*
 * Would close() of @sk send the notice: an agreed connection, still
 * established (not after shutdown(SHUT_WR)), that got none itself?
 */
bool tcpterm_notice_closing(const struct sock *sk,
			    const struct tcpterm_sock *ts)
{
	return READ_ONCE(sk->sk_state) == TCP_ESTABLISHED &&
	       tcpterm_notice_agreed(ts) &&
	       !(READ_ONCE(ts->flags) &
		 (TCPTERM_F_NOTICE_SENT | TCPTERM_F_NOTICE_RCVD));
}

/*
 * close() of @sk (socket locked, before its FIN is queued): on an agreed
 * connection that is still established and got no notice itself, the
 * notice goes out from the FIN on.  True: it does, and the connection
 * ends as DRAIN ends it.
 */
bool tcpterm_notice_close(struct sock *sk, struct tcpterm_sock *ts)
{
	if (!tcpterm_notice_closing(sk, ts))
		return false;
	WRITE_ONCE(ts->notice_seq, tcp_sk(sk)->copied_seq);
	tcpterm_notice_flag(ts, TCPTERM_F_NOTICE_SENT);
	tcpterm_notice_ask(sk, ts, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG,
			   TCPTERM_NOTICE_OWN_WRITE);
	return true;
}

static u32 tcpterm_notice_flags(struct sock *sk)
{
	struct tcpterm_sock *ts;
	u32 flags = 0;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts)
		flags = READ_ONCE(ts->flags);
	rcu_read_unlock();
	return flags;
}

/* A write on @sk: fails before queuing anything once a notice arrived. */
int tcpterm_notice_send_error(struct sock *sk)
{
	return tcpterm_notice_flags(sk) & TCPTERM_F_NOTICE_RCVD ?
	       -TCPTERM_NOTICE_ERRNO : 0;
}

/*
 * A read of @sk at the end of the stream: fails if bytes went unread,
 * counted now (a write that was blocked when the notice came, or a
 * sendfile(), may have sent more since).
 */
int tcpterm_notice_eof_error(struct sock *sk)
{
	struct tcpterm_sock *ts;
	int err = 0;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts && READ_ONCE(ts->flags) & TCPTERM_F_NOTICE_RCVD) {
		if (!(READ_ONCE(ts->flags) & TCPTERM_F_NOTICE_UNREAD) &&
		    tcpterm_notice_unread(sk, READ_ONCE(ts->notice_seq)))
			tcpterm_notice_flag(ts, TCPTERM_F_NOTICE_UNREAD);
		if (READ_ONCE(ts->flags) & TCPTERM_F_NOTICE_UNREAD)
			err = -TCPTERM_NOTICE_ERRNO;
	}
	rcu_read_unlock();
	return err;
}

/*
 * Unload: the sock_ops calls tcpterm asked for on @sk stop.  The flags
 * are also written in softirq (tcpterm, sock_ops programs): under the
 * socket's spinlock.  A listener keeps save_syn (a bitfield its owner
 * writes under the socket lock): its children keep their SYN.
 */
void tcpterm_notice_release(struct sock *sk, struct tcpterm_sock *ts)
{
	u8 own = READ_ONCE(ts->notice_own), clear = 0;

	if (own & TCPTERM_NOTICE_OWN_WRITE)
		clear |= BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
	if (own & TCPTERM_NOTICE_OWN_PARSE)
		clear |= BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG;
	if (!clear)
		return;
	local_bh_disable();
	bh_lock_sock(sk);
	tcp_sk(sk)->bpf_sock_ops_cb_flags &= ~clear;
	bh_unlock_sock(sk);
	local_bh_enable();
}
