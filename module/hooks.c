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
 * Only the option calls stay attached while the module is loaded.  The
 * observers and the tracepoint are attached while the gate is open
 * (gate.c): while some socket is tracked or some namespace configured.
 *
 * Unload gives every socket its stock ops and callbacks back, then waits
 * for calls already inside tcpterm: each op and redirect counts itself in
 * tcpterm_inflight; RCU tasks covers the instructions before and after.
 */
#include <linux/atomic.h>
#include <linux/bpf-cgroup.h>
#include <linux/filter.h>
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
#include "gate.h"
#include "hooks.h"
#include "notice.h"
#include "ns.h"
#include "policy.h"
#include "prot.h"
#include "sock.h"
#include "sockopt.h"

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

/* The stock kernel asks sock_ops programs something (notice.c). */
TCPTERM_FTRACE_CB(tcpterm_ft_sock_ops)
{
	tcpterm_notice_sock_ops((struct sock *)tcpterm_ftrace_arg(fregs, 0),
				(struct bpf_sock_ops_kern *)
				tcpterm_ftrace_arg(fregs, 1));
}

/*
 * A child of a listener with tcpterm's ops is queued (softirq).  It was
 * cloned with the listener's ops; it keeps them only with an entry of
 * its own, carrying the listener's settings.
 */
static void tcpterm_inherit(struct sock *listener, struct sock *child)
{
	struct tcpterm_sock *ts;

	/*
	 * sk_clone_lock() recorded the listener's ops, tcpterm's, as the
	 * ops that made the child; its timewait socket and its final free
	 * read them, possibly after tcpterm is gone.  The stock ops did.
	 */
	child->sk_prot_creator = tcpterm_prot_base(child);
	ts = tcpterm_sock_clone(listener, child);

	if (!ts)
		return;
	if (IS_ERR(ts)) {
		tcpterm_prot_detach(child);
		if (PTR_ERR(ts) == -ENOMEM)
			net_warn_ratelimited("no memory, child socket keeps the default policy\n");
		return;
	}
	tcpterm_prot_attach(child, tcpterm_sock_io(ts));
	tcpterm_notice_child(child, ts);
}

/*
 * A child meets its listener.  A tracked listener's child inherits its
 * settings; the child of an untracked one gets what its namespace gives
 * it, while some namespace gives anything (a patched-out branch until
 * then).  Children of other listeners cost one test.
 */
static __always_inline void tcpterm_child(struct sock *listener,
					  struct sock *child)
{
	if (tcpterm_prot_owns(listener))
		tcpterm_inherit(listener, child);
	else if (tcpterm_ns_any())
		tcpterm_sockopt_new_conn(child);
}

TCPTERM_FTRACE_CB(tcpterm_ft_hashdance)
{
	/* own_req is a bool: the ABI defines only the low 8 bits. */
	if ((u8)tcpterm_ftrace_arg(fregs, 3))
		tcpterm_child((struct sock *)tcpterm_ftrace_arg(fregs, 0),
			      (struct sock *)tcpterm_ftrace_arg(fregs, 1));
}

