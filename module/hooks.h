/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_HOOKS_H
#define _TCPTERM_HOOKS_H

#include <linux/types.h>

struct sock;
struct tcpterm_sock;

int tcpterm_hooks_init(void);
void tcpterm_hooks_exit(void);
void tcpterm_hooks_wait(void);

bool tcpterm_prot_owns(const struct sock *sk);
bool tcpterm_prot_can_attach(const struct sock *sk);
void tcpterm_prot_attach(struct sock *sk, bool reads);
void tcpterm_prot_detach(struct sock *sk);
void tcpterm_stock_shutdown(struct sock *sk, int how);

void tcpterm_watch(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_unwatch(struct sock *sk, struct tcpterm_sock *ts);

#endif /* _TCPTERM_HOOKS_H */
