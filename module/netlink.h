/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_NETLINK_H
#define _TCPTERM_NETLINK_H

#include <linux/types.h>
#include <net/netlink.h>
#include <linux/tcpterm.h>

struct genl_info;
struct net;
struct netlink_callback;
struct sk_buff;
struct sock;

/* The commands served above this layer (ns.c). */
struct tcpterm_nl_handlers {
	int (*rule_add)(struct sk_buff *skb, struct genl_info *info);
	int (*rule_del)(struct sk_buff *skb, struct genl_info *info);
	int (*rule_flush)(struct sk_buff *skb, struct genl_info *info);
	int (*rule_dump)(struct sk_buff *skb, struct netlink_callback *cb);
	int (*sock_dump_start)(struct netlink_callback *cb);
	int (*sock_dump)(struct sk_buff *skb, struct netlink_callback *cb);
	int (*sock_dump_done)(struct netlink_callback *cb);
};

void tcpterm_netlink_handlers(const struct tcpterm_nl_handlers *h);
extern const struct nla_policy tcpterm_nl_rule_policy[];
void *tcpterm_nl_put(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		     u8 cmd);

void tcpterm_stat_add(const struct net *net, enum tcpterm_stat stat, u64 n);
bool tcpterm_net_charge(const struct net *net, unsigned int max);
void tcpterm_net_uncharge(const struct net *net);
int tcpterm_nl_put_sock_id(struct sk_buff *skb, const struct sock *sk,
			   u64 cookie);
void tcpterm_event(struct sock *sk, enum tcpterm_event_kind kind,
		   enum tcpterm_rst_reason reason);

int tcpterm_netlink_init(void);
void tcpterm_netlink_exit(void);

#endif /* _TCPTERM_NETLINK_H */
