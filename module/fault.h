/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the tests, in a build made with
 * TCPTERM_FAULT_INJECT=1 only (make check builds the debug kernel's
 * module so): the module parameter fail_abort_allocs makes that many of
 * the next allocations of a HALF_DUPLEX abort fail, so that the
 * selftests can drive the paths that follow.  A release build has no
 * such parameter and the checks below are constant false.
 */
#ifndef _TCPTERM_FAULT_H
#define _TCPTERM_FAULT_H

#include <linux/types.h>

#ifdef TCPTERM_FAULT_INJECT
bool tcpterm_fail_abort_alloc(void);
#else
static inline bool tcpterm_fail_abort_alloc(void)
{
	return false;
}
#endif

#endif /* _TCPTERM_FAULT_H */
