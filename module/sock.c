// SPDX-License-Identifier: GPL-2.0
/*
 * Per-socket state.
 *
 * tcpterm keeps nothing inside struct sock: sk_user_data belongs to
 * sockmap and is copied to children, and a ULP would exclude kTLS and
 * MPTCP.  Instead an rhashtable maps a socket address to a small
 * struct tcpterm_sock, created on the first SOL_TCPTERM setsockopt or
 * when a child of a tracked listener is queued for accept().
 *
 * Socket addresses are reused, so an entry must die with its socket: a
 * tracked socket has tcpterm's protocol ops (prot.c), whose destroy op
 * removes it; ops and entry are made together and go together.
 * Beyond that, an entry is bound to its connection by the socket cookie
 * (made unique by the kernel, reset when the memory of a freed socket is
 * reused for a new one, SLAB_TYPESAFE_BY_RCU): a lookup that finds the
 * address of another connection finds nothing.  Lookups run under RCU
 * from any context; entries are freed after a grace period.
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <net/sock.h>

#include "gate.h"
#include "netlink.h"
#include "sock.h"

/* What an untracked socket reports, and where a tracked one starts. */
const struct tcpterm_params tcpterm_default_params = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users) .field = def,
#include "options.h"
#undef TCPTERM_OPTION
};

/*
 * Sockets tracked per network namespace, at most.  A socket over the
 * bound keeps the stock behaviour: its setsockopt fails with ENOBUFS, a
 * child is accepted untracked, and SocketsRefused counts it.
 */
static unsigned int max_sockets_per_netns = 1 << 20;
module_param(max_sockets_per_netns, uint, 0644);
MODULE_PARM_DESC(max_sockets_per_netns,
		 "sockets with a policy per network namespace (default 1048576)");

/* What a socket that opted in costs until its policy acts. */
#if !IS_ENABLED(CONFIG_DEBUG_SPINLOCK) && !IS_ENABLED(CONFIG_DEBUG_LOCK_ALLOC)
static_assert(sizeof(struct tcpterm_sock) <= 128);
#endif

static struct kmem_cache *tcpterm_sock_cache;
static struct kmem_cache *tcpterm_ext_cache;
static struct rhashtable tcpterm_socks;
static atomic_t tcpterm_nsocks = ATOMIC_INIT(0);
static const struct tcpterm_sock_ops *tcpterm_sock_cb;

static const struct rhashtable_params tcpterm_sock_params = {
	.key_len		= sizeof(struct sock *),
	.key_offset		= offsetof(struct tcpterm_sock, sk),
	.head_offset		= offsetof(struct tcpterm_sock, node),
	.automatic_shrinking	= true,
};

bool tcpterm_sock_any(void)
{
	return atomic_read(&tcpterm_nsocks) != 0;
}

/* Is @ts the entry of this connection, not of an earlier one at @sk? */
static bool tcpterm_sock_same(const struct tcpterm_sock *ts,
			      const struct sock *sk)
{
	return ts->cookie == (u64)atomic64_read(&sk->sk_cookie);
}

/* Caller holds rcu_read_lock() or otherwise keeps the socket alive. */
struct tcpterm_sock *tcpterm_sock_lookup(const struct sock *sk)
{
	struct tcpterm_sock *ts;

	if (!tcpterm_sock_any())
		return NULL;
	ts = rhashtable_lookup(&tcpterm_socks, &sk, tcpterm_sock_params);
	return ts && tcpterm_sock_same(ts, sk) ? ts : NULL;
}

static struct tcpterm_sock *tcpterm_sock_alloc(struct sock *sk, gfp_t gfp,
					       const struct tcpterm_params *init)
{
	struct tcpterm_sock *ts;
	u32 cookie[2];

	if (!tcpterm_net_charge(sock_net(sk), max_sockets_per_netns)) {
		tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_SOCKETS_REFUSED, 1);
		return ERR_PTR(-ENOBUFS);
	}
	ts = kmem_cache_zalloc(tcpterm_sock_cache, gfp);
	if (!ts) {
		tcpterm_net_uncharge(sock_net(sk));
		return ERR_PTR(-ENOMEM);
	}
	/* Gives @sk its cookie if it had none (ss and sock_diag do the same). */
	sock_diag_save_cookie(sk, cookie);
	ts->cookie = atomic64_read(&sk->sk_cookie);
	ts->sk = sk;
	ts->p = *init;
	spin_lock_init(&ts->lock);
	return ts;
}

