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

#endif /* _TCPTERM_COMPAT_H */
