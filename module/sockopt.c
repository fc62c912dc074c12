// SPDX-License-Identifier: GPL-2.0
/*
 * The SOL_TCPTERM socket options: the int options of options.h, set and
 * read per socket, and TCPTERM_INFO, what happened to the connection.
 * The first option a socket sets gives it an entry and tcpterm's ops;
 * a listener's children get both when they are queued (hooks.c).
 */
#include <linux/uaccess.h>
#include <net/mptcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/tcpterm.h>

#include "drain.h"
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
		tcpterm_param_set(&ts->p, optname, val);
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
	val = tcpterm_param_get(ts ? &ts->p : &tcpterm_default_params,
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