/*
 * The part of @ts a policy needs once it acts; made on first use.
 * Socket locked (owner or bh), or not yet visible.
 */
struct tcpterm_ext *tcpterm_sock_ext(struct tcpterm_sock *ts, gfp_t gfp)
{
	struct tcpterm_ext *ext = ts->ext;

	if (ext)
		return ext;
	ext = kmem_cache_zalloc(tcpterm_ext_cache, gfp);
	if (!ext)
		return NULL;
	ext->ts = ts;
	tcpterm_sock_cb->ext_init(ext);
	WRITE_ONCE(ts->ext, ext);
	return ext;
}

/*
 * Take @ts, found at @sk's address, out of the table; false if someone
 * else did.  The gauge goes down in the namespace it went up in: @sk's,
 * when @ts is its own (same cookie, same socket, same namespace).  A
 * stale entry (another connection's, only possible if its end went
 * unseen) may belong to a namespace that is gone: it is not counted
 * down.
 */
static bool tcpterm_sock_unlink(struct sock *sk, struct tcpterm_sock *ts)
{
	if (rhashtable_remove_fast(&tcpterm_socks, &ts->node,
				   tcpterm_sock_params))
		return false;
	/* A gauge: per-cpu sums of +1 and -1 wrap back to the count. */
	if (tcpterm_sock_same(ts, sk)) {
		tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_TRACKED_SOCKETS,
				 (u64)-1);
		tcpterm_net_uncharge(sock_net(sk));
	}
	if (!tcpterm_sock_cb->take(ts))
		tcpterm_sock_free(ts);
	return true;
}

/*
 * Find or create the entry of @sk, a new one starting with the settings
 * @init: ERR_PTR(-ENOBUFS) over the namespace's bound, ERR_PTR(-ENOMEM)
 * when memory is short, ERR_PTR(-EAGAIN) when nobody holds the gate (the
 * caller must be a user, or act for one: a tracked listener, an active
 * namespace).
 */
struct tcpterm_sock *tcpterm_sock_get(struct sock *sk, gfp_t gfp,
				      const struct tcpterm_params *init)
{
	struct tcpterm_sock *ts, *old;

	rcu_read_lock();
	ts = rhashtable_lookup(&tcpterm_socks, &sk, tcpterm_sock_params);
	if (ts && !tcpterm_sock_same(ts, sk)) {
		/* Left by a connection whose end went unseen: not ours. */
		net_warn_ratelimited("stale entry of a recycled socket dropped\n");
		tcpterm_sock_unlink(sk, ts);
		ts = NULL;
	}
	rcu_read_unlock();
	if (ts)
		return ts;

	/* An entry holds the gate: its socket's hooks stay attached. */
	if (!tcpterm_gate_tryget())
		return ERR_PTR(-EAGAIN);
	ts = tcpterm_sock_alloc(sk, gfp, init);
	if (IS_ERR(ts)) {
		tcpterm_gate_put();
		return ts;
	}
	old = rhashtable_lookup_get_insert_fast(&tcpterm_socks, &ts->node,
						tcpterm_sock_params);
	if (old) {
		tcpterm_net_uncharge(sock_net(sk));
		kmem_cache_free(tcpterm_sock_cache, ts);
		tcpterm_gate_put();
		return IS_ERR(old) ? ERR_PTR(-ENOMEM) : old;
	}
	atomic_inc(&tcpterm_nsocks);
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_TRACKED_SOCKETS, 1);
	return ts;
}

/* Where each int option (options.h) lives in struct tcpterm_params. */
static const u8 tcpterm_param_offset[] = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users)			\
	[opt] = offsetof(struct tcpterm_params, field) + 1,
#include "options.h"
#undef TCPTERM_OPTION
};

/* The option's field in @p, or NULL (offsets are stored plus one). */
static u32 *tcpterm_param_field(const struct tcpterm_params *p, int optname)
{
	if (optname < 0 || optname >= ARRAY_SIZE(tcpterm_param_offset) ||
	    !tcpterm_param_offset[optname])
		return NULL;
	return (u32 *)((u8 *)p + tcpterm_param_offset[optname] - 1);
}

/* Option @optname of @p, read once; 0 for an unknown one. */
u32 tcpterm_param_get(const struct tcpterm_params *p, int optname)
{
	u32 *f = tcpterm_param_field(p, optname);

	return f ? READ_ONCE(*f) : 0;
}

