/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every int option at SOL_TCPTERM, written down once.  A row:
 *
 *   TCPTERM_OPTION(optname, field, min, max, default, users)
 *
 * field	its member of struct tcpterm_params (sock.h), a u32
 * min, max	what setsockopt() accepts; anything else is EINVAL
 * default	what a socket that never set it reports, and starts with
 * users	the policies that read it ("any": whatever the policy)
 *
 * The socket's owner may set each of them; none needs a capability.
 * Whoever includes this file defines TCPTERM_OPTION first, to make of
 * each row what it needs: setsockopt() and getsockopt() (sockopt.c),
 * the defaults and a child's copy of its listener's settings (sock.c),
 * the fuzz test (selftests).  scripts/options.sh checks the man page
 * against it.  Plain C on uapi constants, no include guard.
 */
TCPTERM_OPTION(TCPTERM_POLICY, policy, 0, __TCPTERM_POLICY_MAX - 1,
	       TCPTERM_POLICY_DEFAULT, "any")
TCPTERM_OPTION(TCPTERM_CROSSING_ERROR, crossing_error, 0, 1, 0, "any")
TCPTERM_OPTION(TCPTERM_DRAIN_TIME_MS, drain_time_ms, 1, TCPTERM_MS_MAX,
	       TCPTERM_DRAIN_TIME_DEFAULT_MS, "drain")
TCPTERM_OPTION(TCPTERM_DRAIN_IDLE_MS, drain_idle_ms, 1, TCPTERM_MS_MAX,
	       TCPTERM_DRAIN_IDLE_DEFAULT_MS, "drain")
TCPTERM_OPTION(TCPTERM_GRACE_MS, grace_ms, 0, TCPTERM_MS_MAX, 0, "any")
TCPTERM_OPTION(TCPTERM_NOTICE, notice, 0, 1, 0, "any")
