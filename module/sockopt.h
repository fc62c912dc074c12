/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_SOCKOPT_H
#define _TCPTERM_SOCKOPT_H

#include <linux/sockptr.h>
#include <linux/types.h>

struct sock;

int tcpterm_setsockopt(struct sock *sk, int optname, sockptr_t optval,
		       unsigned int optlen);
int tcpterm_getsockopt(struct sock *sk, int optname, char __user *optval,
		       int __user *optlen);
void tcpterm_sockopt_new_conn(struct sock *sk);
void tcpterm_sockopt_stop(void);

#endif /* _TCPTERM_SOCKOPT_H */