/* Set option @optname of @p to @val, in range (sockopt.c checks). */
void tcpterm_param_set(struct tcpterm_params *p, int optname, u32 val)
{
	u32 *f = tcpterm_param_field(p, optname);

	if (f)
		WRITE_ONCE(*f, val);
}

static void tcpterm_params_copy(struct tcpterm_params *dst,
				const struct tcpterm_params *src)
{
	int opt;

	for (opt = 0; opt < ARRAY_SIZE(tcpterm_param_offset); opt++)
		tcpterm_param_set(dst, opt, tcpterm_param_get(src, opt));
}

/*
 * A child of @listener is queued (softirq): an entry for @child with the
 * listener's settings.  NULL if the listener has no entry, an ERR_PTR as
 * tcpterm_sock_get() when none could be made.
 */
struct tcpterm_sock *tcpterm_sock_clone(struct sock *listener,
					struct sock *child)
{
	struct tcpterm_params params;
	struct tcpterm_sock *parent, *ts;
	u8 own = 0;

	rcu_read_lock();
	parent = tcpterm_sock_lookup(listener);
	if (parent) {
		tcpterm_params_copy(&params, &parent->p);
		own = READ_ONCE(parent->notice_own);
	}
	rcu_read_unlock();
	if (!parent)
		return NULL;

	ts = tcpterm_sock_get(child, GFP_ATOMIC, &params);
	/* The child has its listener's socket fields, changed or not. */
	if (!IS_ERR(ts))
		ts->notice_own = own;
	return ts;
}

/* Input of @sk that its owner will never read was thrown away. */
void tcpterm_sock_count_discard(struct sock *sk, struct tcpterm_sock *ts,
				u32 bytes)
{
	if (!bytes)
		return;
	spin_lock_bh(&ts->lock);
	ts->bytes_discarded += bytes;
	spin_unlock_bh(&ts->lock);
	tcpterm_stat_add(sock_net(sk), TCPTERM_STAT_BYTES_DISCARDED, bytes);
}

static void tcpterm_sock_free_rcu(struct rcu_head *head)
{
	struct tcpterm_sock *ts = container_of(head, struct tcpterm_sock, rcu);

	if (ts->ext)
		kmem_cache_free(tcpterm_ext_cache, ts->ext);
	kmem_cache_free(tcpterm_sock_cache, ts);
}

void tcpterm_sock_free(struct tcpterm_sock *ts)
{
	atomic_dec(&tcpterm_nsocks);
	if (ts->ext)
		kfree(ts->ext->abort_work);
	call_rcu(&ts->rcu, tcpterm_sock_free_rcu);
	tcpterm_gate_put();
}

void tcpterm_sock_destroy(struct sock *sk)
{
	struct tcpterm_sock *ts;

	/* Whatever is stored at this address goes: ours, or stale. */
	if (!tcpterm_sock_any())
		return;
	rcu_read_lock();
	ts = rhashtable_lookup(&tcpterm_socks, &sk, tcpterm_sock_params);
	if (ts)
		tcpterm_sock_unlink(sk, ts);
	rcu_read_unlock();
}

/*
 * Charged to the memory cgroup of the task that asks (SLAB_ACCOUNT); a
 * child made in softirq is charged to none, as the socket itself.
 */
int tcpterm_sock_init(const struct tcpterm_sock_ops *ops)
{
	int err;

	tcpterm_sock_cb = ops;
	tcpterm_sock_cache = KMEM_CACHE(tcpterm_sock, SLAB_ACCOUNT);
	tcpterm_ext_cache = KMEM_CACHE(tcpterm_ext, SLAB_ACCOUNT);
	if (!tcpterm_sock_cache || !tcpterm_ext_cache) {
		err = -ENOMEM;
		goto err_cache;
	}
	err = rhashtable_init(&tcpterm_socks, &tcpterm_sock_params);
	if (err)
		goto err_cache;
	return 0;

err_cache:
	kmem_cache_destroy(tcpterm_ext_cache);
	kmem_cache_destroy(tcpterm_sock_cache);
	return err;
}

static void tcpterm_sock_free_one(void *ptr, void *arg)
{
	tcpterm_sock_free(ptr);
}

/*
 * @fn on @ts if its socket is alive and still its own (its memory may
 * already be another socket's: only a reference taken on a matching
 * cookie makes the socket ours).
 */
