// SPDX-License-Identifier: GPL-2.0
/*
 * What a namespace gives the connections of programs that never ask:
 * defaults (the net.tcpterm.* sysctls, one per row of options.h) and
 * rules (generic netlink), and the dump of the sockets tcpterm tracks.
 *
 * A new connection (connect(), or a child queued for accept()) of a
 * socket that set no SOL_TCPTERM option takes the settings of the first
 * rule that matches it, over the namespace's defaults; it is tracked only
 * if the result differs from the built-in defaults.  A socket that set an
 * option is left to its options (what it did not set comes from the
 * namespace's defaults, see sockopt.c).  Nothing is looked at per
 * segment: the layer above asks once per connection, and only while
 * tcpterm_ns_key says some namespace has something to give.
 *
 * Settings are written under the namespace's mutex and read under RCU
 * from any context; rules are freed after a grace period.  They live as
 * long as the namespace or the module, whichever goes first.
 */
#include <linux/cgroup.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <linux/tcpterm.h>

#include "gate.h"
#include "netlink.h"
#include "ns.h"
#include "sock.h"

DEFINE_STATIC_KEY_DEFERRED_FALSE(tcpterm_ns_key, HZ);

struct tcpterm_rule {
	struct list_head	node;		/* tcpterm_ns.rules, RCU */
	struct rcu_head		rcu;
	u32			id;
	u8			family;		/* 0: any */
	u16			port_min;	/* host order; 0: any */
	u16			port_max;
	u64			cgroup;		/* cgroup v2 id; 0: any */
	int			cgroup_level;	/* its depth */
	u32			set;		/* BIT(optname) it sets */
	struct tcpterm_params	p;
};

struct tcpterm_ns {
	struct tcpterm_params	defaults;	/* the sysctls; READ_ONCE */
	struct ctl_table_header	*sysctl;
	struct ctl_table	*table;
	struct mutex		lock;		/* writers of all of these */
	struct list_head	rules;		/* in match order */
	unsigned int		nrules;
	u32			last_id;
	bool			active;		/* READ_ONCE; counted in the key */
	u32			watch_all;	/* READ_ONCE; sysctl, 0 or 1 */
};

static unsigned int tcpterm_ns_id __read_mostly;

static struct tcpterm_ns *tcpterm_ns(const struct net *net)
{
	return net_generic(net, tcpterm_ns_id);
}

/* Anything to give new connections?  Called with tn->lock held. */
static void tcpterm_ns_update(struct tcpterm_ns *tn)
{
	bool active = tn->nrules ||
		      memcmp(&tn->defaults, &tcpterm_default_params,
			     sizeof(tn->defaults));

	if (active == tn->active)
		return;
	/* The writer holds the gate: the hooks are attached. */
	if (active && WARN_ON_ONCE(!tcpterm_gate_tryget()))
		return;
	WRITE_ONCE(tn->active, active);
	if (active) {
		static_branch_deferred_inc(&tcpterm_ns_key);
	} else {
		static_branch_slow_dec_deferred(&tcpterm_ns_key);
		tcpterm_gate_put();
	}
}

/* watch_all on or off.  Called with tn->lock held, by a gate user. */
static void tcpterm_ns_watch_set(struct tcpterm_ns *tn, u32 on)
{
	if (on == tn->watch_all)
		return;
	if (on && WARN_ON_ONCE(!tcpterm_gate_tryget()))
		return;
	WRITE_ONCE(tn->watch_all, on);
	if (!on)
		tcpterm_gate_put();
}

/* Are crossings of every socket of @net counted?  Any context. */
bool tcpterm_ns_watch_all(const struct net *net)
{
	return READ_ONCE(tcpterm_ns(net)->watch_all);
}

/*
 * Notices need more than the gate (notice.c, a layer up): asked for
 * where a write gives them, in process context with the gate held.
 */
static int (*tcpterm_ns_notice_enable)(void);

void tcpterm_ns_notice_wiring(int (*enable)(void))
{
	tcpterm_ns_notice_enable = enable;
}

