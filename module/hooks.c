// SPDX-License-Identifier: GPL-2.0
/*
 * The hook layer: the only file that knows how tcpterm gets into the
 * TCP stack.  Everything else is plain functions called from here.
 *
 * Sockets that never asked for tcpterm run the stock code: no tcpterm
 * callback sits on a per-segment path, a read, a write or a close.
 * tcpterm gets in three ways, none needing a patched kernel:
 *
 *  - Per-socket protocol ops and socket callbacks, for sockets with a
 *    policy only (as kTLS and sockmap attach): close, shutdown and
 *    destroy come through copies of tcp_prot/tcpv6_prot, and
 *    sk_data_ready/sk_state_change once a policy has to look at input
 *    (after SHUT_RD, our FIN, or close).  The data callback runs after
 *    the stack accepted and queued the data, so a policy never acts on a
 *    segment the stack would have refused.
 *  - ftrace, by symbol name, on functions off the data path: the socket
 *    option calls (tcp_setsockopt/tcp_getsockopt, redirected for
 *    SOL_TCPTERM only, with FTRACE_OPS_FL_IPMODIFY as livepatch does),
 *    tcp_reset() and the two places a child meets its listener
 *    (observers).  Their callbacks return after one comparison for
 *    sockets without tcpterm's ops.
 *  - the inet_sock_set_state tracepoint: crossings are state changes.
 *
 * Unload gives every socket its stock ops and callbacks back, then waits
 * for calls already inside tcpterm: each op and redirect counts itself in
 * tcpterm_inflight; RCU tasks covers the instructions before and after.
 */
#include <linux/atomic.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/tracepoint.h>
#include <linux/wait_bit.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <trace/events/sock.h>
#include <linux/tcpterm.h>

#include "crossing.h"
#include "drain.h"
#include "hooks.h"
#include "policy.h"
#include "sock.h"

static atomic_t tcpterm_inflight = ATOMIC_INIT(0);

static void tcpterm_inflight_get(void)
{
	atomic_inc(&tcpterm_inflight);
}

