/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included into every tcpterm object (see Kbuild): all differences
 * between supported kernels live here, so the .c files carry no version
 * tests.
 */
#ifndef _TCPTERM_COMPAT_H
#define _TCPTERM_COMPAT_H

/* The supported range is checked once, in module/Kbuild. */

#include <linux/ftrace.h>

/*
 * struct ftrace_regs is opaque from 6.13 (and late 6.12.y); every
 * supported kernel has ftrace_get_regs(), which is all the hooks use.
 */
static inline struct pt_regs *tcpterm_ftrace_regs(struct ftrace_regs *fregs)
{
	return ftrace_get_regs(fregs);
}

/*
 * Argument @n of a traced function, for callbacks registered without
 * FTRACE_OPS_FL_SAVE_REGS: x86_64 saves the argument registers for every
 * callback (DYNAMIC_FTRACE_WITH_ARGS).  The accessor came with 6.6's
 * ftrace_regs.h; before it, struct ftrace_regs is a struct pt_regs.
 */
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#error "the ftrace observers need HAVE_DYNAMIC_FTRACE_WITH_ARGS (x86_64 has it)"
#endif
#ifdef TCPTERM_HAVE_FTRACE_REGS_GET_ARGUMENT
#define tcpterm_ftrace_arg(fregs, n)	ftrace_regs_get_argument(fregs, n)
#else
#define tcpterm_ftrace_arg(fregs, n)	\
	regs_get_kernel_argument(&(fregs)->regs, n)
#endif

/*
 * tcp_recvmsg() lost its addr_len argument (a feature probe in Kbuild
 * tells which one the target has); its flags stay the fourth argument.
 */
#ifdef TCPTERM_HAVE_RECVMSG_ADDR_LEN
#define TCPTERM_RECVMSG_PARAMS	struct sock *sk, struct msghdr *msg,	\
				size_t len, int flags, int *addr_len
#define tcpterm_proto_recvmsg(prot, sk, msg, len, flags, addr_len)	\
	((prot)->recvmsg(sk, msg, len, flags, addr_len))
#else
#define TCPTERM_RECVMSG_PARAMS	struct sock *sk, struct msghdr *msg,	\
				size_t len, int flags
#define tcpterm_proto_recvmsg(prot, sk, msg, len, flags, addr_len)	\
	((prot)->recvmsg(sk, msg, len, flags))
#endif

/*
 * sockmap takes a socket only through psock_update_sk_prot, which exists
 * with CONFIG_BPF_SYSCALL: without it there is nothing to refuse.
 */
#include <net/sock.h>

static inline void tcpterm_proto_refuse_sockmap(struct proto *prot)
{
#ifdef CONFIG_BPF_SYSCALL
	prot->psock_update_sk_prot = NULL;
#endif
}

/*
 * Sysctl handlers take a const table from 6.11, and tables are
 * registered with their size from 6.5 (a zeroed entry ends them
 * before).  Callers pass a table of @n entries plus a zeroed one.
 */
#include <net/net_namespace.h>

#ifdef TCPTERM_HAVE_CONST_CTL_TABLE
#define TCPTERM_CTL_TABLE	const struct ctl_table
#else
#define TCPTERM_CTL_TABLE	struct ctl_table
#endif

#ifdef TCPTERM_HAVE_REGISTER_NET_SYSCTL_SZ
#define tcpterm_register_net_sysctl(net, path, table, n)		\
	register_net_sysctl_sz(net, path, table, n)
#else
#define tcpterm_register_net_sysctl(net, path, table, n)		\
	register_net_sysctl(net, path, table)
#endif

#endif /* _TCPTERM_COMPAT_H */