static int tcpterm_ns_notice(const struct tcpterm_params *p, u32 set)
{
	if (!(set & BIT(TCPTERM_NOTICE)) || !p->notice)
		return 0;
	return tcpterm_ns_notice_enable();
}

/* The int options (options.h), by name. */
static const u8 tcpterm_ns_opts[] = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users) opt,
#include "options.h"
#undef TCPTERM_OPTION
};

/* The rule attribute of each option. */
static const u8 tcpterm_rule_attr_of[] = {
	[TCPTERM_POLICY]		= TCPTERM_RULE_A_POLICY,
	[TCPTERM_CROSSING_ERROR]	= TCPTERM_RULE_A_CROSSING_ERROR,
	[TCPTERM_DRAIN_TIME_MS]		= TCPTERM_RULE_A_DRAIN_TIME_MS,
	[TCPTERM_DRAIN_IDLE_MS]		= TCPTERM_RULE_A_DRAIN_IDLE_MS,
	[TCPTERM_GRACE_MS]		= TCPTERM_RULE_A_GRACE_MS,
	[TCPTERM_NOTICE]		= TCPTERM_RULE_A_NOTICE,
};

/* Copy the options in @mask (BIT(optname)) of @src to @dst. */
static void tcpterm_params_take(struct tcpterm_params *dst,
				const struct tcpterm_params *src, u32 mask)
{
	int i, opt;

	for (i = 0; i < ARRAY_SIZE(tcpterm_ns_opts); i++) {
		opt = tcpterm_ns_opts[i];
		if (mask & BIT(opt))
			tcpterm_param_set(dst, opt, tcpterm_param_get(src, opt));
	}
}

static void tcpterm_ns_read(const struct tcpterm_ns *tn,
			    struct tcpterm_params *p)
{
	tcpterm_params_take(p, &tn->defaults, U32_MAX);
}

/* The defaults of @net (its sysctls). */
void tcpterm_ns_defaults(const struct net *net, struct tcpterm_params *p)
{
	tcpterm_ns_read(tcpterm_ns(net), p);
}

static bool tcpterm_rule_match(const struct tcpterm_rule *r,
			       const struct sock *sk)
{
	u16 port = inet_sk(sk)->inet_num;
	struct cgroup *cg;

	if (r->family && r->family != sk->sk_family)
		return false;
	if (r->port_min && (port < r->port_min || port > r->port_max))
		return false;
	if (r->cgroup) {
		cg = sock_cgroup_ptr((struct sock_cgroup_data *)&sk->sk_cgrp_data);
		cg = cg ? cgroup_ancestor(cg, r->cgroup_level) : NULL;
		if (!cg || cgroup_id(cg) != r->cgroup)
			return false;
	}
	return true;
}

/*
 * The settings of a new connection @sk that set no option itself: the
 * first matching rule over the namespace's defaults.  True if they are
 * not the built-in defaults, that is, if @sk is to be tracked.  Any
 * context.
 */
bool tcpterm_ns_params(const struct sock *sk, struct tcpterm_params *p)
{
	struct tcpterm_ns *tn = tcpterm_ns(sock_net(sk));
	const struct tcpterm_rule *r;

	if (!READ_ONCE(tn->active))
		return false;
	tcpterm_ns_read(tn, p);
	rcu_read_lock();
	list_for_each_entry_rcu(r, &tn->rules, node) {
		if (tcpterm_rule_match(r, sk)) {
			tcpterm_params_take(p, &r->p, r->set);
			break;
		}
	}
	rcu_read_unlock();
	return memcmp(p, &tcpterm_default_params, sizeof(*p)) != 0;
}

/* Sysctls: net.tcpterm.<field>, one per option, with its range. */

struct tcpterm_sysctl_row {
	const char	*name;
	size_t		offset;
	unsigned int	min;
	unsigned int	max;
};

static const struct tcpterm_sysctl_row tcpterm_sysctl_rows[] = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users)			\
	{ #field, offsetof(struct tcpterm_params, field), lo, hi },
#include "options.h"
#undef TCPTERM_OPTION
};

