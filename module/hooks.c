// SPDX-License-Identifier: GPL-2.0
/*
 * The hook layer: the only file that knows how tcpterm gets into the
 * TCP stack.  Everything else is plain functions called from here.
 *
 * Three kinds of hook, all found by symbol name, none needing a patched
 * kernel or a looked-up function pointer:
 *
 *  - ftrace observers: a callback at the entry of a kernel function reads
 *    its arguments and returns; the function then runs as usual.
 *  - ftrace redirects (FTRACE_OPS_FL_IPMODIFY, as livepatch does): for
 *    the few calls tcpterm must answer itself, the callback points the
 *    saved instruction pointer at a tcpterm function of the same
 *    prototype, which returns straight to the kernel's caller.  The
 *    callback decides per call; everything else runs the stock code.
 *    Two are wrapped: inet_shutdown() (the wrapper calls the exported
 *    original) and tcp_recvmsg() on sockets that asked for
 *    TCPTERM_CROSSING_ERROR (the wrapper calls it through tcp_prot or
 *    tcpv6_prot); the callbacks let calls from this module through.
 *  - the inet_sock_set_state tracepoint, found by name.
 *
 * A redirected call may sleep (setsockopt copies from user memory and
 * takes the socket lock), so unload cannot rely on ftrace's own
 * synchronisation alone: every redirect is counted in tcpterm_inflight
 * until its tcpterm function is done, and unload waits for the count to
 * drop to zero, then for an RCU-tasks grace period so that no task is
 * left between the decrement and its return instruction.  The one
 * redirect that may sleep without bound, a read waiting for data, holds
 * a module reference instead: rmmod then fails with EBUSY, it does not
 * wait for the reader.
 */
#include <linux/atomic.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/tracepoint.h>
#include <linux/wait_bit.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <trace/events/sock.h>
#include <linux/tcpterm.h>

#include "crossing.h"
#include "drain.h"
#include "hooks.h"
#include "policy.h"
#include "sock.h"

static atomic_t tcpterm_inflight = ATOMIC_INIT(0);

static void tcpterm_redirect(struct pt_regs *regs, void *target)
{
	atomic_inc(&tcpterm_inflight);
	instruction_pointer_set(regs, (unsigned long)target);
}

static void tcpterm_redirect_done(void)
{
	if (atomic_dec_and_test(&tcpterm_inflight))
		wake_up_var(&tcpterm_inflight);
}

static unsigned long tcpterm_arg(struct pt_regs *regs, unsigned int n)
{
	return regs_get_kernel_argument(regs, n);
}

/* Redirect targets: same prototypes as the functions they replace. */

static int tcpterm_setsockopt_entry(struct sock *sk, int level, int optname,
				    sockptr_t optval, unsigned int optlen)
{
	int ret = tcpterm_setsockopt(sk, optname, optval, optlen);

	tcpterm_redirect_done();
	return ret;
}

static int tcpterm_getsockopt_entry(struct sock *sk, int level, int optname,
				    char __user *optval, int __user *optlen)
{
	int ret = tcpterm_getsockopt(sk, optname, optval, optlen);

	tcpterm_redirect_done();
	return ret;
}

static int tcpterm_shutdown_entry(struct socket *sock, int how)
{
	int ret = inet_shutdown(sock, how);

	if (!ret)
		tcpterm_read_closed(sock->sk);
	tcpterm_redirect_done();
	return ret;
}

static int tcpterm_do_rcv_entry(struct sock *sk, struct sk_buff *skb)
{
	tcpterm_rcv_reject(sk, skb);
	tcpterm_redirect_done();
	return 0;
}

/*
 * Reads of a socket that asked for TCPTERM_CROSSING_ERROR: an error
 * already pending is returned at once; otherwise the stock read runs
 * (called through the protocol, the callback lets it through) and an EOF
 * it returns because a crossing FIN arrived while it waited becomes the
 * error.  Such a read can block for ever, so it holds a module reference
 * instead of the redirect count: rmmod fails with EBUSY meanwhile, it
 * never waits on a reader.
 */
