// SPDX-License-Identifier: GPL-2.0
/*
 * The gate: tcpterm's hooks on paths every TCP socket takes (a child
 * meeting its listener, a reset, every state change) are attached only
 * while something can use them, so that a host with tcpterm loaded and
 * no policy anywhere runs the stock stack, not a stack with callbacks
 * that return at once.
 *
 * Users hold the gate open:
 *  - every socket entry (sock.c), from its creation to its free;
 *  - every namespace with rules, defaults or watch_all set (ns.c);
 *  - a setsockopt(SOL_TCPTERM) while it runs (sockopt.c): the only way
 *    the first user of an idle host comes in.
 *
 * The first user opens the gate in process context: tcpterm_gate_get()
 * attaches the hooks (may sleep, may fail).  Everything else that
 * becomes a user does so while another user holds the gate, without
 * sleeping: a child while its listener is tracked, a connection of a
 * namespace with rules while the namespace is active.  tcpterm_gate_tryget()
 * says no when nobody holds it.  The last user leaving closes the gate
 * tcpterm_gate_linger_ms later, from a work item, so that a program
 * opening and closing one policied socket in a loop does not attach and
 * detach hooks (kernel text patching) at every turn.
 *
 * The count moves from zero to one only under the mutex, after the
 * hooks are attached; the work detaches them only under the mutex and
 * with the count at zero.  So the hooks are attached whenever the count
 * is above zero.
 */
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "gate.h"

/* How long the hooks stay after the last user left. */
static const unsigned int tcpterm_gate_linger_ms = 1000;

static atomic_t tcpterm_gate_users = ATOMIC_INIT(0);
static DEFINE_MUTEX(tcpterm_gate_lock);
/* Under tcpterm_gate_lock. */
static const struct tcpterm_gate_ops *tcpterm_gate_ops;
static bool tcpterm_gate_open;
static bool tcpterm_gate_gone;		/* the hook layer went */

/*
 * Attach the hooks, if the hook layer is there (before it came, the
 * count alone is kept: tcpterm_gate_attach() opens).  Gate lock held.
 */
static int tcpterm_gate_do_open(void)
{
	int err;

	if (tcpterm_gate_gone)
		return -ENODEV;
	if (tcpterm_gate_open || !tcpterm_gate_ops)
		return 0;
	err = tcpterm_gate_ops->open();
	if (!err)
		tcpterm_gate_open = true;
	return err;
}

static void tcpterm_gate_do_close(void)
{
	if (!tcpterm_gate_open)
		return;
	tcpterm_gate_ops->close();
	tcpterm_gate_open = false;
}

static void tcpterm_gate_linger_end(struct work_struct *work)
{
	mutex_lock(&tcpterm_gate_lock);
	if (!atomic_read(&tcpterm_gate_users))
		tcpterm_gate_do_close();
	mutex_unlock(&tcpterm_gate_lock);
}

static DECLARE_DELAYED_WORK(tcpterm_gate_work, tcpterm_gate_linger_end);

/* Become a user, opening the gate if needed.  Process context. */
int tcpterm_gate_get(void)
{
	int err;

	might_sleep();
	if (atomic_inc_not_zero(&tcpterm_gate_users))
		return 0;
	mutex_lock(&tcpterm_gate_lock);
	err = tcpterm_gate_do_open();
	if (!err)
		atomic_inc(&tcpterm_gate_users);
	mutex_unlock(&tcpterm_gate_lock);
	return err;
}

/* Become a user if somebody else is one.  Any context. */
bool tcpterm_gate_tryget(void)
{
	return atomic_inc_not_zero(&tcpterm_gate_users);
}

/* Any context. */
void tcpterm_gate_put(void)
{
	/* Detaching waits for RCU-tasks grace periods: a long work item. */
	if (atomic_dec_and_test(&tcpterm_gate_users))
		mod_delayed_work(system_long_wq, &tcpterm_gate_work,
				 msecs_to_jiffies(tcpterm_gate_linger_ms));
}

/*
 * The hook layer is ready: open the gate if it has users already (a
 * namespace set a sysctl while the module was loading).
 */
int tcpterm_gate_attach(const struct tcpterm_gate_ops *ops)
{
	int err = 0;

	mutex_lock(&tcpterm_gate_lock);
	tcpterm_gate_ops = ops;
	if (atomic_read(&tcpterm_gate_users))
		err = tcpterm_gate_do_open();
	if (err)
		tcpterm_gate_ops = NULL;
	mutex_unlock(&tcpterm_gate_lock);
	return err;
}

/* The hook layer goes: its hooks first, users or not. */
void tcpterm_gate_detach(void)
{
	mutex_lock(&tcpterm_gate_lock);
	tcpterm_gate_do_close();
	tcpterm_gate_ops = NULL;
	tcpterm_gate_gone = true;
	mutex_unlock(&tcpterm_gate_lock);
}

int tcpterm_gate_init(void)
{
	return 0;
}

/* Every user is gone by now: their layers went first. */
void tcpterm_gate_exit(void)
{
	cancel_delayed_work_sync(&tcpterm_gate_work);
	WARN_ON_ONCE(atomic_read(&tcpterm_gate_users));
	WARN_ON_ONCE(tcpterm_gate_open);
}