TCPTERM_FTRACE_CB(tcpterm_ft_queue_add)
{
	tcpterm_child((struct sock *)tcpterm_ftrace_arg(fregs, 0),
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
#if IS_ENABLED(CONFIG_CGROUP_BPF)
TCPTERM_ASSERT_TYPE(__cgroup_bpf_run_filter_sock_ops,
		    int (*)(struct sock *, struct bpf_sock_ops_kern *,
			    enum cgroup_bpf_attach_type));
#endif
TCPTERM_ASSERT_TYPE(inet_csk_reqsk_queue_add,
		    struct sock *(*)(struct sock *, struct request_sock *,
				     struct sock *));

struct tcpterm_hook {
	const char *name;
	ftrace_func_t func;
	bool modify_ip;
	bool stuck;		/* unregister (or, for the notice hook,
				 * the filter) failed: never register again
				 */
	struct ftrace_ops ops;
};

/*
 * Where each hook sits (6.1 names; the same functions exist up to 7.2).
 * None is on a per-segment path.  Always attached: tcp_setsockopt and
 * tcp_getsockopt, system calls, the one place a socket can ask for
 * tcpterm.  Attached only while the gate is open (gate.c), that is while
 * some socket is tracked or some namespace has rules, defaults or
 * watch_all: tcp_reset, run when a connection is reset, and the two
 * places a new child meets its listener, inet_csk_complete_hashdance
 * (regular handshake) and inet_csk_reqsk_queue_add (syncookies,
 * fastopen).  Everything a policy does on a socket it does through that
 * socket's own protocol ops and callbacks, installed when the socket
 * asks (below).
 */
static struct tcpterm_hook tcpterm_hooks[] = {
	{ "tcp_getsockopt",		tcpterm_ft_getsockopt,	true },
	/*
	 * Last: the only way in for a socket.  A failed init unwinds before
	 * any socket could have taken tcpterm's ops.
	 */
	{ "tcp_setsockopt",		tcpterm_ft_setsockopt,	true },
};

static struct tcpterm_hook tcpterm_gated_hooks[] = {
	{ "tcp_reset",			tcpterm_ft_reset,	false },
	{ "inet_csk_complete_hashdance", tcpterm_ft_hashdance,	false },
	{ "inet_csk_reqsk_queue_add",	tcpterm_ft_queue_add,	false },
};

/*
 * The function that runs cgroup sock_ops programs, observed only while
 * notices are in use (notice.c): then it runs at connection setup for
 * every socket, and per segment for sockets that asked for it.
 */
static struct tcpterm_hook tcpterm_notice_hook = {
	"__cgroup_bpf_run_filter_sock_ops", tcpterm_ft_sock_ops, false
};

#define TCPTERM_NHOOKS	ARRAY_SIZE(tcpterm_hooks)
#define TCPTERM_NGATED	ARRAY_SIZE(tcpterm_gated_hooks)

/*
 * A hook's filter is set once, at load, and freed once, at unload; in
 * between the gate may register and unregister the ops many times (6.1's
 * ftrace_free_filter() leaves the ops pointing at the hashes it freed,
 * so a filter must not be freed and set again on the same ops).
 */
static int tcpterm_hook_prepare(struct tcpterm_hook *h)
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
	if (err)
		pr_err("cannot hook %s: not a traceable function here (%d)\n",
		       h->name, err);
	return err;
}

static int tcpterm_hook_attach(struct tcpterm_hook *h)
{
	int err;

	/* An ops that failed to unregister may still be listed. */
	if (h->stuck)
		return -EBUSY;
	err = register_ftrace_function(&h->ops);
	if (err == -EBUSY)
		pr_err("cannot hook %s: kernel.ftrace_enabled is 0, or another IPMODIFY user (livepatch?) owns it\n",
		       h->name);
	else if (err)
		pr_err("cannot hook %s (%d)\n", h->name, err);
	return err;
}

static void tcpterm_hook_detach(struct tcpterm_hook *h)
{
	int err = unregister_ftrace_function(&h->ops);

	if (err) {
		pr_err("cannot unhook %s (%d)\n", h->name, err);
		h->stuck = true;
	}
}

static void tcpterm_hook_release(struct tcpterm_hook *h)
{
	if (!h->stuck)
		ftrace_free_filter(&h->ops);
}

/* @undo on each of the first @n hooks, last first. */
static void tcpterm_hooks_undo(struct tcpterm_hook *h, int n,
			       void (*undo)(struct tcpterm_hook *h))
{
	while (n--)
		undo(&h[n]);
}

/* @step on each of @n hooks, in order; on a failure @undo the done ones. */
static int tcpterm_hooks_all(struct tcpterm_hook *h, int n,
			     int (*step)(struct tcpterm_hook *h),
			     void (*undo)(struct tcpterm_hook *h))
{
	int i, err;

	for (i = 0; i < n; i++) {
		err = step(&h[i]);
		if (err) {
			tcpterm_hooks_undo(h, i, undo);
			return err;
		}
	}
	return 0;
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
		if (!ret && len)
			ret = tcpterm_notice_eof_error(sk);
	}
	module_put(THIS_MODULE);
	return ret;
}

/*
 * Writes of the same sockets: once the peer's notice arrived, nothing is
 * queued.  A write that blocks holds a module reference, as a read does;
 * one that comes in during unload does not block.
 */
static int tcpterm_prot_sendmsg(struct sock *sk, struct msghdr *msg,
				size_t len)
{
	struct proto *base = tcpterm_prot_base(sk);
	int ret;

	if (!try_module_get(THIS_MODULE)) {
		tcpterm_inflight_get();
		msg->msg_flags |= MSG_DONTWAIT;
		ret = base->sendmsg(sk, msg, len);
		tcpterm_redirect_done();
		return ret;
	}
	ret = tcpterm_notice_send_error(sk);
	if (!ret)
		ret = base->sendmsg(sk, msg, len);
	module_put(THIS_MODULE);
	return ret;
}

