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
 * Layout: hooks.c attaches to the stack (per-socket protocol ops and
 * callbacks for sockets with a policy, ftrace by symbol name off the
 * data path, one tracepoint; no patched kernel), sock.c keeps per-socket state outside
 * struct sock, policy.c implements the policies and the socket option,
 * drain.c runs the DRAIN policy and the deadlines that bound a
 * termination, crossing.c detects crossings, netlink.c keeps per-netns
 * counters and sends events.  Version differences live in compat.h.
 */
#include <linux/module.h>

#include "drain.h"
#include "hooks.h"
#include "netlink.h"
#include "policy.h"
#include "sock.h"

static int __init tcpterm_init(void)
{
	int err;

	err = tcpterm_sock_init();
	if (err)
		return err;
	err = tcpterm_netlink_init();
	if (err)
		goto err_sock;
	err = tcpterm_policy_init();
	if (err)
		goto err_netlink;
	err = tcpterm_drain_init();
	if (err)
		goto err_policy;
	err = tcpterm_hooks_init();
	if (err)
		goto err_drain;

	pr_info("loaded\n");
	return 0;

err_drain:
	tcpterm_drain_exit();
err_policy:
	tcpterm_policy_exit();
err_netlink:
	tcpterm_netlink_exit();
err_sock:
	tcpterm_sock_exit();
	return err;
}

/*
 * Held sockets and deadlines go first (they may still make entries
 * busy).  Every socket then gets its stock ops and callbacks back, once
 * before the hooks go (so that no listener clones tcpterm's ops into a
 * child the inherit hooks would no longer see: a clone in flight ends
 * within an RCU grace period) and once after (for sockets tracked
 * meanwhile).  Calls still inside tcpterm end; pending aborts finish;
 * then the rest, in the reverse order of init.
 */
static void __exit tcpterm_exit(void)
{
	tcpterm_drain_exit();
	tcpterm_sock_release_all();
	synchronize_rcu();
	tcpterm_hooks_exit();
	tcpterm_sock_release_all();
	tcpterm_hooks_wait();
	tcpterm_policy_exit();
	tcpterm_netlink_exit();
	tcpterm_sock_exit();
	pr_info("unloaded\n");
}

module_init(tcpterm_init);
module_exit(tcpterm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-socket TCP termination policies");
MODULE_AUTHOR("The tcpterm developers");
MODULE_VERSION(TCPTERM_VERSION);