static void tcpterm_redirect(struct pt_regs *regs, void *target)
{
	tcpterm_inflight_get();
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

/*
 * TCP_ULP on a socket with tcpterm's protocol ops: a ULP (kTLS, espintcp)
 * would build its own ops on top of tcpterm's and keep them after tcpterm
 * is gone.  Refused; clearing every tcpterm option first does not help,
 * the socket stays tcpterm's until it is destroyed or tcpterm unloads.
 */
static int tcpterm_ulp_entry(struct sock *sk, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	tcpterm_redirect_done();
	return -EBUSY;
}

static int tcpterm_getsockopt_entry(struct sock *sk, int level, int optname,
				    char __user *optval, int __user *optlen)
{
	int ret = tcpterm_getsockopt(sk, optname, optval, optlen);

	tcpterm_redirect_done();
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
	int level, optname;

	if (!regs)
		return;
	level = (int)tcpterm_arg(regs, 1);
	optname = (int)tcpterm_arg(regs, 2);
	if (level == SOL_TCPTERM)
		tcpterm_redirect(regs, tcpterm_setsockopt_entry);
	else if (level == SOL_TCP && optname == TCP_ULP &&
		 tcpterm_prot_owns((struct sock *)tcpterm_arg(regs, 0)))
		tcpterm_redirect(regs, tcpterm_ulp_entry);
}

TCPTERM_FTRACE_CB(tcpterm_ft_getsockopt)
{
	struct pt_regs *regs = tcpterm_ftrace_regs(fregs);

	if (regs && (int)tcpterm_arg(regs, 1) == SOL_TCPTERM)
		tcpterm_redirect(regs, tcpterm_getsockopt_entry);
}

/*
 * tcp_reset() runs for an RST from the peer and for the stock abort on
 * data after close; both are rare.  Only sockets with tcpterm's ops are
 * looked at: the test is one pointer comparison.
 */
TCPTERM_FTRACE_CB(tcpterm_ft_reset)
{
	struct sock *sk = (struct sock *)tcpterm_ftrace_arg(fregs, 0);

	if (tcpterm_prot_owns(sk))
		tcpterm_on_reset(sk,
				 (struct sk_buff *)tcpterm_ftrace_arg(fregs, 1));
}

/* A child meets its listener: children of other listeners cost one test. */
TCPTERM_FTRACE_CB(tcpterm_ft_hashdance)
{
	struct sock *listener = (struct sock *)tcpterm_ftrace_arg(fregs, 0);

	/* own_req is a bool: the ABI defines only the low 8 bits. */
	if (tcpterm_prot_owns(listener) && (u8)tcpterm_ftrace_arg(fregs, 3))
		tcpterm_sock_inherit(listener,
				     (struct sock *)tcpterm_ftrace_arg(fregs, 1));
}

TCPTERM_FTRACE_CB(tcpterm_ft_queue_add)
{
	struct sock *listener = (struct sock *)tcpterm_ftrace_arg(fregs, 0);

	if (tcpterm_prot_owns(listener))
		tcpterm_sock_inherit(listener,
				     (struct sock *)tcpterm_ftrace_arg(fregs, 2));
}

/*
 * The hooks depend on the prototypes of the functions they sit on: a
 * redirect target stands in for the function, an observer reads its
 * arguments by position.  Checked against the target tree's headers, so
 * that an API change fails the build instead of the running kernel.
 */
#define TCPTERM_ASSERT_TYPE(fn, type)					\
	static_assert(__same_type(&(fn), type), #fn " changed its prototype")

TCPTERM_ASSERT_TYPE(tcp_setsockopt, &tcpterm_setsockopt_entry);
TCPTERM_ASSERT_TYPE(tcp_getsockopt, &tcpterm_getsockopt_entry);
TCPTERM_ASSERT_TYPE(tcp_reset, void (*)(struct sock *, struct sk_buff *));
TCPTERM_ASSERT_TYPE(inet_csk_complete_hashdance,
		    struct sock *(*)(struct sock *, struct sock *,
				     struct request_sock *, bool));
TCPTERM_ASSERT_TYPE(inet_csk_reqsk_queue_add,
		    struct sock *(*)(struct sock *, struct request_sock *,
				     struct sock *));

struct tcpterm_hook {
	const char *name;
	ftrace_func_t func;
	bool modify_ip;
	struct ftrace_ops ops;
};

/*
 * Where each hook sits (6.1 names; the same functions exist up to 7.2).
 * None is on a per-segment path: tcp_setsockopt/tcp_getsockopt are
 * system calls (the one place a socket can ask for tcpterm), tcp_reset
 * runs when a connection is reset, and a new child meets its listener
 * in inet_csk_complete_hashdance (regular handshake) or
 * inet_csk_reqsk_queue_add (syncookies, fastopen).  Everything a policy
 * does on a socket it does through that socket's own protocol ops and
 * callbacks, installed when the socket asks (below).
 */
static struct tcpterm_hook tcpterm_hooks[] = {
	{ "tcp_setsockopt",		tcpterm_ft_setsockopt,	true },
	{ "tcp_getsockopt",		tcpterm_ft_getsockopt,	true },
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
	h->ops.flags = FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT;
	/*
	 * A redirect rewrites the saved instruction pointer: that takes
	 * the full register frame.  Observers only read arguments, which
	 * the lighter trampoline saves as well.
	 */
	if (h->modify_ip)
		h->ops.flags |= FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY;

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

/*
 * Per-socket protocol ops.  A socket that asks for tcpterm (or is the
 * child of a listener that did) gets a copy of its protocol's struct
 * proto with close, shutdown and destroy replaced, as sockmap and kTLS
 * do; every other op is the stock one.  Sockets that never asked keep
 * tcp_prot/tcpv6_prot and never reach tcpterm code.  A copy refuses
 * sockmap (no psock_update_sk_prot) and TCP_ULP is refused above: both
 * would wrap tcpterm's ops and keep them past unload.
 */
enum { TCPTERM_V4, TCPTERM_V6, TCPTERM_NFAMILY };

/*
 * Two copies per family: one with the stock recvmsg, and one for
 * sockets that asked for TCPTERM_CROSSING_ERROR, whose reads tcpterm
 * must see (index family * 2 + 1).
 */
static struct proto tcpterm_prot[TCPTERM_NFAMILY * 2];
static struct proto *tcpterm_base[TCPTERM_NFAMILY];

static int tcpterm_prot_index(const struct proto *prot)
{
	if (prot >= tcpterm_prot && prot < tcpterm_prot + ARRAY_SIZE(tcpterm_prot))
		return prot - tcpterm_prot;
	return -1;
}

bool tcpterm_prot_owns(const struct sock *sk)
{
	return tcpterm_prot_index(READ_ONCE(sk->sk_prot)) >= 0;
}

static struct proto *tcpterm_prot_base(const struct sock *sk)
{
	int i = tcpterm_prot_index(READ_ONCE(sk->sk_prot));

	return i >= 0 ? tcpterm_base[i / 2] : READ_ONCE(sk->sk_prot);
}

/*
 * Reads of a socket that asked for TCPTERM_CROSSING_ERROR: an error
 * already pending is returned at once; otherwise the stock read runs and
 * an EOF it returns because a crossing FIN arrived while it waited
 * becomes the error.  Such a read can block for ever, so it holds a
 * module reference: rmmod fails with EBUSY meanwhile, it never waits on
 * a reader.  One that comes in while the module is going away (it loaded
 * the ops just before unload gave the socket its stock ones back) must
 * not sleep here: it reads without waiting.
 */
static int tcpterm_prot_recvmsg(TCPTERM_RECVMSG_PARAMS)
{
	struct proto *base = tcpterm_prot_base(sk);
	int ret;

	if (!try_module_get(THIS_MODULE)) {
		tcpterm_inflight_get();
		ret = tcpterm_proto_recvmsg(base, sk, msg, len,
					    flags | MSG_DONTWAIT, addr_len);
		tcpterm_redirect_done();
		return ret;
	}
	if (tcpterm_crossing_recv_error_pending(sk, flags)) {
		ret = tcpterm_crossing_recv_error(sk, flags);
	} else {
		ret = tcpterm_proto_recvmsg(base, sk, msg, len, flags,
					    addr_len);
		if (!ret && tcpterm_crossing_recv_error_pending(sk, flags))
			ret = tcpterm_crossing_recv_error(sk, flags);
	}
	module_put(THIS_MODULE);
	return ret;
}

static void tcpterm_prot_close(struct sock *sk, long timeout)
{
	struct proto *base = tcpterm_prot_base(sk);

	tcpterm_inflight_get();
	if (!tcpterm_on_close(sk, timeout))
		base->close(sk, timeout);
	tcpterm_redirect_done();
}

/*
 * The stock shutdown op of @sk's protocol (tcp_shutdown(), not exported
 * by every supported kernel).  Socket locked.
 */
void tcpterm_stock_shutdown(struct sock *sk, int how)
{
	tcpterm_prot_base(sk)->shutdown(sk, how);
}

/* inet_shutdown() holds the socket lock; @how is in *_SHUTDOWN bits. */
static void tcpterm_prot_shutdown(struct sock *sk, int how)
{
	tcpterm_inflight_get();
	tcpterm_prot_base(sk)->shutdown(sk, how);
	tcpterm_on_shutdown(sk, how);
	tcpterm_redirect_done();
}

/*
 * The socket's end: its entry goes, and so do tcpterm's ops, so that
 * nothing that still holds the socket afterwards can reach them.
 */
static void tcpterm_prot_destroy(struct sock *sk)
{
	struct proto *base = tcpterm_prot_base(sk);

	tcpterm_inflight_get();
	tcpterm_sock_destroy(sk);
	if (base->destroy)
		base->destroy(sk);
	WRITE_ONCE(sk->sk_prot, base);
	tcpterm_redirect_done();
}

static void tcpterm_prot_build(int family, struct proto *base)
{
	struct proto *prot = &tcpterm_prot[family * 2];

	tcpterm_base[family] = base;
	*prot = *base;
	prot->close = tcpterm_prot_close;
	prot->shutdown = tcpterm_prot_shutdown;
	prot->destroy = tcpterm_prot_destroy;
	tcpterm_proto_refuse_sockmap(prot);
	prot[1] = prot[0];
	prot[1].recvmsg = tcpterm_prot_recvmsg;
}

static void tcpterm_prot_init(void)
{
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
 * Socket callbacks, installed on sockets with a policy once their
 * policy has something to do with input: after shutdown(SHUT_RD), once
 * their FIN is queued, and while tcpterm holds a closed socket (drain.c).
 * They see only data the stack accepted (window, PAWS, RFC 5961 checks
 * done, in sequence): sk_data_ready runs after the data was queued.
 */
static void tcpterm_data_ready(struct sock *sk)
{
	struct tcpterm_sock *ts;
	void (*orig)(struct sock *sk) = NULL;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts && ts->ext) {
		tcpterm_crossing_data(sk, ts);
		if (!tcpterm_drain_data(sk, ts) &&
		    !tcpterm_policy_data(sk, ts))
			orig = ts->ext->saved_data_ready;
	}
	rcu_read_unlock();
	if (orig)
		orig(sk);
}

static void tcpterm_state_change(struct sock *sk)
{
	struct tcpterm_sock *ts;
	void (*orig)(struct sock *sk) = NULL;

	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	if (ts && ts->ext && !tcpterm_drain_state_change(sk, ts))
		orig = ts->ext->saved_state_change;
	rcu_read_unlock();
	if (orig)
		orig(sk);
}

/* Socket locked (or not yet visible); any context; ts->ext made. */
void tcpterm_watch(struct sock *sk, struct tcpterm_sock *ts)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready != tcpterm_data_ready) {
		ts->ext->saved_data_ready = sk->sk_data_ready;
		ts->ext->saved_state_change = sk->sk_state_change;
		WRITE_ONCE(sk->sk_data_ready, tcpterm_data_ready);
		WRITE_ONCE(sk->sk_state_change, tcpterm_state_change);
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

void tcpterm_unwatch(struct sock *sk, struct tcpterm_sock *ts)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready == tcpterm_data_ready) {
		WRITE_ONCE(sk->sk_data_ready, ts->ext->saved_data_ready);
		WRITE_ONCE(sk->sk_state_change, ts->ext->saved_state_change);
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

static struct tracepoint *tcpterm_tp_state;

static void tcpterm_tp_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "inet_sock_set_state"))
		*(struct tracepoint **)priv = tp;
}

