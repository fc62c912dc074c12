/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_NETLINK_H
#define _TCPTERM_NETLINK_H

#include <linux/types.h>
#include <linux/tcpterm.h>

struct net;
struct sock;

void tcpterm_stat_add(const struct net *net, enum tcpterm_stat stat, u64 n);
bool tcpterm_net_charge(const struct net *net, unsigned int max);
void tcpterm_net_uncharge(const struct net *net);
void tcpterm_event(const struct sock *sk, enum tcpterm_event_kind kind,
		   enum tcpterm_rst_reason reason);

int tcpterm_netlink_init(void);
void tcpterm_netlink_exit(void);

#endif /* _TCPTERM_NETLINK_H */