static int tcpterm_recvmsg_entry(TCPTERM_RECVMSG_PARAMS)
{
	int ret;

	if (tcpterm_crossing_recv_error_pending(sk, flags)) {
		ret = tcpterm_crossing_recv_error(sk, flags);
	} else {
		ret = tcpterm_proto_recvmsg(sk->sk_prot, sk, msg, len, flags,
					    addr_len);
		if (!ret && tcpterm_crossing_recv_error_pending(sk, flags))
			ret = tcpterm_crossing_recv_error(sk, flags);
	}
	module_put(THIS_MODULE);
	return ret;
}

/* ftrace callbacks.  They run with preemption disabled. */

#define TCPTERM_FTRACE_CB(name)						\
	static void notrace name(unsigned long ip, unsigned long pip,	\
				 struct ftrace_ops *op,			\
				 struct ftrace_regs *fregs)

TCPTERM_FTRACE_CB(tcpterm_ft_setsockopt)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs && (int)tcpterm_arg(regs, 1) == SOL_TCPTERM)
		tcpterm_redirect(regs, tcpterm_setsockopt_entry);
}

TCPTERM_FTRACE_CB(tcpterm_ft_getsockopt)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs && (int)tcpterm_arg(regs, 1) == SOL_TCPTERM)
		tcpterm_redirect(regs, tcpterm_getsockopt_entry);
}

TCPTERM_FTRACE_CB(tcpterm_ft_shutdown)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (!regs || within_module(pip, THIS_MODULE))
		return;
	if (tcpterm_shutdown_wanted((struct socket *)tcpterm_arg(regs, 0),
				    (int)tcpterm_arg(regs, 1)))
		tcpterm_redirect(regs, tcpterm_shutdown_entry);
}

TCPTERM_FTRACE_CB(tcpterm_ft_do_rcv)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);
	struct sk_buff *skb;
	struct sock *sk;

	if (!regs)
		return;
	sk = (struct sock *)tcpterm_arg(regs, 0);
	skb = (struct sk_buff *)tcpterm_arg(regs, 1);
	tcpterm_crossing_rcv(sk, skb);
	tcpterm_drain_rcv(sk, skb);
	if (tcpterm_rcv_should_reject(sk, skb))
		tcpterm_redirect(regs, tcpterm_do_rcv_entry);
}

TCPTERM_FTRACE_CB(tcpterm_ft_recvmsg)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (!regs || within_module(pip, THIS_MODULE))
		return;
	if (tcpterm_crossing_recv_watch((struct sock *)tcpterm_arg(regs, 0),
					(int)tcpterm_arg(regs, 3)) &&
	    try_module_get(THIS_MODULE))
		instruction_pointer_set(regs,
					(unsigned long)tcpterm_recvmsg_entry);
}

TCPTERM_FTRACE_CB(tcpterm_ft_close)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs)
		tcpterm_on_close((struct sock *)tcpterm_arg(regs, 0));
}

TCPTERM_FTRACE_CB(tcpterm_ft_reset)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs)
		tcpterm_on_peer_reset((struct sock *)tcpterm_arg(regs, 0));
}

TCPTERM_FTRACE_CB(tcpterm_ft_hashdance)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	/* own_req is a bool: the ABI defines only the low 8 bits. */
	if (regs && (u8)tcpterm_arg(regs, 3))
		tcpterm_sock_inherit((struct sock *)tcpterm_arg(regs, 0),
				     (struct sock *)tcpterm_arg(regs, 1));
}

TCPTERM_FTRACE_CB(tcpterm_ft_queue_add)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs)
		tcpterm_sock_inherit((struct sock *)tcpterm_arg(regs, 0),
				     (struct sock *)tcpterm_arg(regs, 2));
}

