/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_CROSSING_H
#define _TCPTERM_CROSSING_H

struct sock;
struct tcpterm_sock;

void tcpterm_crossing_state(const struct sock *sk, int oldstate, int newstate,
			    bool owned);
void tcpterm_crossing_data(struct sock *sk, struct tcpterm_sock *ts);
bool tcpterm_crossing_recv_error_pending(struct sock *sk, int flags);
int tcpterm_crossing_recv_error(struct sock *sk, int flags);

#endif /* _TCPTERM_CROSSING_H */