/*
 * Every TCP state change.  A crossing is a state change (FIN_WAIT1 ->
 * CLOSING), seen for every socket; the rest only for sockets with
 * tcpterm's ops, one pointer comparison for the others.
 */
static void tcpterm_tp_state_probe(void *data, const struct sock *sk,
				   const int oldstate, const int newstate)
{
	tcpterm_crossing_state(sk, oldstate, newstate);
	if (tcpterm_prot_owns(sk))
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

int tcpterm_hooks_init(void)
{
	int i, err;

	tcpterm_prot_init();
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
	tcpterm_tp_unregister();
	tcpterm_hooks_wait();
	return err;
}

/* No new entry, no new watch after this; sockets keep tcpterm's ops. */
void tcpterm_hooks_exit(void)
{
	int i = ARRAY_SIZE(tcpterm_hooks);

	while (i--)
		tcpterm_hook_unregister(&tcpterm_hooks[i]);
	tcpterm_tp_unregister();
}

/*
 * After every socket got its stock ops and callbacks back: wait for the
 * calls that had already loaded tcpterm's.  A task between loading a
 * pointer and counting itself in has not scheduled voluntarily since
 * (RCU tasks); one counted in is waited for; one between counting itself
 * out and its return instruction is covered by RCU tasks again.
 */
void tcpterm_hooks_wait(void)
{
	synchronize_rcu_tasks();
	wait_var_event(&tcpterm_inflight, !atomic_read(&tcpterm_inflight));
	synchronize_rcu_tasks();
}