TCPTERM_FTRACE_CB(tcpterm_ft_destroy)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs)
		tcpterm_sock_destroy((struct sock *)tcpterm_arg(regs, 0));
}

/*
 * The hooks depend on the prototypes of the functions they sit on: a
 * redirect target stands in for the function, an observer reads its
 * arguments by position.  Checked against the target tree's headers, so
 * that an API change fails the build instead of the running kernel.
 * tcp_v6_do_rcv() is static; it takes what tcp_v4_do_rcv() takes.
 */
#define TCPTERM_ASSERT_TYPE(fn, type)					\
	static_assert(__same_type(&(fn), type), #fn " changed its prototype")

TCPTERM_ASSERT_TYPE(tcp_setsockopt, &tcpterm_setsockopt_entry);
TCPTERM_ASSERT_TYPE(tcp_getsockopt, &tcpterm_getsockopt_entry);
TCPTERM_ASSERT_TYPE(inet_shutdown, &tcpterm_shutdown_entry);
TCPTERM_ASSERT_TYPE(tcp_v4_do_rcv, &tcpterm_do_rcv_entry);
TCPTERM_ASSERT_TYPE(tcp_recvmsg, &tcpterm_recvmsg_entry);
TCPTERM_ASSERT_TYPE(__tcp_close, void (*)(struct sock *, long));
TCPTERM_ASSERT_TYPE(tcp_reset, void (*)(struct sock *, struct sk_buff *));
TCPTERM_ASSERT_TYPE(inet_csk_complete_hashdance,
		    struct sock *(*)(struct sock *, struct sock *,
				     struct request_sock *, bool));
TCPTERM_ASSERT_TYPE(inet_csk_reqsk_queue_add,
		    struct sock *(*)(struct sock *, struct request_sock *,
				     struct sock *));
TCPTERM_ASSERT_TYPE(tcp_v4_destroy_sock, void (*)(struct sock *));

struct tcpterm_hook {
	const char *name;
	ftrace_func_t func;
	bool modify_ip;
	struct ftrace_ops ops;
};

/*
 * Where each hook sits (6.1 names; the same functions exist up to 7.2):
 * tcp_setsockopt/tcp_getsockopt see every TCP level call, IPv4 and IPv6;
 * inet_shutdown is the shutdown(2) entry of TCP over both families;
 * __tcp_close runs locked inside tcp_close; tcp_v4_do_rcv/tcp_v6_do_rcv
 * take every segment of an established socket, from softirq or from the
 * backlog; a new child meets its listener in inet_csk_complete_hashdance
 * (regular handshake, which may inline its call of the next one) and in
 * inet_csk_reqsk_queue_add (syncookies, fastopen); tcp_v4_destroy_sock
 * is the destructor of both families.
 */
static struct tcpterm_hook tcpterm_hooks[] = {
	/*
	 * First attached, last detached: while any hook can create an
	 * entry, the end of every socket is seen (sock.c).
	 */
	{ "tcp_v4_destroy_sock",	tcpterm_ft_destroy,	false },
	{ "tcp_setsockopt",		tcpterm_ft_setsockopt,	true },
	{ "tcp_getsockopt",		tcpterm_ft_getsockopt,	true },
	{ "inet_shutdown",		tcpterm_ft_shutdown,	true },
	{ "tcp_v4_do_rcv",		tcpterm_ft_do_rcv,	true },
	{ "tcp_v6_do_rcv",		tcpterm_ft_do_rcv,	true },
	{ "tcp_recvmsg",		tcpterm_ft_recvmsg,	true },
	{ "__tcp_close",		tcpterm_ft_close,	false },
	{ "tcp_reset",			tcpterm_ft_reset,	false },
	{ "inet_csk_complete_hashdance", tcpterm_ft_hashdance,	false },
	{ "inet_csk_reqsk_queue_add",	tcpterm_ft_queue_add,	false },
};

static int tcpterm_hook_register(struct tcpterm_hook *h)
{
	char name[KSYM_NAME_LEN];
	int err;

	strscpy(name, h->name, sizeof(name));
	h->ops.func = h->func;
	/*
	 * RECURSION: ftrace guards the callbacks against re-entry (a
	 * callback that reached a traced function again would recurse).
	 * PERMANENT: while tcpterm is loaded, kernel.ftrace_enabled cannot
	 * be cleared, which would switch every policy off without a word;
	 * the sysctl write fails with EBUSY instead.
	 */
	h->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
		       FTRACE_OPS_FL_PERMANENT;
	if (h->modify_ip)
		h->ops.flags |= FTRACE_OPS_FL_IPMODIFY;

	err = ftrace_set_filter(&h->ops, name, strlen(name), 1);
	if (err) {
		pr_err("cannot hook %s: not a traceable function here (%d)\n",
		       h->name, err);
		return err;
	}
	err = register_ftrace_function(&h->ops);
	if (err) {
		if (err == -EBUSY)
			pr_err("cannot hook %s: kernel.ftrace_enabled is 0, or another IPMODIFY user (livepatch?) owns it\n",
			       h->name);
		else
			pr_err("cannot hook %s (%d)\n", h->name, err);
		ftrace_free_filter(&h->ops);
	}
	return err;
}

static void tcpterm_hook_unregister(struct tcpterm_hook *h)
{
	unregister_ftrace_function(&h->ops);
	ftrace_free_filter(&h->ops);
}

static struct tracepoint *tcpterm_tp_state;

static void tcpterm_tp_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "inet_sock_set_state"))
		*(struct tracepoint **)priv = tp;
}