#define TCPTERM_NSYSCTL	ARRAY_SIZE(tcpterm_sysctl_rows)

/*
 * The stock unsigned parser with the row's range, then the store and a
 * new look at whether the namespace has anything to give.  Who may write
 * is the net sysctl rule: CAP_NET_ADMIN in the namespace's owning user
 * namespace, or its root.
 */
static int tcpterm_sysctl_handler(TCPTERM_CTL_TABLE *table, int write,
				  void *buffer, size_t *lenp, loff_t *ppos)
{
	const struct tcpterm_sysctl_row *row = table->extra2;
	struct tcpterm_ns *tn = table->extra1;
	u32 *field = table->data;
	unsigned int min = row->min, max = row->max;
	unsigned int val = READ_ONCE(*field);
	struct ctl_table tmp = {
		.data	= &val,
		.maxlen	= sizeof(val),
		.mode	= table->mode,
		.extra1	= &min,
		.extra2	= &max,
	};
	int err;

	err = proc_douintvec_minmax(&tmp, write, buffer, lenp, ppos);
	/* Writing the value it has changes nothing, and attaches nothing. */
	if (!write || err || val == READ_ONCE(*field))
		return err;
	/* A namespace that becomes active needs the hooks attached. */
	err = tcpterm_gate_get();
	if (err)
		return err;
	if (field == &tn->defaults.notice && val) {
		err = tcpterm_ns_notice_enable();
		if (err) {
			tcpterm_gate_put();
			return err;
		}
	}
	mutex_lock(&tn->lock);
	WRITE_ONCE(*field, val);
	tcpterm_ns_update(tn);
	mutex_unlock(&tn->lock);
	tcpterm_gate_put();
	return 0;
}

/*
 * net.tcpterm.watch_all: crossings of every TCP socket of the namespace
 * are counted and reported, not only those of sockets tcpterm tracks.
 * While any namespace has it, every state change of every TCP socket on
 * the host costs a call (the tracepoint); without it, none does while
 * nothing is tracked.
 */
static int tcpterm_watch_handler(TCPTERM_CTL_TABLE *table, int write,
				 void *buffer, size_t *lenp, loff_t *ppos)
{
	struct tcpterm_ns *tn = table->extra1;
	unsigned int val = READ_ONCE(tn->watch_all);
	struct ctl_table tmp = {
		.data	= &val,
		.maxlen	= sizeof(val),
		.mode	= table->mode,
		.extra1	= SYSCTL_ZERO,
		.extra2	= SYSCTL_ONE,
	};
	int err;

	err = proc_douintvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!write || err || val == READ_ONCE(tn->watch_all))
		return err;
	err = tcpterm_gate_get();
	if (err)
		return err;
	mutex_lock(&tn->lock);
	tcpterm_ns_watch_set(tn, val);
	mutex_unlock(&tn->lock);
	tcpterm_gate_put();
	return 0;
}