/*
 * close(): the policy accounts for what the stock close is about to do,
 * or DRAIN (or a grace) keeps the socket.  A socket in repair mode is
 * being checkpointed, not ended: the stock close.
 */
static bool tcpterm_on_close(struct sock *sk, long timeout)
{
	struct tcpterm_sock *ts;

	/* The entry lives until the socket's destroy op: no RCU needed. */
	rcu_read_lock();
	ts = tcpterm_sock_lookup(sk);
	rcu_read_unlock();
	if (!ts || tcp_sk(sk)->repair)
		return false;
	/* A notice makes it a DRAIN close: no HALF_DUPLEX RST. */
	if (!tcpterm_notice_closing(sk, ts))
		tcpterm_policy_close(sk, ts);
	return tcpterm_drain_close(sk, ts, timeout);
}

static void tcpterm_prot_close(struct sock *sk, long timeout)
{
	struct proto *base = tcpterm_prot_base(sk);

	tcpterm_inflight_get();
	if (!tcpterm_on_close(sk, timeout))
		base->close(sk, timeout);
	tcpterm_redirect_done();
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

static const struct tcpterm_prot_hooks tcpterm_prot_hooks = {
	.close		= tcpterm_prot_close,
	.shutdown	= tcpterm_prot_shutdown,
	.destroy	= tcpterm_prot_destroy,
	.recvmsg	= tcpterm_prot_recvmsg,
	.sendmsg	= tcpterm_prot_sendmsg,
	.data_ready	= tcpterm_data_ready,
	.state_change	= tcpterm_state_change,
};

static struct tracepoint *tcpterm_tp_state;

static void tcpterm_tp_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "inet_sock_set_state"))
		*(struct tracepoint **)priv = tp;
}

/*
 * Every TCP state change.  A crossing is a state change (FIN_WAIT1 ->
 * CLOSING), seen for every socket; the rest only for sockets with
 * tcpterm's ops, one pointer comparison for the others.  CLOSE ->
 * SYN_SENT is connect() (inet_stream_connect() holds the socket lock):
 * where a namespace gives new connections anything, a socket without
 * tcpterm's ops gets it there.
 */
static void tcpterm_tp_state_probe(void *data, const struct sock *sk,
				   const int oldstate, const int newstate)
{
	bool owned = tcpterm_prot_owns(sk);

	tcpterm_crossing_state(sk, oldstate, newstate, owned);
	if (owned)
		tcpterm_drain_state(sk, oldstate, newstate);
	else if (tcpterm_ns_any() && oldstate == TCP_CLOSE &&
		 newstate == TCP_SYN_SENT)
		tcpterm_sockopt_new_conn((struct sock *)sk);
	else if (tcpterm_ns_any() && oldstate == TCP_CLOSE &&
		 newstate == TCP_LISTEN)
		tcpterm_notice_listen((struct sock *)sk);
}

TCPTERM_ASSERT_TYPE(register_trace_inet_sock_set_state,
		    int (*)(typeof(tcpterm_tp_state_probe) *, void *));

