/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_SOCK_H
#define _TCPTERM_SOCK_H

#include <linux/list.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/tcpterm.h>

struct sock;

/* Per-socket settings (options.h); a child copies its listener's. */
struct tcpterm_params {
	u32			policy;
	u32			crossing_error;
	u32			drain_time_ms;
	u32			drain_idle_ms;
	u32			grace_ms;
	u32			notice;
};

extern const struct tcpterm_params tcpterm_default_params;

u32 tcpterm_param_get(const struct tcpterm_params *p, int optname);
void tcpterm_param_set(struct tcpterm_params *p, int optname, u32 val);

struct tcpterm_abort_work;

/*
 * What a policy needs once it acts (shutdown(SHUT_RD), our FIN, close):
 * the socket's own callbacks, the HALF_DUPLEX abort, the deadline work.
 * Allocated then, not when the socket opts in; freed with its entry.
 * The dl_ fields are guarded by the armed list's lock (drain.c), the
 * rest by the socket lock.
 */
struct tcpterm_ext {
	struct tcpterm_sock	*ts;
	/* The socket's callbacks before tcpterm_watch(); callback lock. */
	void			(*saved_data_ready)(struct sock *sk);
	void			(*saved_state_change)(struct sock *sk);
	struct tcpterm_abort_work *abort_work;	/* policy.c */

	struct delayed_work	dl_work;
	struct list_head	dl_node;	/* on the armed list */
	unsigned long		dl_at;		/* jiffies the work is due */
	unsigned int		dl_runs;	/* of dl_work, queued or running */
	bool			dl_dead;	/* socket destroyed */
	bool			dl_unload;	/* in unload's hands */
	bool			held;		/* closed, kept by tcpterm */
	bool			drain;		/* held as DRAIN: the policy,
						 * or a notice sent
						 */
	bool			draining;	/* input discarded after close */
	bool			fin_queued;
	bool			rd_shut;	/* the owner's SHUT_RD */
	u32			rcv_seen;	/* rcv_nxt last looked at */
	u32			una_seen;	/* snd_una last looked at */
	unsigned long		close_at;	/* jiffies */
	unsigned long		last_rx;	/* jiffies */
	unsigned long		fin_at;		/* jiffies */
	unsigned long		progress_at;	/* jiffies: snd_una moved */
};

/*
 * What tcpterm knows about one socket that opted in: at most 128 bytes
 * until its policy acts.  Found by socket address in an RCU hash table;
 * freed when the kernel destroys the socket (its destroy op) or when the
 * module goes away, unless a deadline is armed: then the deadline work
 * frees it (drain.c).  Fields below @lock are written under it.
 */
struct tcpterm_sock {
	struct rhash_head	node;
	struct sock		*sk;		/* key */
	u64			cookie;		/* identity: sk's cookie */
	struct rcu_head		rcu;
	struct tcpterm_params	p;		/* READ_ONCE/WRITE_ONCE */
	struct tcpterm_ext	*ext;		/* socket lock; NULL until used */

	spinlock_t		lock;		/* guards the fields below */
	u8			rst_reason;
	bool			peer_rst;
	bool			peer_fin;	/* recorded before a disconnect */
	bool			abort_pending;
	u32			flags;		/* TCPTERM_F_* */
	u32			notice_seq;	/* socket lock: what we read */
	u64			bytes_discarded;
	u64			rst_time_ns;
	u64			crossed_time_ns;
	u8			notice_own;	/* socket lock (notice.c) */
};

/*
 * What the store calls back into, so that it needs to know nothing of
 * the layers above it (main.c wires them): @ext_init prepares a new
 * struct tcpterm_ext, @take is offered an entry whose socket is being
 * destroyed and keeps it (true) if something still refers to it.
 */
struct tcpterm_sock_ops {
	void (*ext_init)(struct tcpterm_ext *ext);
	bool (*take)(struct tcpterm_sock *ts);
};

int tcpterm_sock_init(const struct tcpterm_sock_ops *ops);
void tcpterm_sock_exit(void);

bool tcpterm_sock_any(void);
struct tcpterm_sock *tcpterm_sock_lookup(const struct sock *sk);
struct tcpterm_sock *tcpterm_sock_get(struct sock *sk, gfp_t gfp,
				      const struct tcpterm_params *init);
struct tcpterm_sock *tcpterm_sock_clone(struct sock *listener,
					struct sock *child);
void tcpterm_sock_destroy(struct sock *sk);
void tcpterm_sock_free(struct tcpterm_sock *ts);
struct tcpterm_ext *tcpterm_sock_ext(struct tcpterm_sock *ts, gfp_t gfp);
void tcpterm_sock_count_discard(struct sock *sk, struct tcpterm_sock *ts,
				u32 bytes);
void tcpterm_sock_for_each(void (*fn)(struct sock *sk,
				      struct tcpterm_sock *ts));
int tcpterm_sock_walk(int (*fn)(struct sock *sk, struct tcpterm_sock *ts,
				void *arg), void *arg);

/*
 * Does @ts need tcpterm's reads and writes (the second copy of the ops,
 * prot.c): a crossing error to report, or notices agreed on with the
 * peer (a connection whose peer did not agree pays nothing per call)?
 */
static inline bool tcpterm_sock_io(const struct tcpterm_sock *ts)
{
	return READ_ONCE(ts->p.crossing_error) ||
	       (READ_ONCE(ts->flags) & TCPTERM_F_NOTICE_OK);
}

struct tcpterm_sock_iter;
struct tcpterm_sock_iter *tcpterm_sock_iter_new(void);
void tcpterm_sock_iter_free(struct tcpterm_sock_iter *it);
int tcpterm_sock_iter_run(struct tcpterm_sock_iter *it,
			  int (*fn)(struct sock *sk, struct tcpterm_sock *ts,
				    void *arg), void *arg);

#endif /* _TCPTERM_SOCK_H */