static int tcpterm_sysctl_register(struct net *net, struct tcpterm_ns *tn)
{
	struct ctl_table *table;
	int i;

	/* watch_all, then one zeroed: the end mark of older kernels. */
	table = kcalloc(TCPTERM_NSYSCTL + 2, sizeof(*table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < TCPTERM_NSYSCTL; i++) {
		const struct tcpterm_sysctl_row *row = &tcpterm_sysctl_rows[i];

		table[i].procname = row->name;
		table[i].data = (u8 *)&tn->defaults + row->offset;
		table[i].maxlen = sizeof(u32);
		table[i].mode = 0644;
		table[i].proc_handler = tcpterm_sysctl_handler;
		table[i].extra1 = tn;
		table[i].extra2 = (void *)row;
	}
	table[i].procname = "watch_all";
	table[i].data = &tn->watch_all;
	table[i].maxlen = sizeof(u32);
	table[i].mode = 0644;
	table[i].proc_handler = tcpterm_watch_handler;
	table[i].extra1 = tn;
	tn->sysctl = tcpterm_register_net_sysctl(net, "net/tcpterm", table,
						 TCPTERM_NSYSCTL + 1);
	if (!tn->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	tn->table = table;
	return 0;
}

/* Rules. */

static void tcpterm_rule_unlink(struct tcpterm_ns *tn, struct tcpterm_rule *r)
{
	list_del_rcu(&r->node);
	tn->nrules--;
	kfree_rcu(r, rcu);
}

static void tcpterm_rules_flush(struct tcpterm_ns *tn)
{
	struct tcpterm_rule *r, *tmp;

	list_for_each_entry_safe(r, tmp, &tn->rules, node)
		tcpterm_rule_unlink(tn, r);
}

static int tcpterm_rule_fill(struct sk_buff *skb, const struct tcpterm_rule *r)
{
	struct nlattr *nest = nla_nest_start(skb, TCPTERM_A_RULE);
	int i, opt;

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, TCPTERM_RULE_A_ID, r->id) ||
	    (r->family && nla_put_u8(skb, TCPTERM_RULE_A_FAMILY, r->family)) ||
	    (r->port_min &&
	     (nla_put_be16(skb, TCPTERM_RULE_A_PORT_MIN, htons(r->port_min)) ||
	      nla_put_be16(skb, TCPTERM_RULE_A_PORT_MAX, htons(r->port_max)))) ||
	    (r->cgroup &&
	     nla_put_u64_64bit(skb, TCPTERM_RULE_A_CGROUP, r->cgroup,
			       TCPTERM_RULE_A_PAD)))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(tcpterm_ns_opts); i++) {
		opt = tcpterm_ns_opts[i];
		if ((r->set & BIT(opt)) &&
		    nla_put_u32(skb, tcpterm_rule_attr_of[opt],
				tcpterm_param_get(&r->p, opt)))
			goto cancel;
	}
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* The nested rule of a RULE_ADD or RULE_DEL request, parsed. */
static int tcpterm_rule_parse(struct genl_info *info, struct nlattr **tb)
{
	struct nlattr *nest = info->attrs[TCPTERM_A_RULE];

	if (!nest) {
		NL_SET_ERR_MSG(info->extack, "TCPTERM_A_RULE is required");
		return -EINVAL;
	}
	return nla_parse_nested(tb, TCPTERM_RULE_A_MAX, nest,
				tcpterm_nl_rule_policy, info->extack);
}

/* What a rule matches, from @tb; its settings are read by the caller. */
static int tcpterm_rule_match_parse(struct genl_info *info, struct nlattr **tb,
				    struct tcpterm_rule *r)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *a;
	struct cgroup *cg;

	a = tb[TCPTERM_RULE_A_FAMILY];
	if (a) {
		r->family = nla_get_u8(a);
		if (r->family != AF_INET && r->family != AF_INET6) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "family must be AF_INET or AF_INET6");
			return -EINVAL;
		}
	}
	if (tb[TCPTERM_RULE_A_PORT_MAX] && !tb[TCPTERM_RULE_A_PORT_MIN]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCPTERM_RULE_A_PORT_MAX],
				    "a port range needs its first port");
		return -EINVAL;
	}
	a = tb[TCPTERM_RULE_A_PORT_MIN];
	if (a) {
		r->port_min = ntohs(nla_get_be16(a));
		r->port_max = r->port_min;
		if (!r->port_min) {
			NL_SET_ERR_MSG_ATTR(extack, a, "port 0 matches nothing");
			return -EINVAL;
		}
	}
	a = tb[TCPTERM_RULE_A_PORT_MAX];
	if (a) {
		r->port_max = ntohs(nla_get_be16(a));
		if (r->port_max < r->port_min) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "the port range ends before it starts");
			return -EINVAL;
		}
	}
	a = tb[TCPTERM_RULE_A_CGROUP];
	if (a) {
		r->cgroup = nla_get_u64(a);
		cg = cgroup_get_from_id(r->cgroup);
		if (IS_ERR_OR_NULL(cg)) {
			NL_SET_ERR_MSG_ATTR(extack, a, "no cgroup v2 with this id");
			return -ENOENT;
		}
		r->cgroup_level = cg->level;
		cgroup_put(cg);
	}
	return 0;
}

