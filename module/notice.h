/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_NOTICE_H
#define _TCPTERM_NOTICE_H

#include <linux/errno.h>
#include <linux/kconfig.h>
#include <linux/types.h>

struct bpf_sock_ops_kern;
struct sock;
struct tcpterm_gate_ops;
struct tcpterm_sock;

/* tcpterm_sock.notice_own: what tcpterm changed on the socket */
#define TCPTERM_NOTICE_OWN_WRITE	0x1	/* set WRITE_HDR_OPT_CB_FLAG */
#define TCPTERM_NOTICE_OWN_PARSE	0x2	/* set PARSE_UNKNOWN_..._FLAG */
#define TCPTERM_NOTICE_OWN_SAVE_SYN	0x4	/* set save_syn (listener) */

#if IS_ENABLED(CONFIG_CGROUP_BPF)
int tcpterm_notice_enable(void);
void tcpterm_notice_disable(void);
void tcpterm_notice_attach(const struct tcpterm_gate_ops *ops);

void tcpterm_notice_start(struct sock *sk, struct tcpterm_sock *ts);
void tcpterm_notice_listen(struct sock *sk);
void tcpterm_notice_sock_ops(struct sock *sk, struct bpf_sock_ops_kern *ops);
bool tcpterm_notice_close(struct sock *sk, struct tcpterm_sock *ts);
bool tcpterm_notice_closing(const struct sock *sk,
			    const struct tcpterm_sock *ts);
void tcpterm_notice_child(struct sock *sk, struct tcpterm_sock *ts);
int tcpterm_notice_send_error(struct sock *sk);
int tcpterm_notice_eof_error(struct sock *sk);
void tcpterm_notice_release(struct sock *sk, struct tcpterm_sock *ts);
#else
/*
 * A kernel without cgroup BPF asks nobody for header options: no
 * notices.  Asking for them fails; nothing else changes.
 */
static inline int tcpterm_notice_enable(void)
{
	return -EOPNOTSUPP;
}

static inline void tcpterm_notice_disable(void) {}
static inline void tcpterm_notice_attach(const struct tcpterm_gate_ops *ops) {}
static inline void tcpterm_notice_start(struct sock *sk,
					struct tcpterm_sock *ts) {}
static inline void tcpterm_notice_listen(struct sock *sk) {}
static inline void tcpterm_notice_sock_ops(struct sock *sk,
					   struct bpf_sock_ops_kern *ops) {}

static inline bool tcpterm_notice_close(struct sock *sk,
					struct tcpterm_sock *ts)
{
	return false;
}

static inline bool tcpterm_notice_closing(const struct sock *sk,
					  const struct tcpterm_sock *ts)
{
	return false;
}

static inline void tcpterm_notice_child(struct sock *sk,
					struct tcpterm_sock *ts) {}

static inline int tcpterm_notice_send_error(struct sock *sk)
{
	return 0;
}

static inline int tcpterm_notice_eof_error(struct sock *sk)
{
	return 0;
}

static inline void tcpterm_notice_release(struct sock *sk,
					  struct tcpterm_sock *ts) {}
#endif

#endif /* _TCPTERM_NOTICE_H */
