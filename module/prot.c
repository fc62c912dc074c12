// SPDX-License-Identifier: GPL-2.0
/*
 * Per-socket protocol ops and callbacks.  A socket that asks for tcpterm
 * (or is the child of a listener that did) gets a copy of its protocol's
 * struct proto with close, shutdown and destroy replaced, as sockmap and
 * kTLS do; every other op is the stock one.  Sockets that never asked
 * keep tcp_prot/tcpv6_prot and never reach tcpterm code.  A copy refuses
 * sockmap (no psock_update_sk_prot), and the hook layer refuses TCP_ULP:
 * both would wrap tcpterm's ops and keep them past unload.
 *
 * The replacement ops and callbacks are the hook layer's (hooks.c),
 * handed over at init: this file only installs and removes them.
 */
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>

#include "prot.h"
#include "sock.h"

static const struct tcpterm_prot_hooks *tcpterm_hooks;

/*
 * Two copies per family: one with the stock recvmsg and sendmsg, and one
 * for sockets that asked for TCPTERM_CROSSING_ERROR or TCPTERM_NOTICE,
 * whose reads and writes tcpterm must see (index family * 2 + 1).
 */
struct proto tcpterm_prot[TCPTERM_NPROT];
static struct proto *tcpterm_base[TCPTERM_NFAMILY];

static int tcpterm_prot_index(const struct proto *prot)
{
	if (prot >= tcpterm_prot && prot < tcpterm_prot + TCPTERM_NPROT)
		return prot - tcpterm_prot;
	return -1;
}

struct proto *tcpterm_prot_base(const struct sock *sk)
{
	int i = tcpterm_prot_index(READ_ONCE(sk->sk_prot));

	return i >= 0 ? tcpterm_base[i / 2] : READ_ONCE(sk->sk_prot);
}

/*
 * The stock shutdown op of @sk's protocol (tcp_shutdown(), not exported
 * by every supported kernel).  Socket locked.
 */
void tcpterm_stock_shutdown(struct sock *sk, int how)
{
	tcpterm_prot_base(sk)->shutdown(sk, how);
}

static void tcpterm_prot_build(int family, struct proto *base)
{
	struct proto *prot = &tcpterm_prot[family * 2];

	tcpterm_base[family] = base;
	*prot = *base;
	prot->close = tcpterm_hooks->close;
	prot->shutdown = tcpterm_hooks->shutdown;
	prot->destroy = tcpterm_hooks->destroy;
	tcpterm_proto_refuse_sockmap(prot);
	prot[1] = prot[0];
	prot[1].recvmsg = tcpterm_hooks->recvmsg;
	prot[1].sendmsg = tcpterm_hooks->sendmsg;
}

/* Build the copies around the hook layer's ops; before any attach. */
void tcpterm_prot_init(const struct tcpterm_prot_hooks *hooks)
{
	tcpterm_hooks = hooks;
	tcpterm_prot_build(TCPTERM_V4, &tcp_prot);
#if IS_ENABLED(CONFIG_IPV6)
	tcpterm_prot_build(TCPTERM_V6, &tcpv6_prot);
#endif
}

/* The family of @prot, if it is a stock TCP one or tcpterm's. */
static int tcpterm_family_index(const struct proto *prot)
{
	int i = tcpterm_prot_index(prot);

	if (i >= 0)
		return i / 2;
	for (i = 0; i < TCPTERM_NFAMILY; i++)
		if (tcpterm_base[i] && prot == tcpterm_base[i])
			return i;
	return -1;
}

/*
 * Can @sk take tcpterm's ops?  Only a socket with the stock TCP ops of
 * its family, or tcpterm's already: not one that kTLS, sockmap or MPTCP
 * wrapped.
 */
bool tcpterm_prot_can_attach(const struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);

	return tcpterm_family_index(prot) >= 0;
}

/*
 * Give @sk tcpterm's ops, those that see reads if @reads; its entry
 * exists (sock.c).
 */
void tcpterm_prot_attach(struct sock *sk, bool reads)
{
	int i = tcpterm_family_index(READ_ONCE(sk->sk_prot));

	if (i >= 0)
		WRITE_ONCE(sk->sk_prot, &tcpterm_prot[i * 2 + reads]);
}

/* Give @sk its stock ops back (unload, or a child that got no entry). */
void tcpterm_prot_detach(struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);
	int i = tcpterm_prot_index(prot);

	if (i >= 0)
		WRITE_ONCE(sk->sk_prot, tcpterm_base[i / 2]);
}

/*
 * Install the hook layer's socket callbacks on @sk, keeping its own in
 * its entry.  Socket locked (or not yet visible); any context; ts->ext
 * made.
 */
void tcpterm_watch(struct sock *sk, struct tcpterm_sock *ts)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready != tcpterm_hooks->data_ready) {
		ts->ext->saved_data_ready = sk->sk_data_ready;
		ts->ext->saved_state_change = sk->sk_state_change;
		WRITE_ONCE(sk->sk_data_ready, tcpterm_hooks->data_ready);
		WRITE_ONCE(sk->sk_state_change, tcpterm_hooks->state_change);
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

void tcpterm_unwatch(struct sock *sk, struct tcpterm_sock *ts)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready == tcpterm_hooks->data_ready) {
		WRITE_ONCE(sk->sk_data_ready, ts->ext->saved_data_ready);
		WRITE_ONCE(sk->sk_state_change, ts->ext->saved_state_change);
	}
	write_unlock_bh(&sk->sk_callback_lock);
}
