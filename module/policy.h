/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_POLICY_H
#define _TCPTERM_POLICY_H

#include <linux/types.h>

struct sk_buff;
struct sock;
struct tcpterm_sock;

void tcpterm_on_shutdown(struct sock *sk, int how);
bool tcpterm_policy_data(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_policy_close(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_on_reset(struct sock *sk, struct sk_buff *skb);

int tcpterm_policy_init(void);
void tcpterm_policy_exit(void);

#endif /* _TCPTERM_POLICY_H */
