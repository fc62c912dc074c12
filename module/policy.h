/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_POLICY_H
#define _TCPTERM_POLICY_H

#include <linux/sockptr.h>
#include <linux/types.h>

struct sk_buff;
struct sock;
struct tcpterm_sock;

int tcpterm_setsockopt(struct sock *sk, int optname, sockptr_t optval,
		       unsigned int optlen);
int tcpterm_getsockopt(struct sock *sk, int optname, char __user *optval,
		       int __user *optlen);

u32 tcpterm_unread(const struct sock *sk);
u32 tcpterm_discard_unread(struct sock *sk, struct tcpterm_sock *ts);
bool tcpterm_abort_resets(int state);

void tcpterm_on_shutdown(struct sock *sk, int how);
bool tcpterm_policy_data(struct sock *sk, struct tcpterm_sock *ts);
bool tcpterm_on_close(struct sock *sk, long timeout);
void tcpterm_on_reset(struct sock *sk, struct sk_buff *skb);

int tcpterm_policy_init(void);
void tcpterm_policy_exit(void);

#endif /* _TCPTERM_POLICY_H */