static void tcpterm_tp_state_probe(void *data, const struct sock *sk,
				   const int oldstate, const int newstate)
{
	tcpterm_crossing_state(sk, oldstate, newstate);
	tcpterm_drain_state(sk, oldstate, newstate);
}

TCPTERM_ASSERT_TYPE(register_trace_inet_sock_set_state,
		    int (*)(typeof(tcpterm_tp_state_probe) *, void *));

static int tcpterm_tp_register(void)
{
	int err;

	for_each_kernel_tracepoint(tcpterm_tp_find, &tcpterm_tp_state);
	if (!tcpterm_tp_state) {
		pr_err("tracepoint inet_sock_set_state not found\n");
		return -ENOENT;
	}
	err = tracepoint_probe_register(tcpterm_tp_state,
					tcpterm_tp_state_probe, NULL);
	if (err)
		pr_err("cannot attach to inet_sock_set_state (%d)\n", err);
	return err;
}

static void tcpterm_tp_unregister(void)
{
	tracepoint_probe_unregister(tcpterm_tp_state, tcpterm_tp_state_probe,
				    NULL);
	tracepoint_synchronize_unregister();
}

static void tcpterm_wait_redirects(void)
{
	wait_var_event(&tcpterm_inflight, !atomic_read(&tcpterm_inflight));
	synchronize_rcu_tasks();
}

int tcpterm_hooks_init(void)
{
	int i, err;

	err = tcpterm_tp_register();
	if (err)
		return err;

	for (i = 0; i < ARRAY_SIZE(tcpterm_hooks); i++) {
		err = tcpterm_hook_register(&tcpterm_hooks[i]);
		if (err)
			goto err_unwind;
	}
	return 0;

err_unwind:
	while (i--)
		tcpterm_hook_unregister(&tcpterm_hooks[i]);
	tcpterm_wait_redirects();
	tcpterm_tp_unregister();
	return err;
}

void tcpterm_hooks_exit(void)
{
	int i = ARRAY_SIZE(tcpterm_hooks);

	while (i--)
		tcpterm_hook_unregister(&tcpterm_hooks[i]);
	tcpterm_wait_redirects();
	tcpterm_tp_unregister();
}