static int tcpterm_sock_visit(struct tcpterm_sock *ts,
			      int (*fn)(struct sock *sk,
					struct tcpterm_sock *ts, void *arg),
			      void *arg)
{
	struct sock *sk = ts->sk;
	int ret = 0;

	if (!refcount_inc_not_zero(&sk->sk_refcnt))
		return 0;
	if (tcpterm_sock_same(ts, sk))
		ret = fn(sk, ts, arg);
	sock_put(sk);
	return ret;
}

/* Entries a walk visits in one RCU read section before it may sleep. */
static const unsigned int tcpterm_walk_batch = 256;

/*
 * A walk in parts, one per netlink message: the iterator lives between
 * them, so a dump visits each entry once however many parts it takes.
 * The entry @fn refused last (its message was full) comes first in the
 * next part.  A resize of the table meanwhile may show entries twice.
 */
struct tcpterm_sock_iter {
	struct rhashtable_iter	iter;
	bool			again;	/* offer the current entry again */
};

struct tcpterm_sock_iter *tcpterm_sock_iter_new(void)
{
	struct tcpterm_sock_iter *it;

	it = kzalloc(sizeof(*it), GFP_KERNEL);
	if (it)
		rhashtable_walk_enter(&tcpterm_socks, &it->iter);
	return it;
}

void tcpterm_sock_iter_free(struct tcpterm_sock_iter *it)
{
	if (!it)
		return;
	rhashtable_walk_exit(&it->iter);
	kfree(it);
}

/*
 * @fn for each entry until it returns non-zero, which is returned; 0 at
 * the end.  Process context: every tcpterm_walk_batch entries the walk
 * leaves the RCU read side and may reschedule.
 */
int tcpterm_sock_iter_run(struct tcpterm_sock_iter *it,
			  int (*fn)(struct sock *sk, struct tcpterm_sock *ts,
				    void *arg), void *arg)
{
	struct rhashtable_iter *iter = &it->iter;
	struct tcpterm_sock *ts;
	unsigned int n = 0;
	int ret = 0;

	rhashtable_walk_start(iter);
	if (it->again)
		ts = rhashtable_walk_peek(iter);
	else
		ts = rhashtable_walk_next(iter);
	for (; ts; ts = rhashtable_walk_next(iter)) {
		if (IS_ERR(ts))
			continue;	/* -EAGAIN: resized, the walk goes on */
		ret = tcpterm_sock_visit(ts, fn, arg);
		if (ret)
			break;
		if (++n % tcpterm_walk_batch == 0) {
			rhashtable_walk_stop(iter);
			cond_resched();
			rhashtable_walk_start(iter);
		}
	}
	it->again = ret != 0;
	rhashtable_walk_stop(iter);
	return ret;
}

/*
 * @fn is called for each entry whose socket is alive, with a reference
 * held, in RCU read side (it must not sleep), until it returns non-zero,
 * which is returned.
 */
int tcpterm_sock_walk(int (*fn)(struct sock *sk, struct tcpterm_sock *ts,
				void *arg), void *arg)
{
	struct rhashtable_iter iter;
	struct tcpterm_sock *ts;
	int ret = 0;

	rhashtable_walk_enter(&tcpterm_socks, &iter);
	rhashtable_walk_start(&iter);
	while (!ret && (ts = rhashtable_walk_next(&iter))) {
		if (IS_ERR(ts))
			continue;
		ret = tcpterm_sock_visit(ts, fn, arg);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	return ret;
}

struct tcpterm_sock_fn {
	void (*fn)(struct sock *sk, struct tcpterm_sock *ts);
};

static int tcpterm_sock_call(struct sock *sk, struct tcpterm_sock *ts,
			     void *arg)
{
	const struct tcpterm_sock_fn *f = arg;

	f->fn(sk, ts);
	return 0;
}

/* Unload: @fn is called for each entry whose socket is alive. */
void tcpterm_sock_for_each(void (*fn)(struct sock *sk,
				      struct tcpterm_sock *ts))
{
	struct tcpterm_sock_fn f = { fn };

	tcpterm_sock_walk(tcpterm_sock_call, &f);
}

/* Hooks, ops and deadlines are gone: nothing looks entries up any more. */
void tcpterm_sock_exit(void)
{
	rhashtable_free_and_destroy(&tcpterm_socks, tcpterm_sock_free_one,
				    NULL);
	rcu_barrier();
	WARN_ON_ONCE(atomic_read(&tcpterm_nsocks));
	kmem_cache_destroy(tcpterm_ext_cache);
	kmem_cache_destroy(tcpterm_sock_cache);
}
