// SPDX-License-Identifier: GPL-2.0
/*
 * What tcpterm tells operators: per network namespace counters, shown in
 * /proc/net/tcpterm and by TCPTERM_CMD_GET_STATS, and generic netlink
 * multicast events (crossing, late data, policy RST, forced end),
 * delivered in the namespace of the socket concerned, to listeners with
 * CAP_NET_ADMIN there: events carry every connection's addresses.
 *
 * Events can be caused by a remote peer, so they are bounded: callers
 * send at most one of each kind per tracked socket, and the events of
 * each namespace are held to tcpterm_events_burst per
 * tcpterm_events_interval_ms (so one namespace cannot starve another);
 * what goes over is counted in EventsDropped, never queued.
 */
#include <linux/genetlink.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/ratelimit.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sock_diag.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "netlink.h"

struct tcpterm_stats {
	u64 val[__TCPTERM_STAT_MAX];
};

struct tcpterm_net {
	struct tcpterm_stats __percpu *stats;
	struct ratelimit_state events_rs;
	atomic_t nsocks;	/* tracked sockets, for the bound */
};

static unsigned int tcpterm_net_id __read_mostly;

/* The bound on the events of a namespace: a burst per interval. */
static const unsigned int tcpterm_events_interval_ms = 1000;
static const unsigned int tcpterm_events_burst = 1000;

static const char * const tcpterm_stat_names[__TCPTERM_STAT_MAX] = {
	[TCPTERM_STAT_POLICY_RSTS]	= "PolicyRsts",
	[TCPTERM_STAT_BYTES_DISCARDED]	= "BytesDiscarded",
	[TCPTERM_STAT_CROSSINGS]	= "Crossings",
	[TCPTERM_STAT_LATE_DATA]	= "LateData",
	[TCPTERM_STAT_CROSSING_ERRORS]	= "CrossingErrors",
	[TCPTERM_STAT_TRACKED_SOCKETS]	= "TrackedSockets",
	[TCPTERM_STAT_DRAINS]		= "Drains",
	[TCPTERM_STAT_DRAINS_FORCED]	= "DrainsForced",
	[TCPTERM_STAT_GRACE_FORCED]	= "GraceForced",
	[TCPTERM_STAT_DEADLINES]	= "Deadlines",
	[TCPTERM_STAT_EVENTS_DROPPED]	= "EventsDropped",
	[TCPTERM_STAT_SOCKETS_REFUSED]	= "SocketsRefused",
};

static struct tcpterm_net *tcpterm_pernet(const struct net *net)
{
	return net_generic(net, tcpterm_net_id);
}

void tcpterm_stat_add(const struct net *net, enum tcpterm_stat stat, u64 n)
{
	this_cpu_add(tcpterm_pernet(net)->stats->val[stat], n);
}

/* Count one more tracked socket in @net, unless @max are tracked. */
bool tcpterm_net_charge(const struct net *net, unsigned int max)
{
	atomic_t *nsocks = &tcpterm_pernet(net)->nsocks;
	int n = atomic_read(nsocks);

	do {
		if (n < 0 || (unsigned int)n >= max)
			return false;
	} while (!atomic_try_cmpxchg(nsocks, &n, n + 1));
	return true;
}

void tcpterm_net_uncharge(const struct net *net)
{
	atomic_dec(&tcpterm_pernet(net)->nsocks);
}

static void tcpterm_stats_sum(const struct net *net, u64 *sum)
{
	struct tcpterm_net *tn = tcpterm_pernet(net);
	int cpu, i;

	memset(sum, 0, sizeof(u64) * __TCPTERM_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct tcpterm_stats *s = per_cpu_ptr(tn->stats, cpu);

		for (i = 1; i < __TCPTERM_STAT_MAX; i++)
			sum[i] += READ_ONCE(s->val[i]);
	}
}

static int tcpterm_proc_show(struct seq_file *seq, void *v)
{
	u64 sum[__TCPTERM_STAT_MAX];
	int i;

	tcpterm_stats_sum(seq_file_single_net(seq), sum);
	for (i = 1; i < __TCPTERM_STAT_MAX; i++)
		seq_printf(seq, "%s %llu\n", tcpterm_stat_names[i], sum[i]);
	return 0;
}