static int tcpterm_nl_rule_add(struct sk_buff *skb, struct genl_info *info)
{
	struct tcpterm_ns *tn = tcpterm_ns(genl_info_net(info));
	struct nlattr *tb[TCPTERM_RULE_A_MAX + 1];
	struct tcpterm_rule *r;
	struct sk_buff *msg;
	struct nlattr *a;
	int err, i, opt;
	void *hdr;

	err = tcpterm_rule_parse(info, tb);
	if (err)
		return err;
	if (tb[TCPTERM_RULE_A_ID]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[TCPTERM_RULE_A_ID],
				    "the kernel gives a new rule its id");
		return -EINVAL;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	err = tcpterm_rule_match_parse(info, tb, r);
	if (err)
		goto err_free;
	r->p = tcpterm_default_params;
	for (i = 0; i < ARRAY_SIZE(tcpterm_ns_opts); i++) {
		opt = tcpterm_ns_opts[i];
		a = tb[tcpterm_rule_attr_of[opt]];
		if (a) {
			r->set |= BIT(opt);
			tcpterm_param_set(&r->p, opt, nla_get_u32(a));
		}
	}
	if (!r->set) {
		NL_SET_ERR_MSG(info->extack,
			       "a rule sets at least one option (policy, limits)");
		err = -EINVAL;
		goto err_free;
	}

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto err_free;
	}
	/* A namespace that becomes active needs the hooks attached. */
	err = tcpterm_gate_get();
	if (err) {
		NL_SET_ERR_MSG(info->extack, "cannot attach tcpterm's hooks");
		goto err_msg;
	}
	err = tcpterm_ns_notice(&r->p, r->set);
	if (err) {
		NL_SET_ERR_MSG(info->extack,
			       "no closing notices here (a kernel without cgroup BPF, or the hook failed)");
		goto err_gate;
	}
	mutex_lock(&tn->lock);
	if (tn->nrules >= TCPTERM_RULES_MAX) {
		mutex_unlock(&tn->lock);
		NL_SET_ERR_MSG(info->extack, "too many rules in this namespace");
		err = -ENOSPC;
		goto err_gate;
	}
	/* Ids only grow, in list order: a dump resumes after the last. */
	if (tn->last_id == U32_MAX) {
		mutex_unlock(&tn->lock);
		NL_SET_ERR_MSG(info->extack,
			       "the rule ids of this namespace are used up");
		err = -ENOSPC;
		goto err_gate;
	}
	r->id = ++tn->last_id;
	list_add_tail_rcu(&r->node, &tn->rules);
	tn->nrules++;
	tcpterm_ns_update(tn);
	/* The rule as stored, before anyone can delete it. */
	hdr = tcpterm_nl_put(msg, info->snd_portid, info->snd_seq, 0,
			     TCPTERM_CMD_RULE_ADD);
	err = !hdr || tcpterm_rule_fill(msg, r) ? -EMSGSIZE : 0;
	mutex_unlock(&tn->lock);
	tcpterm_gate_put();
	if (err)
		goto err_msg_only;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_msg_only:
	nlmsg_free(msg);
	return err;
err_gate:
	tcpterm_gate_put();
err_msg:
	nlmsg_free(msg);
err_free:
	kfree(r);
	return err;
}

