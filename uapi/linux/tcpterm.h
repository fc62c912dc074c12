/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * tcpterm: per-socket TCP termination policies.
 *
 * This header is the whole application interface of the tcpterm module.
 * It needs only <linux/types.h> and works from C and C++.
 *
 * Options live at the private socket level SOL_TCPTERM and are reached
 * with setsockopt(2)/getsockopt(2) on any TCP socket (IPv4, IPv6 or
 * v4-mapped).  When the module is not loaded, setsockopt() at this
 * level fails with ENOPROTOOPT (getsockopt() with EOPNOTSUPP on IPv4,
 * ENOPROTOOPT on IPv6), so an application can probe for it.
 *
 * A socket is tracked from its first successful SOL_TCPTERM setsockopt
 * (or from accept(), when its listener was tracked).  TCPTERM_INFO on an
 * untracked socket reports the stock defaults and what the kernel's own
 * socket state tells (the peer's FIN), nothing more.
 */
#ifndef _UAPI_LINUX_TCPTERM_H
#define _UAPI_LINUX_TCPTERM_H

#include <linux/types.h>

/* Socket level.  No kernel protocol uses it ("tt" in ASCII, plus 0x10000). */
#define SOL_TCPTERM		0x17474

/* Option names at SOL_TCPTERM. */
#define TCPTERM_POLICY		1	/* int: enum tcpterm_policy, get/set */
#define TCPTERM_INFO		2	/* struct tcpterm_info, get only */
#define TCPTERM_CROSSING_ERROR	3	/* int: 0 or 1, get/set */
#define TCPTERM_DRAIN_TIME_MS	4	/* int: drain limit after close() */
#define TCPTERM_DRAIN_IDLE_MS	5	/* int: drain limit without input */
#define TCPTERM_GRACE_MS	6	/* int: deadline after our FIN, 0 = off */
#define TCPTERM_NOTICE		7	/* int: 0 or 1, closing notice, below */

/* Defaults and bounds of the millisecond options. */
#define TCPTERM_DRAIN_TIME_DEFAULT_MS	30000
#define TCPTERM_DRAIN_IDLE_DEFAULT_MS	5000
#define TCPTERM_MS_MAX			3600000	/* one hour */

enum tcpterm_policy {
	/* Exactly the stock kernel behaviour. */
	TCPTERM_POLICY_DEFAULT		= 0,
	/*
	 * RFC 1122 4.2.2.13 half-duplex close: once the read side is closed
	 * (close(), shutdown(SHUT_RD) or SHUT_RDWR) unread data is discarded
	 * and answered with RST at once, and data arriving later is answered
	 * with RST.  The local socket then fails with ECONNABORTED.
	 */
	TCPTERM_POLICY_HALF_DUPLEX	= 1,
	/*
	 * Lingering close: close() sends what is left in the send queue and
	 * a FIN, never an RST for unread input.  Input unread at close() and
	 * input arriving later is acknowledged and discarded until the
	 * peer's FIN, so the peer receives every byte written and a clean
	 * end.  Bounded by TCPTERM_DRAIN_TIME_MS and TCPTERM_DRAIN_IDLE_MS,
	 * after which the connection is reset and flagged forced.
	 */
	TCPTERM_POLICY_DRAIN		= 2,
	__TCPTERM_POLICY_MAX,
};

/* Why the policy sent an RST (tti_rst_reason). */
enum tcpterm_rst_reason {
	TCPTERM_RST_NONE		= 0,
	TCPTERM_RST_UNREAD_ON_CLOSE	= 1,	/* close() with unread data */
	TCPTERM_RST_UNREAD_ON_SHUTDOWN	= 2,	/* SHUT_RD with unread data */
	TCPTERM_RST_DATA_AFTER_SHUTDOWN	= 3,	/* data arrived after SHUT_RD */
	TCPTERM_RST_DRAIN_TIME		= 4,	/* TCPTERM_DRAIN_TIME_MS ran out */
	TCPTERM_RST_DRAIN_IDLE		= 5,	/* TCPTERM_DRAIN_IDLE_MS ran out */
	TCPTERM_RST_GRACE		= 6,	/* TCPTERM_GRACE_MS ran out */
};

/* How the peer ended its side (tti_peer_end). */
enum tcpterm_peer_end {
	TCPTERM_PEER_OPEN	= 0,	/* nothing from the peer yet */
	TCPTERM_PEER_FIN	= 1,	/* the peer sent FIN */
	TCPTERM_PEER_RST	= 2,	/* the peer sent RST */
};

/* tti_flags */
enum tcpterm_info_flags {
	TCPTERM_F_TRACKED	= 0x1,	/* the socket opted in */
	TCPTERM_F_RST_SENT	= 0x2,	/* the policy sent an RST */
	TCPTERM_F_CROSSED	= 0x4,	/* our FIN and the peer's crossed */
	TCPTERM_F_LATE_DATA	= 0x8,	/* data arrived after our FIN was
					 * sent, not acknowledging it
					 */
	TCPTERM_F_DRAINING	= 0x10,	/* close() started a drain */
	TCPTERM_F_FORCED	= 0x20,	/* a drain limit or the grace
					 * deadline ended the connection
					 */
	TCPTERM_F_NOTICE_OK	= 0x40,	/* both ends agreed on notices */
	TCPTERM_F_NOTICE_SENT	= 0x80,	/* close() sent the notice */
	TCPTERM_F_NOTICE_RCVD	= 0x100, /* the peer's notice arrived */
	TCPTERM_F_NOTICE_UNREAD	= 0x200, /* bytes we wrote crossed the
					  * notice: the peer's application
					  * never read them
					  */
};

/*
 * Closing notice (TCPTERM_NOTICE = 1, on both ends before the handshake:
 * on the listener and on the connecting socket, or by namespace default
 * or rule).  The two ends agree in the handshake, with an experimental
 * TCP option, that both run tcpterm with notices on; TCPTERM_F_NOTICE_OK
 * says they did.  A peer that does not answer leaves the connection
 * exactly stock.  Once agreed:
 *
 * - close() on one end sends the notice on its FIN (and every segment
 *   after it) and ends as TCPTERM_POLICY_DRAIN ends a connection: input
 *   is discarded, never answered with RST, until the peer's FIN.
 * - On the other end, from the moment the notice arrived, a write fails
 *   with ESHUTDOWN before any byte is queued, and a read that reaches
 *   the end of the stream fails with ESHUTDOWN instead of returning 0
 *   when bytes written earlier were never read by the closing
 *   application (TCPTERM_F_NOTICE_UNREAD).  Either way nothing written
 *   on that connection after the last answered request was processed:
 *   the request can be sent again on a new connection.
 */
#define TCPTERM_NOTICE_ERRNO	ESHUTDOWN	/* <errno.h> */

#define TCPTERM_INFO_VERSION	1

/*
 * Returned by getsockopt(TCPTERM_INFO).  Like TCP_INFO, a shorter optlen
 * gets a truncated copy and optlen is set to the bytes written.  Fields
 * are only ever appended; tti_version grows when they are.
 */
struct tcpterm_info {
	__u32	tti_version;		/* TCPTERM_INFO_VERSION */
	__u32	tti_flags;		/* TCPTERM_F_* */
	__u8	tti_policy;		/* enum tcpterm_policy */
	__u8	tti_rst_reason;		/* enum tcpterm_rst_reason */
	__u8	tti_peer_end;		/* enum tcpterm_peer_end */
	__u8	tti_crossing_error;	/* TCPTERM_CROSSING_ERROR value */
	__u32	tti_reserved;
	__u64	tti_bytes_discarded;	/* unread input thrown away */
	__u64	tti_rst_time_ns;	/* CLOCK_MONOTONIC of policy RST, or 0 */
	__u64	tti_crossed_time_ns;	/* CLOCK_MONOTONIC of crossing, or 0 */
};

/*
 * Generic netlink family, for monitoring.  Every event is multicast to
 * the group TCPTERM_GENL_MCGRP_EVENTS in the network namespace of the
 * socket it is about; joining the group needs CAP_NET_ADMIN in the user
 * namespace owning that network namespace (EPERM otherwise).  At most
 * one event of each kind is sent per tracked socket, and the events of
 * each namespace are rate-bounded; TCPTERM_STAT_EVENTS_DROPPED counts the
 * rest.
 */
#define TCPTERM_GENL_NAME		"tcpterm"
#define TCPTERM_GENL_VERSION		1
#define TCPTERM_GENL_MCGRP_EVENTS	"events"

enum tcpterm_genl_cmd {
	TCPTERM_CMD_UNSPEC,
	TCPTERM_CMD_EVENT,		/* multicast notification */
	TCPTERM_CMD_GET_STATS,		/* request: counters of this netns */
	/*
	 * Rules of the caller's namespace (CAP_NET_ADMIN in the user
	 * namespace owning it).  RULE_ADD takes a TCPTERM_A_RULE nest and
	 * answers with the rule as stored (its TCPTERM_RULE_A_ID); RULE_DEL
	 * takes a nest holding only the id; RULE_GET is a dump, one message
	 * with a TCPTERM_A_RULE nest per rule, in match order; RULE_FLUSH
	 * takes nothing and removes every rule.
	 */
	TCPTERM_CMD_RULE_ADD,
	TCPTERM_CMD_RULE_DEL,
	TCPTERM_CMD_RULE_GET,
	TCPTERM_CMD_RULE_FLUSH,
	/*
	 * Dump (NLM_F_DUMP) of the sockets of the caller's namespace that
	 * tcpterm tracks, one message with a TCPTERM_A_SOCK nest each
	 * (CAP_NET_ADMIN, as for events: it shows every connection).
	 */
	TCPTERM_CMD_SOCK_GET,
	__TCPTERM_CMD_MAX,
};

#define TCPTERM_CMD_MAX (__TCPTERM_CMD_MAX - 1)

enum tcpterm_event_kind {
	TCPTERM_EV_CROSSING	= 1,	/* FIN crossing (simultaneous close) */
	TCPTERM_EV_POLICY_RST	= 2,	/* RST sent because of the policy */
	TCPTERM_EV_LATE_DATA	= 3,	/* data after our FIN, not acking it */
	TCPTERM_EV_FORCED	= 4,	/* a deadline ended the connection */
	TCPTERM_EV_DRAIN	= 5,	/* input unread after close(): a drain
					 * began where stock would reset
					 */
};

enum tcpterm_attr {
	TCPTERM_A_UNSPEC,
	TCPTERM_A_KIND,			/* u8: enum tcpterm_event_kind */
	TCPTERM_A_FAMILY,		/* u8: AF_INET or AF_INET6 */
	/*
	 * An event's socket, as version 1 gave it; TCPTERM_A_SOCK gives it
	 * typed and in network order (and its cookie): read that one.
	 */
	TCPTERM_A_SADDR,		/* binary: 4 or 16 bytes, local */
	TCPTERM_A_DADDR,		/* binary: 4 or 16 bytes, remote */
	TCPTERM_A_SPORT,		/* u16, host order, local */
	TCPTERM_A_DPORT,		/* u16, host order, remote */
	TCPTERM_A_NETNS_INO,		/* u32: inode of /proc/PID/ns/net */
	TCPTERM_A_REASON,		/* u8: enum tcpterm_rst_reason */
	TCPTERM_A_STATS,		/* nest of u64, index = enum tcpterm_stat */
	TCPTERM_A_PAD,			/* alignment of top-level u64s */
	TCPTERM_A_RULE,			/* nest: enum tcpterm_rule_attr */
	TCPTERM_A_SOCK,			/* nest: enum tcpterm_sock_attr; in
					 * an event: cookie, family,
					 * addresses, ports and state
					 */
	__TCPTERM_A_MAX,
};

#define TCPTERM_A_MAX (__TCPTERM_A_MAX - 1)

/*
 * A rule (TCPTERM_A_RULE): what it matches, and the settings it gives a
 * new connection of the namespace that set no SOL_TCPTERM option itself.
 * Every match attribute is optional (absent: anything); a connection
 * takes the first rule, in the order they were added, that matches all
 * of them.  Setting attributes are the int options of SOL_TCPTERM, with
 * the same ranges; one the rule does not set comes from the namespace's
 * sysctl (net.tcpterm.*).  At least one setting is required.
 */
enum tcpterm_rule_attr {
	TCPTERM_RULE_A_UNSPEC,
	TCPTERM_RULE_A_ID,		/* u32: given by RULE_ADD; RULE_DEL key */
	TCPTERM_RULE_A_FAMILY,		/* u8: AF_INET or AF_INET6 (socket's) */
	TCPTERM_RULE_A_PORT_MIN,	/* be16: local port range, 1 to 65535 */
	TCPTERM_RULE_A_PORT_MAX,	/* be16: default PORT_MIN */
	TCPTERM_RULE_A_CGROUP,		/* u64: cgroup v2 id (inode of its
					 * directory): sockets of processes
					 * in that cgroup or below it
					 */
	TCPTERM_RULE_A_POLICY,		/* u32: as TCPTERM_POLICY */
	TCPTERM_RULE_A_CROSSING_ERROR,	/* u32: as TCPTERM_CROSSING_ERROR */
	TCPTERM_RULE_A_DRAIN_TIME_MS,	/* u32: as TCPTERM_DRAIN_TIME_MS */
	TCPTERM_RULE_A_DRAIN_IDLE_MS,	/* u32: as TCPTERM_DRAIN_IDLE_MS */
	TCPTERM_RULE_A_GRACE_MS,	/* u32: as TCPTERM_GRACE_MS */
	TCPTERM_RULE_A_PAD,
	TCPTERM_RULE_A_NOTICE,		/* u32: as TCPTERM_NOTICE */
	__TCPTERM_RULE_A_MAX,
};

#define TCPTERM_RULE_A_MAX (__TCPTERM_RULE_A_MAX - 1)

/* Rules per network namespace, at most (RULE_ADD fails with ENOSPC). */
#define TCPTERM_RULES_MAX	256

/*
 * A tracked socket (TCPTERM_A_SOCK), as TCPTERM_CMD_SOCK_GET lists it.
 * Addresses and ports in network byte order, as inet_diag gives them;
 * a v4-mapped IPv6 socket is shown as AF_INET.
 */
enum tcpterm_sock_attr {
	TCPTERM_SOCK_A_UNSPEC,
	TCPTERM_SOCK_A_COOKIE,		/* u64: SO_COOKIE, as ss -e shows it */
	TCPTERM_SOCK_A_FAMILY,		/* u8: AF_INET or AF_INET6 */
	TCPTERM_SOCK_A_SADDR4,		/* u32 (be): local IPv4 address */
	TCPTERM_SOCK_A_DADDR4,		/* u32 (be): remote IPv4 address */
	TCPTERM_SOCK_A_SADDR6,		/* 16 bytes: local IPv6 address */
	TCPTERM_SOCK_A_DADDR6,		/* 16 bytes: remote IPv6 address */
	TCPTERM_SOCK_A_SPORT,		/* be16: local port */
	TCPTERM_SOCK_A_DPORT,		/* be16: remote port */
	TCPTERM_SOCK_A_STATE,		/* u8: TCP state (TCP_ESTABLISHED...) */
	TCPTERM_SOCK_A_POLICY,		/* u8: enum tcpterm_policy */
	TCPTERM_SOCK_A_FLAGS,		/* u32: TCPTERM_F_*, as tti_flags */
	TCPTERM_SOCK_A_RST_REASON,	/* u8: enum tcpterm_rst_reason */
	TCPTERM_SOCK_A_BYTES_DISCARDED,	/* u64 */
	TCPTERM_SOCK_A_DEADLINE_MS,	/* u32: ms until a drain or grace
					 * deadline; absent if none armed
					 */
	TCPTERM_SOCK_A_PAD,
	__TCPTERM_SOCK_A_MAX,
};

#define TCPTERM_SOCK_A_MAX (__TCPTERM_SOCK_A_MAX - 1)

/* Per network namespace counters (/proc/net/tcpterm, TCPTERM_A_STATS). */
enum tcpterm_stat {
	TCPTERM_STAT_UNSPEC,
	TCPTERM_STAT_POLICY_RSTS,	/* RSTs sent because of a policy */
	TCPTERM_STAT_BYTES_DISCARDED,	/* unread input thrown away */
	TCPTERM_STAT_CROSSINGS,		/* FINs that crossed */
	TCPTERM_STAT_LATE_DATA,		/* segments after our FIN, not acking it */
	TCPTERM_STAT_CROSSING_ERRORS,	/* crossings turned into errors */
	TCPTERM_STAT_TRACKED_SOCKETS,	/* gauge: sockets tracked now */
	TCPTERM_STAT_DRAINS,		/* close() calls that started a drain */
	TCPTERM_STAT_DRAINS_FORCED,	/* drains ended by a drain limit */
	TCPTERM_STAT_GRACE_FORCED,	/* connections ended by TCPTERM_GRACE_MS */
	TCPTERM_STAT_DEADLINES,		/* gauge: drain or grace deadlines armed */
	TCPTERM_STAT_EVENTS_DROPPED,	/* events over the namespace's rate bound */
	TCPTERM_STAT_SOCKETS_REFUSED,	/* sockets over the namespace's bound */
	__TCPTERM_STAT_MAX,
};

#define TCPTERM_STAT_MAX (__TCPTERM_STAT_MAX - 1)

/*
 * Alignment padding inside TCPTERM_A_STATS (on machines that need it):
 * type 0, never a counter, so that every other type in the nest is one.
 */
#define TCPTERM_STAT_PAD TCPTERM_STAT_UNSPEC

#endif /* _UAPI_LINUX_TCPTERM_H */
