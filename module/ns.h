/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_NS_H
#define _TCPTERM_NS_H

#include <linux/jump_label_ratelimit.h>
#include <linux/types.h>

struct net;
struct sock;
struct tcpterm_params;

/*
 * On while some namespace has a sysctl other than the built-in default,
 * or a rule: until then a new connection costs a patched-out branch.
 * Turning it off waits a second (the key is deferred by HZ): a namespace
 * adding and removing its only rule in a loop patches no kernel text.
 */
extern struct static_key_false_deferred tcpterm_ns_key;

static inline bool tcpterm_ns_any(void)
{
	return static_branch_unlikely(&tcpterm_ns_key.key);
}

void tcpterm_ns_defaults(const struct net *net, struct tcpterm_params *p);
bool tcpterm_ns_params(const struct sock *sk, struct tcpterm_params *p);
bool tcpterm_ns_watch_all(const struct net *net);

void tcpterm_ns_notice_wiring(int (*enable)(void));
int tcpterm_ns_init(void);
void tcpterm_ns_exit(void);

#endif /* _TCPTERM_NS_H */
