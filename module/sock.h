/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_SOCK_H
#define _TCPTERM_SOCK_H

#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct sock;

/*
 * What tcpterm knows about one socket that opted in.  Found by socket
 * address in an RCU hash table; freed when the kernel destroys the socket
 * (tcp_v4_destroy_sock, both families) or when the module goes away.
 * Fields below @lock are written under it.
 */
struct tcpterm_sock {
	struct rhash_head	node;
	struct sock		*sk;		/* key */
	struct rcu_head		rcu;
	spinlock_t		lock;		/* guards the fields below */
	u8			policy;
	u8			crossing_error;
	u8			rst_reason;
	bool			peer_rst;
	bool			abort_pending;
	u32			flags;		/* TCPTERM_F_* */
	u64			bytes_discarded;
	u64			rst_time_ns;
	u64			crossed_time_ns;
};

int tcpterm_sock_init(void);
void tcpterm_sock_exit(void);

bool tcpterm_sock_any(void);
struct tcpterm_sock *tcpterm_sock_lookup(const struct sock *sk);
struct tcpterm_sock *tcpterm_sock_get(struct sock *sk, gfp_t gfp);
void tcpterm_sock_inherit(struct sock *listener, struct sock *child);
void tcpterm_sock_destroy(struct sock *sk);

#endif /* _TCPTERM_SOCK_H */