static int __net_init tcpterm_net_init(struct net *net)
{
	struct tcpterm_net *tn = tcpterm_pernet(net);

	tn->stats = alloc_percpu(struct tcpterm_stats);
	if (!tn->stats)
		return -ENOMEM;
	ratelimit_state_init(&tn->events_rs,
			     msecs_to_jiffies(tcpterm_events_interval_ms),
			     tcpterm_events_burst);
	/* Drops are counted in EventsDropped, not printed. */
	ratelimit_set_flags(&tn->events_rs, RATELIMIT_MSG_ON_RELEASE);
	if (!proc_create_net_single("tcpterm", 0444, net->proc_net,
				    tcpterm_proc_show, NULL)) {
		free_percpu(tn->stats);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit tcpterm_net_exit(struct net *net)
{
	remove_proc_entry("tcpterm", net->proc_net);
	free_percpu(tcpterm_pernet(net)->stats);
}

static struct pernet_operations tcpterm_net_ops = {
	.init	= tcpterm_net_init,
	.exit	= tcpterm_net_exit,
	.id	= &tcpterm_net_id,
	.size	= sizeof(struct tcpterm_net),
};

/*
 * What a request may carry.  tcpterm is a new family, so resv_start_op
 * stays 0 and the core validates every command strictly: reserved
 * header bits, unknown attribute types and trailing bytes are refused.
 * Each command has its own policy, and every attribute it does not take
 * is refused with a message saying why (the event attributes are only
 * ever sent by the kernel).
 */
static const struct nla_policy tcpterm_get_stats_policy[TCPTERM_A_MAX + 1] = {
	[1 ... TCPTERM_A_MAX] = {
		.type = NLA_REJECT,
		.reject_message = "GET_STATS takes no attributes",
	},
};

/* The settings a rule may carry: the ranges of the socket options. */
static struct netlink_range_validation tcpterm_opt_range[] = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users)			\
	[opt] = { .min = lo, .max = hi },
#include "options.h"
#undef TCPTERM_OPTION
};

const struct nla_policy tcpterm_nl_rule_policy[TCPTERM_RULE_A_MAX + 1] = {
	[TCPTERM_RULE_A_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[TCPTERM_RULE_A_FAMILY]		= { .type = NLA_U8 },
	[TCPTERM_RULE_A_PORT_MIN]	= { .type = NLA_BE16 },
	[TCPTERM_RULE_A_PORT_MAX]	= { .type = NLA_BE16 },
	[TCPTERM_RULE_A_CGROUP]		= NLA_POLICY_MIN(NLA_U64, 1),
	[TCPTERM_RULE_A_POLICY] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &tcpterm_opt_range[TCPTERM_POLICY]),
	[TCPTERM_RULE_A_CROSSING_ERROR] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &tcpterm_opt_range[TCPTERM_CROSSING_ERROR]),
	[TCPTERM_RULE_A_DRAIN_TIME_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &tcpterm_opt_range[TCPTERM_DRAIN_TIME_MS]),
	[TCPTERM_RULE_A_DRAIN_IDLE_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &tcpterm_opt_range[TCPTERM_DRAIN_IDLE_MS]),
	[TCPTERM_RULE_A_GRACE_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &tcpterm_opt_range[TCPTERM_GRACE_MS]),
	[TCPTERM_RULE_A_PAD] = {
		.type = NLA_REJECT,
		.reject_message = "padding is not a rule attribute",
	},
	[TCPTERM_RULE_A_NOTICE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &tcpterm_opt_range[TCPTERM_NOTICE]),
};

/* RULE_ADD and RULE_DEL: one TCPTERM_A_RULE nest, nothing else. */
#define TCPTERM_RULE_ONLY {						\
	.type = NLA_REJECT,						\
	.reject_message = "rule commands take only TCPTERM_A_RULE",	\
}

