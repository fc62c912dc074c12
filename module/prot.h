/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_PROT_H
#define _TCPTERM_PROT_H

#include <linux/types.h>
#include <net/sock.h>

struct sock;
struct tcpterm_sock;

/* The hook layer's replacements, installed by this layer. */
struct tcpterm_prot_hooks {
	void	(*close)(struct sock *sk, long timeout);
	void	(*shutdown)(struct sock *sk, int how);
	void	(*destroy)(struct sock *sk);
	void	(*data_ready)(struct sock *sk);
	void	(*state_change)(struct sock *sk);
	/* tcp_recvmsg() differs between supported kernels (compat.h) */
	typeof_member(struct proto, recvmsg) recvmsg;
	int	(*sendmsg)(struct sock *sk, struct msghdr *msg, size_t len);
};

enum { TCPTERM_V4, TCPTERM_V6, TCPTERM_NFAMILY };
#define TCPTERM_NPROT	(TCPTERM_NFAMILY * 2)

/* The copies (prot.c); nothing outside it writes them. */
extern struct proto tcpterm_prot[TCPTERM_NPROT];

/*
 * Has @sk tcpterm's ops?  The test every hook makes first, for every
 * socket: two comparisons, inline.
 */
static inline bool tcpterm_prot_owns(const struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);

	return prot >= tcpterm_prot && prot < tcpterm_prot + TCPTERM_NPROT;
}

void tcpterm_prot_init(const struct tcpterm_prot_hooks *hooks);
struct proto *tcpterm_prot_base(const struct sock *sk);
bool tcpterm_prot_can_attach(const struct sock *sk);
void tcpterm_prot_attach(struct sock *sk, bool reads);
void tcpterm_prot_detach(struct sock *sk);
void tcpterm_stock_shutdown(struct sock *sk, int how);
void tcpterm_watch(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_unwatch(struct sock *sk, struct tcpterm_sock *ts);

#endif /* _TCPTERM_PROT_H */