static int tcpterm_tp_register(void)
{
	int err;

	/* Looked up once: the gate attaches it again and again. */
	if (!tcpterm_tp_state)
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

/*
 * After every socket got its stock ops and callbacks back: wait for the
 * calls that had already loaded tcpterm's.  A task between loading a
 * pointer and counting itself in has not scheduled voluntarily since
 * (RCU tasks); one counted in is waited for; one between counting itself
 * out and its return instruction is covered by RCU tasks again.
 */
static void tcpterm_hooks_wait(void)
{
	synchronize_rcu_tasks();
	wait_var_event(&tcpterm_inflight, !atomic_read(&tcpterm_inflight));
	synchronize_rcu_tasks();
}

/* Attach the hooks on shared paths: the gate opens (gate.c). */
static int tcpterm_gate_open_hooks(void)
{
	int err;

	err = tcpterm_tp_register();
	if (err)
		return err;
	err = tcpterm_hooks_all(tcpterm_gated_hooks, TCPTERM_NGATED,
				tcpterm_hook_attach, tcpterm_hook_detach);
	if (err)
		tcpterm_tp_unregister();
	return err;
}

/*
 * The gate closes: nothing is tracked (a listener's child would be
 * cloned from an untracked listener) and no namespace gives anything.
 * Unregistering waits for callbacks in flight.
 */
static void tcpterm_gate_close_hooks(void)
{
	tcpterm_notice_disable();
	tcpterm_hooks_undo(tcpterm_gated_hooks, TCPTERM_NGATED,
			   tcpterm_hook_detach);
	tcpterm_tp_unregister();
}

static const struct tcpterm_gate_ops tcpterm_gate_hooks = {
	.open	= tcpterm_gate_open_hooks,
	.close	= tcpterm_gate_close_hooks,
};

static int tcpterm_notice_open_hook(void)
{
	return tcpterm_hook_attach(&tcpterm_notice_hook);
}

static void tcpterm_notice_close_hook(void)
{
	tcpterm_hook_detach(&tcpterm_notice_hook);
}

static const struct tcpterm_gate_ops tcpterm_notice_hooks = {
	.open	= tcpterm_notice_open_hook,
	.close	= tcpterm_notice_close_hook,
};

/*
 * A kernel without cgroup BPF has no such function, and a hook that
 * cannot be set is no reason to refuse the rest: no notices then.
 */
static void tcpterm_notice_prepare(void)
{
	if (!IS_ENABLED(CONFIG_CGROUP_BPF))
		return;
	if (tcpterm_hook_prepare(&tcpterm_notice_hook)) {
		pr_warn("no closing notices: TCPTERM_NOTICE fails with EOPNOTSUPP\n");
		tcpterm_notice_hook.stuck = true;
		return;
	}
	tcpterm_notice_attach(&tcpterm_notice_hooks);
}

static void tcpterm_notice_unprepare(void)
{
	if (IS_ENABLED(CONFIG_CGROUP_BPF) && !tcpterm_notice_hook.stuck)
		tcpterm_hook_release(&tcpterm_notice_hook);
}

int tcpterm_hooks_init(void)
{
	int err;

	tcpterm_prot_init(&tcpterm_prot_hooks);
	tcpterm_notice_prepare();
	err = tcpterm_hooks_all(tcpterm_gated_hooks, TCPTERM_NGATED,
				tcpterm_hook_prepare, tcpterm_hook_release);
	if (err)
		goto err_notice;
	err = tcpterm_hooks_all(tcpterm_hooks, TCPTERM_NHOOKS,
				tcpterm_hook_prepare, tcpterm_hook_release);
	if (err)
		goto err_gated;
	err = tcpterm_gate_attach(&tcpterm_gate_hooks);
	if (err)
		goto err_hooks;
	/*
	 * The option calls last: the only way in for a socket.  A failed
	 * init unwinds before any socket could have taken tcpterm's ops.
	 */
	err = tcpterm_hooks_all(tcpterm_hooks, TCPTERM_NHOOKS,
				tcpterm_hook_attach, tcpterm_hook_detach);
	if (err)
		goto err_gate;
	return 0;

err_gate:
	tcpterm_gate_detach();
	tcpterm_hooks_wait();
err_hooks:
	tcpterm_hooks_undo(tcpterm_hooks, TCPTERM_NHOOKS, tcpterm_hook_release);
err_gated:
	tcpterm_hooks_undo(tcpterm_gated_hooks, TCPTERM_NGATED,
			   tcpterm_hook_release);
err_notice:
	tcpterm_notice_unprepare();
	return err;
}

static void tcpterm_release_one(struct sock *sk, struct tcpterm_sock *ts)
{
	if (ts->ext)
		tcpterm_unwatch(sk, ts);
	tcpterm_notice_release(sk, ts);
	tcpterm_prot_detach(sk);
}

/*
 * Unload.  Held sockets and deadlines go first (drain.c hands each held
 * socket to tcp_close()).  Every socket then gets its stock ops and
 * callbacks back, once before the hooks go (so that no listener clones
 * tcpterm's ops into a child the inherit hooks would no longer see: a
 * clone in flight ends within an RCU grace period) and once after (for
 * sockets tracked meanwhile).  Last, calls still inside tcpterm end.
 */
void tcpterm_hooks_exit(void)
{
	tcpterm_drain_stop();
	tcpterm_sock_for_each(tcpterm_release_one);
	synchronize_rcu();
	tcpterm_hooks_undo(tcpterm_hooks, TCPTERM_NHOOKS, tcpterm_hook_detach);
	/* A setsockopt already redirected attaches nothing after this. */
	tcpterm_sockopt_stop();
	tcpterm_gate_detach();
	tcpterm_sock_for_each(tcpterm_release_one);
	tcpterm_hooks_wait();
	tcpterm_hooks_undo(tcpterm_hooks, TCPTERM_NHOOKS, tcpterm_hook_release);
	tcpterm_hooks_undo(tcpterm_gated_hooks, TCPTERM_NGATED,
			   tcpterm_hook_release);
	tcpterm_notice_unprepare();
}