static const struct nla_policy tcpterm_rule_cmd_policy[TCPTERM_A_MAX + 1] = {
	[1 ... TCPTERM_A_RULE - 1]		= TCPTERM_RULE_ONLY,
	[TCPTERM_A_RULE] = NLA_POLICY_NESTED(tcpterm_nl_rule_policy),
	[TCPTERM_A_RULE + 1 ... TCPTERM_A_MAX]	= TCPTERM_RULE_ONLY,
};

static const struct nla_policy tcpterm_no_attr_policy[TCPTERM_A_MAX + 1] = {
	[1 ... TCPTERM_A_MAX] = {
		.type = NLA_REJECT,
		.reject_message = "this command takes no attributes",
	},
};

static const struct genl_multicast_group tcpterm_mcgrps[] = {
	{
		.name	= TCPTERM_GENL_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

/*
 * Rules and the socket dump are served by a layer above (ns.c), which
 * hands its functions over at init.  Commands of this family run one at
 * a time under the genetlink lock (no parallel_ops), dumps included: the
 * pointer is set and cleared under it too.
 */
static const struct tcpterm_nl_handlers *tcpterm_nl_cb;

void tcpterm_netlink_handlers(const struct tcpterm_nl_handlers *h)
{
	genl_lock();
	tcpterm_nl_cb = h;
	genl_unlock();
}

static int tcpterm_nl_rule_add(struct sk_buff *skb, struct genl_info *info)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->rule_add(skb, info) : -ENOENT;
}

static int tcpterm_nl_rule_del(struct sk_buff *skb, struct genl_info *info)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->rule_del(skb, info) : -ENOENT;
}

static int tcpterm_nl_rule_flush(struct sk_buff *skb, struct genl_info *info)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->rule_flush(skb, info) : -ENOENT;
}

static int tcpterm_nl_rule_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->rule_dump(skb, cb) : 0;
}

static int tcpterm_nl_sock_dump_start(struct netlink_callback *cb)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->sock_dump_start(cb) : -ENOENT;
}

static int tcpterm_nl_sock_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->sock_dump(skb, cb) : 0;
}

/* A dump holds a module reference: the handlers outlive it. */
static int tcpterm_nl_sock_dump_done(struct netlink_callback *cb)
{
	return tcpterm_nl_cb ? tcpterm_nl_cb->sock_dump_done(cb) : 0;
}

static int tcpterm_nl_get_stats(struct sk_buff *skb, struct genl_info *info);

/*
 * Everything that changes or shows a namespace's configuration or its
 * connections needs CAP_NET_ADMIN in the user namespace owning it.
 */