static int tcpterm_nl_rule_del(struct sk_buff *skb, struct genl_info *info)
{
	struct tcpterm_ns *tn = tcpterm_ns(genl_info_net(info));
	struct nlattr *tb[TCPTERM_RULE_A_MAX + 1];
	struct tcpterm_rule *r;
	int err, i;
	u32 id;

	err = tcpterm_rule_parse(info, tb);
	if (err)
		return err;
	for (i = 1; i <= TCPTERM_RULE_A_MAX; i++) {
		if (tb[i] && i != TCPTERM_RULE_A_ID) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[i],
					    "a rule is deleted by its id alone");
			return -EINVAL;
		}
	}
	if (!tb[TCPTERM_RULE_A_ID]) {
		NL_SET_ERR_MSG(info->extack, "TCPTERM_RULE_A_ID is required");
		return -EINVAL;
	}
	id = nla_get_u32(tb[TCPTERM_RULE_A_ID]);

	err = -ENOENT;
	mutex_lock(&tn->lock);
	list_for_each_entry(r, &tn->rules, node) {
		if (r->id == id) {
			tcpterm_rule_unlink(tn, r);
			tcpterm_ns_update(tn);
			err = 0;
			break;
		}
	}
	mutex_unlock(&tn->lock);
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, tb[TCPTERM_RULE_A_ID],
				    "no rule with this id");
	return err;
}

static int tcpterm_nl_rule_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct tcpterm_ns *tn = tcpterm_ns(genl_info_net(info));

	mutex_lock(&tn->lock);
	tcpterm_rules_flush(tn);
	tcpterm_ns_update(tn);
	mutex_unlock(&tn->lock);
	return 0;
}

/*
 * One message per rule; cb->args[0]: the id of the last one sent.  Ids
 * grow in list order, so a part resumes right after it whatever was
 * added or deleted in between.
 */
static int tcpterm_nl_rule_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct tcpterm_ns *tn = tcpterm_ns(sock_net(skb->sk));
	const struct tcpterm_rule *r;
	void *hdr;

	mutex_lock(&tn->lock);
	list_for_each_entry(r, &tn->rules, node) {
		if (r->id <= cb->args[0])
			continue;
		hdr = tcpterm_nl_put(skb, NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI,
				     TCPTERM_CMD_RULE_GET);
		if (!hdr)
			break;
		if (tcpterm_rule_fill(skb, r)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = r->id;
	}
	mutex_unlock(&tn->lock);
	return skb->len;
}

/* The socket dump. */

struct tcpterm_dump {
	struct sk_buff		*skb;
	struct netlink_callback	*cb;
	const struct net	*net;
};

/* Milliseconds until tcpterm's deadline work runs for @ts, or -1. */
static long tcpterm_sock_deadline_ms(struct tcpterm_sock *ts)
{
	struct tcpterm_ext *ext = READ_ONCE(ts->ext);
	long left;

	if (!ext || !delayed_work_pending(&ext->dl_work))
		return -1;
	left = (long)(READ_ONCE(ext->dl_work.timer.expires) - jiffies);
	return left > 0 ? jiffies_to_msecs(left) : 0;
}

static int tcpterm_sock_fill(struct sk_buff *skb, struct netlink_callback *cb,
			     struct sock *sk, struct tcpterm_sock *ts)
{
	u32 flags, policy;
	long deadline;
	u64 discarded;
	struct nlattr *nest;
	u8 reason;
	void *hdr;

	spin_lock_bh(&ts->lock);
	flags = ts->flags | TCPTERM_F_TRACKED;
	reason = ts->rst_reason;
	discarded = ts->bytes_discarded;
	spin_unlock_bh(&ts->lock);
	policy = READ_ONCE(ts->p.policy);
	deadline = tcpterm_sock_deadline_ms(ts);

