// SPDX-License-Identifier: GPL-2.0
/*
 * The SOL_TCPTERM socket options: the int options of options.h, set and
 * read per socket, and TCPTERM_INFO, what happened to the connection.
 * The first option a socket sets gives it an entry and tcpterm's ops,
 * its other settings taken from the namespace's defaults; a listener's
 * children get both when they are queued (hooks.c).  A new connection
 * of a socket that set none gets what its namespace gives it (ns.c),
 * the same way.
 */
#include <linux/rwsem.h>
#include <linux/uaccess.h>
#include <net/mptcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/tcpterm.h>

#include "drain.h"
#include "gate.h"
#include "notice.h"
#include "ns.h"
#include "prot.h"
#include "sock.h"
#include "sockopt.h"
#include "tcphelp.h"

/* Accepted values of the int options, by option name. */
static const struct {
	int min;
	int max;
} tcpterm_int_range[] = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users)			\
	[opt] = { lo, hi },
#include "options.h"
#undef TCPTERM_OPTION
};

static bool tcpterm_is_int_opt(int optname)
{
	return optname >= 0 && optname < ARRAY_SIZE(tcpterm_int_range) &&
	       tcpterm_int_range[optname].max;
}

static int tcpterm_set_int(struct sock *sk, int optname, int val)
{
	struct tcpterm_params init;
	struct tcpterm_sock *ts;

	lock_sock(sk);
	if (!tcpterm_prot_can_attach(sk)) {
		release_sock(sk);
		return -EOPNOTSUPP;
	}
	tcpterm_ns_defaults(sock_net(sk), &init);
	ts = tcpterm_sock_get(sk, GFP_KERNEL, &init);
	if (!IS_ERR(ts)) {
		tcpterm_param_set(&ts->p, optname, val);
		tcpterm_prot_attach(sk, tcpterm_sock_io(ts));
		tcpterm_notice_start(sk, ts);
		if (optname == TCPTERM_GRACE_MS)
			tcpterm_grace_changed(sk, ts);
	}
	release_sock(sk);
	return PTR_ERR_OR_ZERO(ts);
}

/* Readers: setsockopt() calls that may attach; the writer: unload. */
static DECLARE_RWSEM(tcpterm_sockopt_sem);
static bool tcpterm_sockopt_going;	/* under tcpterm_sockopt_sem */

int tcpterm_setsockopt(struct sock *sk, int optname, sockptr_t optval,
		       unsigned int optlen)
{
	int val, err;

	/* MPTCP refuses unknown levels itself; never track a subflow. */
	if (sk_is_mptcp(sk))
		return -EOPNOTSUPP;

	if (!tcpterm_is_int_opt(optname))
		return -ENOPROTOOPT;
	if (optlen != sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	/* A bad value is EINVAL, before anything that could fail otherwise. */
	if (val < tcpterm_int_range[optname].min ||
	    val > tcpterm_int_range[optname].max)
		return -EINVAL;
	/*
	 * The socket's entry will hold the gate; until it exists, this
	 * call does (the first one on an idle host attaches the hooks).
	 * Unload waits for calls inside, and refuses later ones.
	 */
	down_read(&tcpterm_sockopt_sem);
	err = tcpterm_sockopt_going ? -ENODEV : tcpterm_gate_get();
	if (!err) {
		if (optname == TCPTERM_NOTICE && val)
			err = tcpterm_notice_enable();
		if (!err)
			err = tcpterm_set_int(sk, optname, val);
		tcpterm_gate_put();
	}
	up_read(&tcpterm_sockopt_sem);
	return err;
}

/*
 * Unload: after this no setsockopt() gives a socket tcpterm's ops, so
 * that the walk giving every socket its stock ops back misses none.
 * Calls were redirected here before the hook went; they end first.
 */
void tcpterm_sockopt_stop(void)
{
	down_write(&tcpterm_sockopt_sem);
	tcpterm_sockopt_going = true;
	up_write(&tcpterm_sockopt_sem);
}

static u8 tcpterm_peer_end(const struct sock *sk, bool peer_rst,
			   bool peer_fin)
{
	if (peer_rst)
		return TCPTERM_PEER_RST;
	if (peer_fin || tcpterm_peer_fin(sk))
		return TCPTERM_PEER_FIN;
	return TCPTERM_PEER_OPEN;
}

static void tcpterm_fill_info(struct sock *sk, struct tcpterm_info *info)
{
	struct tcpterm_sock *ts;
	bool peer_rst = false, peer_fin = false;

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
		peer_fin = READ_ONCE(ts->peer_fin);
		spin_unlock_bh(&ts->lock);
	}
	rcu_read_unlock();
	info->tti_peer_end = tcpterm_peer_end(sk, peer_rst, peer_fin);
}

/* An untracked socket reports what it would start with: the defaults. */
static int tcpterm_get_int(struct sock *sk, int optname)
{
	struct tcpterm_params defaults;
	struct tcpterm_sock *ts;
	int val;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts) {
		val = tcpterm_param_get(&ts->p, optname);
	} else {
		tcpterm_ns_defaults(sock_net(sk), &defaults);
		val = tcpterm_param_get(&defaults, optname);
	}
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

/*
 * A new connection of @sk, which set no option: connect() (socket locked
 * by its owner) or a child about to be queued for accept() (softirq).
 * If its namespace's rules or defaults give it other settings than the
 * built-in ones, it gets an entry and tcpterm's ops, as a first
 * setsockopt() would give it.  Kernel sockets and sockets in repair mode
 * are left alone.  Never sleeps.
 */
void tcpterm_sockopt_new_conn(struct sock *sk)
{
	struct tcpterm_params p;
	struct tcpterm_sock *ts;

	if (sk->sk_kern_sock || tcp_sk(sk)->repair || sk_is_mptcp(sk) ||
	    tcpterm_prot_owns(sk) || !tcpterm_prot_can_attach(sk) ||
	    !tcpterm_ns_params(sk, &p))
		return;
	ts = tcpterm_sock_get(sk, GFP_ATOMIC, &p);
	if (IS_ERR(ts)) {
		if (PTR_ERR(ts) == -ENOMEM)
			net_warn_ratelimited("no memory, new connection keeps the default policy\n");
		return;
	}
	tcpterm_prot_attach(sk, tcpterm_sock_io(ts));
	tcpterm_notice_start(sk, ts);
}