static const struct genl_ops tcpterm_nl_ops[] = {
	{
		.cmd	= TCPTERM_CMD_GET_STATS,
		.doit	= tcpterm_nl_get_stats,
		.policy	= tcpterm_get_stats_policy,
		.maxattr = TCPTERM_A_MAX,
	},
	{
		.cmd	= TCPTERM_CMD_RULE_ADD,
		.doit	= tcpterm_nl_rule_add,
		.policy	= tcpterm_rule_cmd_policy,
		.maxattr = TCPTERM_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TCPTERM_CMD_RULE_DEL,
		.doit	= tcpterm_nl_rule_del,
		.policy	= tcpterm_rule_cmd_policy,
		.maxattr = TCPTERM_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TCPTERM_CMD_RULE_GET,
		.dumpit	= tcpterm_nl_rule_dump,
		.policy	= tcpterm_no_attr_policy,
		.maxattr = TCPTERM_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TCPTERM_CMD_RULE_FLUSH,
		.doit	= tcpterm_nl_rule_flush,
		.policy	= tcpterm_no_attr_policy,
		.maxattr = TCPTERM_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TCPTERM_CMD_SOCK_GET,
		.start	= tcpterm_nl_sock_dump_start,
		.dumpit	= tcpterm_nl_sock_dump,
		.done	= tcpterm_nl_sock_dump_done,
		.policy	= tcpterm_no_attr_policy,
		.maxattr = TCPTERM_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family tcpterm_family __ro_after_init = {
	.name		= TCPTERM_GENL_NAME,
	.version	= TCPTERM_GENL_VERSION,
	.maxattr	= TCPTERM_A_MAX,
	.netnsok	= true,
	.resv_start_op	= 0,	/* strict validation of every command */
	.module		= THIS_MODULE,
	.ops		= tcpterm_nl_ops,
	.n_ops		= ARRAY_SIZE(tcpterm_nl_ops),
	.mcgrps		= tcpterm_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(tcpterm_mcgrps),
};

/* The header of a message of this family (dumps and replies above). */
void *tcpterm_nl_put(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		     u8 cmd)
{
	return genlmsg_put(skb, portid, seq, &tcpterm_family, flags, cmd);
}

static int tcpterm_nl_put_stats(struct sk_buff *skb, const struct net *net)
{
	u64 sum[__TCPTERM_STAT_MAX];
	struct nlattr *nest;
	int i;

	tcpterm_stats_sum(net, sum);
	nest = nla_nest_start(skb, TCPTERM_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 1; i < __TCPTERM_STAT_MAX; i++) {
		if (nla_put_u64_64bit(skb, i, sum[i], TCPTERM_STAT_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int tcpterm_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tcpterm_family, 0,
				TCPTERM_CMD_GET_STATS);
	if (!hdr || tcpterm_nl_put_stats(msg, genl_info_net(info))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/*
 * An IPv6 socket with an IPv6 peer, and its addresses; a v4-mapped one
 * is shown as AF_INET.
 */
static bool tcpterm_sk_v6(const struct sock *sk, const struct in6_addr **saddr,
			  const struct in6_addr **daddr)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		*saddr = &sk->sk_v6_rcv_saddr;
		*daddr = &sk->sk_v6_daddr;
		return true;
	}
#endif
	return false;
}

/* The version 1 event attributes (host order ports, untyped addresses). */
static int tcpterm_nl_put_addrs(struct sk_buff *skb, const struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	const struct in6_addr *sa6, *da6;
	u8 family = AF_INET;

	if (tcpterm_sk_v6(sk, &sa6, &da6)) {
		family = AF_INET6;
		if (nla_put_in6_addr(skb, TCPTERM_A_SADDR, sa6) ||
		    nla_put_in6_addr(skb, TCPTERM_A_DADDR, da6))
			return -EMSGSIZE;
	} else if (nla_put_in_addr(skb, TCPTERM_A_SADDR,
				   inet->inet_rcv_saddr) ||
		   nla_put_in_addr(skb, TCPTERM_A_DADDR, inet->inet_daddr)) {
		return -EMSGSIZE;
	}
	if (nla_put_u8(skb, TCPTERM_A_FAMILY, family) ||
	    nla_put_u16(skb, TCPTERM_A_SPORT, ntohs(inet->inet_sport)) ||
	    nla_put_u16(skb, TCPTERM_A_DPORT, ntohs(inet->inet_dport)))
		return -EMSGSIZE;
	return 0;
}

/*
 * Who a socket is, inside a TCPTERM_A_SOCK nest the caller opened: its
 * cookie, family, addresses and ports (network order, as inet_diag has
 * them) and state.  A v4-mapped IPv6 socket is shown as AF_INET.
 */
int tcpterm_nl_put_sock_id(struct sk_buff *skb, const struct sock *sk,
			   u64 cookie)
{
	const struct inet_sock *inet = inet_sk(sk);
	const struct in6_addr *sa6, *da6;

	if (nla_put_u64_64bit(skb, TCPTERM_SOCK_A_COOKIE, cookie,
			      TCPTERM_SOCK_A_PAD))
		return -EMSGSIZE;
	if (tcpterm_sk_v6(sk, &sa6, &da6)) {
		if (nla_put_u8(skb, TCPTERM_SOCK_A_FAMILY, AF_INET6) ||
		    nla_put_in6_addr(skb, TCPTERM_SOCK_A_SADDR6, sa6) ||
		    nla_put_in6_addr(skb, TCPTERM_SOCK_A_DADDR6, da6))
			return -EMSGSIZE;
	} else if (nla_put_u8(skb, TCPTERM_SOCK_A_FAMILY, AF_INET) ||
		   nla_put_in_addr(skb, TCPTERM_SOCK_A_SADDR4,
				   inet->inet_rcv_saddr) ||
		   nla_put_in_addr(skb, TCPTERM_SOCK_A_DADDR4,
				   inet->inet_daddr)) {
		return -EMSGSIZE;
	}
	if (nla_put_be16(skb, TCPTERM_SOCK_A_SPORT, inet->inet_sport) ||
	    nla_put_be16(skb, TCPTERM_SOCK_A_DPORT, inet->inet_dport) ||
	    nla_put_u8(skb, TCPTERM_SOCK_A_STATE, READ_ONCE(sk->sk_state)))
		return -EMSGSIZE;
	return 0;
}

/* The payload of an event: what tcpterm_event() puts, at most. */
static size_t tcpterm_event_size(void)
{
	size_t id = nla_total_size_64bit(sizeof(u64)) +	/* COOKIE */
		    nla_total_size(sizeof(u8)) +	/* FAMILY */
		    2 * nla_total_size(sizeof(struct in6_addr)) +
		    2 * nla_total_size(sizeof(u16)) +	/* SPORT, DPORT */
		    nla_total_size(sizeof(u8));		/* STATE */

	return nla_total_size(sizeof(u8)) +		/* KIND */
	       nla_total_size(sizeof(u32)) +		/* NETNS_INO */
	       nla_total_size(sizeof(u8)) +		/* REASON */
	       nla_total_size(sizeof(u8)) +		/* FAMILY */
	       2 * nla_total_size(sizeof(struct in6_addr)) + /* SADDR, DADDR */
	       2 * nla_total_size(sizeof(u16)) +	/* SPORT, DPORT */
	       nla_total_size(id);			/* SOCK */
}

static int tcpterm_event_put_sock(struct sk_buff *skb, struct sock *sk)
{
	struct nlattr *nest;
	u32 cookie[2];

	/* Gives @sk a cookie if it had none, as ss does. */
	sock_diag_save_cookie(sk, cookie);
	nest = nla_nest_start(skb, TCPTERM_A_SOCK);
	if (!nest ||
	    tcpterm_nl_put_sock_id(skb, sk, atomic64_read(&sk->sk_cookie)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Any context, the socket locked or not: never sleeps. */
void tcpterm_event(struct sock *sk, enum tcpterm_event_kind kind,
		   enum tcpterm_rst_reason reason)
{
	struct net *net = sock_net(sk);
	struct sk_buff *skb;
	void *hdr;

	/* A namespace being torn down has no genetlink socket any more. */
	if (!check_net(net) || !genl_has_listeners(&tcpterm_family, net, 0))
		return;
	if (!__ratelimit(&tcpterm_pernet(net)->events_rs)) {
		tcpterm_stat_add(net, TCPTERM_STAT_EVENTS_DROPPED, 1);
		return;
	}
	skb = genlmsg_new(tcpterm_event_size(), GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &tcpterm_family, 0, TCPTERM_CMD_EVENT);
	if (!hdr ||
	    nla_put_u8(skb, TCPTERM_A_KIND, kind) ||
	    nla_put_u32(skb, TCPTERM_A_NETNS_INO, net->ns.inum) ||
	    (reason && nla_put_u8(skb, TCPTERM_A_REASON, reason)) ||
	    tcpterm_nl_put_addrs(skb, sk) ||
	    tcpterm_event_put_sock(skb, sk)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&tcpterm_family, net, skb, 0, 0, GFP_ATOMIC);
}

int tcpterm_netlink_init(void)
{
	int err;

	err = register_pernet_subsys(&tcpterm_net_ops);
	if (err)
		return err;
	err = genl_register_family(&tcpterm_family);
	if (err)
		unregister_pernet_subsys(&tcpterm_net_ops);
	return err;
}

/* The first lookup of the family (tcpterm(8) does one) loads the module. */
MODULE_ALIAS_GENL_FAMILY(TCPTERM_GENL_NAME);

void tcpterm_netlink_exit(void)
{
	genl_unregister_family(&tcpterm_family);
	unregister_pernet_subsys(&tcpterm_net_ops);
}
