/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_NS_H
#define _TCPTERM_NS_H

#include <linux/jump_label.h>
#include <linux/types.h>

struct net;
struct sock;
struct tcpterm_params;

/*
 * On while some namespace has a sysctl other than the built-in default,
 * or a rule: until then a new connection costs a patched-out branch.
 */
DECLARE_STATIC_KEY_FALSE(tcpterm_ns_key);

static inline bool tcpterm_ns_any(void)
{
	return static_branch_unlikely(&tcpterm_ns_key);
}

void tcpterm_ns_defaults(const struct net *net, struct tcpterm_params *p);
bool tcpterm_ns_params(const struct sock *sk, struct tcpterm_params *p);

int tcpterm_ns_init(void);
void tcpterm_ns_exit(void);

#endif /* _TCPTERM_NS_H */