	hdr = tcpterm_nl_put(skb, NETLINK_CB(cb->skb).portid,
			     cb->nlh->nlmsg_seq, NLM_F_MULTI,
			     TCPTERM_CMD_SOCK_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, TCPTERM_A_SOCK);
	if (!nest ||
	    tcpterm_nl_put_sock_id(skb, sk, ts->cookie) ||
	    nla_put_u8(skb, TCPTERM_SOCK_A_POLICY, policy) ||
	    nla_put_u32(skb, TCPTERM_SOCK_A_FLAGS, flags) ||
	    nla_put_u8(skb, TCPTERM_SOCK_A_RST_REASON, reason) ||
	    nla_put_u64_64bit(skb, TCPTERM_SOCK_A_BYTES_DISCARDED, discarded,
			      TCPTERM_SOCK_A_PAD) ||
	    (deadline >= 0 &&
	     nla_put_u32(skb, TCPTERM_SOCK_A_DEADLINE_MS, deadline))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

static int tcpterm_sock_dump_one(struct sock *sk, struct tcpterm_sock *ts,
				 void *arg)
{
	struct tcpterm_dump *d = arg;

	if (!net_eq(sock_net(sk), d->net))
		return 0;
	return tcpterm_sock_fill(d->skb, d->cb, sk, ts);
}

/*
 * The sockets of the caller's namespace, as many as fit per message.
 * One walk of the table serves all the parts (cb->args[0]: its
 * iterator), so a dump costs one pass whatever the number of parts.  A
 * socket tracked or gone meanwhile may be missed or shown twice.
 */
static int tcpterm_nl_sock_dump_start(struct netlink_callback *cb)
{
	struct tcpterm_sock_iter *it = tcpterm_sock_iter_new();

	if (!it)
		return -ENOMEM;
	cb->args[0] = (long)it;
	return 0;
}

static int tcpterm_nl_sock_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct tcpterm_dump d = {
		.skb	= skb,
		.cb	= cb,
		.net	= sock_net(skb->sk),
	};

	tcpterm_sock_iter_run((struct tcpterm_sock_iter *)cb->args[0],
			      tcpterm_sock_dump_one, &d);
	return skb->len;
}

static int tcpterm_nl_sock_dump_done(struct netlink_callback *cb)
{
	tcpterm_sock_iter_free((struct tcpterm_sock_iter *)cb->args[0]);
	return 0;
}

static const struct tcpterm_nl_handlers tcpterm_ns_nl = {
	.rule_add	= tcpterm_nl_rule_add,
	.rule_del	= tcpterm_nl_rule_del,
	.rule_flush	= tcpterm_nl_rule_flush,
	.rule_dump	= tcpterm_nl_rule_dump,
	.sock_dump_start = tcpterm_nl_sock_dump_start,
	.sock_dump	= tcpterm_nl_sock_dump,
	.sock_dump_done	= tcpterm_nl_sock_dump_done,
};

static int __net_init tcpterm_ns_net_init(struct net *net)
{
	struct tcpterm_ns *tn = tcpterm_ns(net);

	tn->defaults = tcpterm_default_params;
	mutex_init(&tn->lock);
	INIT_LIST_HEAD(&tn->rules);
	return tcpterm_sysctl_register(net, tn);
}

static void __net_exit tcpterm_ns_net_exit(struct net *net)
{
	struct tcpterm_ns *tn = tcpterm_ns(net);

	unregister_net_sysctl_table(tn->sysctl);
	kfree(tn->table);
	mutex_lock(&tn->lock);
	tcpterm_rules_flush(tn);
	tn->defaults = tcpterm_default_params;
	tcpterm_ns_update(tn);
	tcpterm_ns_watch_set(tn, 0);
	mutex_unlock(&tn->lock);
	mutex_destroy(&tn->lock);
}

static struct pernet_operations tcpterm_ns_ops = {
	.init	= tcpterm_ns_net_init,
	.exit	= tcpterm_ns_net_exit,
	.id	= &tcpterm_ns_id,
	.size	= sizeof(struct tcpterm_ns),
};

int tcpterm_ns_init(void)
{
	int err;

	err = register_pernet_subsys(&tcpterm_ns_ops);
	if (err)
		return err;
	tcpterm_netlink_handlers(&tcpterm_ns_nl);
	return 0;
}

/* Rules and sysctls of every namespace go; the key is off after it. */
void tcpterm_ns_exit(void)
{
	tcpterm_netlink_handlers(NULL);
	unregister_pernet_subsys(&tcpterm_ns_ops);
	static_key_deferred_flush(&tcpterm_ns_key);
	WARN_ON_ONCE(static_key_enabled(&tcpterm_ns_key.key));
	/* kfree_rcu() of the rules calls no code of ours: nothing to wait. */
}
