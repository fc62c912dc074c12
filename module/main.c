// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm: per-socket TCP termination policies, and a report to the
 * application of how its connection really ended.
 *
 * The model.  A TCP connection ends either with a FIN in each direction
 * or with an RST (RFC 9293 3.6).  Stock Linux chooses between them by
 * fixed rules; tcpterm lets each socket choose a policy
 * (uapi/linux/tcpterm.h) and watches every connection for the one ending
 * TCP cannot make reliable: two FINs that cross.
 *
 * Layers, each file calling only into the ones below it (checked by
 * scripts/layers.sh in make check; options.h and compat.h are tables
 * and shims every layer may use):
 *
 *   main.c                     init and exit, wiring the callbacks below
 *   hooks.c                    how tcpterm gets into the stack: ftrace by
 *                              symbol name off the data path, one
 *                              tracepoint, the per-socket ops and
 *                              callbacks; no patched kernel
 *   sockopt.c                  the SOL_TCPTERM options (options.h),
 *                              and what a namespace gives a new
 *                              connection that set none
 *   policy.c drain.c crossing.c
 *                              HALF_DUPLEX; DRAIN and the deadlines;
 *                              FIN crossings
 *   notice.c                   the closing notice: a TCP option
 *                              between two tcpterm hosts
 *   prot.c tcphelp.c           installing per-socket ops and callbacks;
 *                              what the policies ask of TCP
 *   ns.c                       per-namespace defaults (net.tcpterm.*
 *                              sysctls) and rules, the socket dump
 *   sock.c                     per-socket state outside struct sock
 *   netlink.c                  per-netns counters, events
 *   gate.c                     who needs the hooks on shared paths:
 *                              attached only while someone does
 *
 * A lower layer that must reach a higher one gets a callback at init
 * (the store's tcpterm_sock_ops, prot.c's tcpterm_prot_hooks, the
 * namespaces' notice wiring).  Version
 * differences live in compat.h.
 */
#include <linux/module.h>

#include "drain.h"
#include "gate.h"
#include "hooks.h"
#include "netlink.h"
#include "notice.h"
#include "ns.h"
#include "policy.h"
#include "sock.h"

static int tcpterm_store_init(void)
{
	return tcpterm_sock_init(&tcpterm_drain_sock_ops);
}

static int tcpterm_ns_part_init(void)
{
	tcpterm_ns_notice_wiring(tcpterm_notice_enable);
	return tcpterm_ns_init();
}

/*
 * The parts, bottom up.  Exit, and the unwind of a failed init, undo
 * them top down with the same loop: the hook layer goes first and takes
 * every socket's ops and callbacks back, so nothing below it is called
 * any more.
 */
static const struct {
	int (*init)(void);
	void (*exit)(void);
} tcpterm_parts[] = {
	{ tcpterm_gate_init,		tcpterm_gate_exit },
	{ tcpterm_store_init,		tcpterm_sock_exit },
	{ tcpterm_netlink_init,		tcpterm_netlink_exit },
	{ tcpterm_ns_part_init,		tcpterm_ns_exit },
	{ tcpterm_policy_init,		tcpterm_policy_exit },
	{ tcpterm_drain_init,		tcpterm_drain_exit },
	{ tcpterm_hooks_init,		tcpterm_hooks_exit },
};

/* Undo the first @n parts, last first. */
static void tcpterm_undo(unsigned int n)
{
	while (n--)
		tcpterm_parts[n].exit();
}

static int __init tcpterm_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(tcpterm_parts); i++) {
		err = tcpterm_parts[i].init();
		if (err) {
			tcpterm_undo(i);
			return err;
		}
	}
	pr_info("loaded\n");
	return 0;
}

static void __exit tcpterm_exit(void)
{
	tcpterm_undo(ARRAY_SIZE(tcpterm_parts));
	pr_info("unloaded\n");
}

module_init(tcpterm_init);
module_exit(tcpterm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-socket TCP termination policies");
MODULE_AUTHOR("The tcpterm developers");
MODULE_VERSION(TCPTERM_VERSION);
