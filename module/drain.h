/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_DRAIN_H
#define _TCPTERM_DRAIN_H

#include <linux/types.h>

struct sock;
struct tcpterm_sock;
struct tcpterm_sock_ops;

bool tcpterm_drain_close(struct sock *sk, struct tcpterm_sock *ts,
			 long timeout);
bool tcpterm_drain_data(struct sock *sk, struct tcpterm_sock *ts);
bool tcpterm_drain_state_change(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_drain_state(const struct sock *sk, int oldstate, int newstate);
void tcpterm_grace_changed(struct sock *sk, struct tcpterm_sock *ts);

extern const struct tcpterm_sock_ops tcpterm_drain_sock_ops;

int tcpterm_drain_init(void);
void tcpterm_drain_stop(void);
void tcpterm_drain_exit(void);

#endif /* _TCPTERM_DRAIN_H */
