/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_DRAIN_H
#define _TCPTERM_DRAIN_H

#include <linux/types.h>

struct sk_buff;
struct sock;
struct tcpterm_sock;
struct work_struct;

void tcpterm_drain_on_close(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_drain_rcv(struct sock *sk, struct sk_buff *skb);
void tcpterm_drain_state(const struct sock *sk, int oldstate, int newstate);
void tcpterm_grace_changed(struct sock *sk, struct tcpterm_sock *ts);

void tcpterm_deadline_workfn(struct work_struct *work);
bool tcpterm_deadline_orphan(struct tcpterm_sock *ts);

int tcpterm_drain_init(void);
void tcpterm_drain_exit(void);

#endif /* _TCPTERM_DRAIN_H */
