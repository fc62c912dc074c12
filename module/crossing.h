/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_CROSSING_H
#define _TCPTERM_CROSSING_H

#include <linux/types.h>

struct sk_buff;
struct sock;

void tcpterm_crossing_state(const struct sock *sk, int oldstate, int newstate);
void tcpterm_crossing_rcv(const struct sock *sk, const struct sk_buff *skb);
bool tcpterm_crossing_recv_watch(struct sock *sk, int flags);
bool tcpterm_crossing_recv_error_pending(struct sock *sk, int flags);
int tcpterm_crossing_recv_error(struct sock *sk, int flags);

#endif /* _TCPTERM_CROSSING_H */
