// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm(8): the operator's side of the tcpterm module, in the manner of
 * iproute2's ip and ss.  It speaks the module's generic netlink family
 * (libmnl) and prints text or JSON (json-c).
 *
 * Exit status: 0 success, 1 an error (bad input, no module, a netlink
 * error), 2 a command this kernel module does not implement.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tcpterm.h>

#define EXIT_UNSUPPORTED	2

#define __printf(a, b)	__attribute__((format(printf, a, b)))

#ifndef TCPTERM_VERSION
#define TCPTERM_VERSION		"unknown"
#endif
#ifndef TCPTERM_PKGLIBDIR
#define TCPTERM_PKGLIBDIR	"/usr/lib/tcpterm"
#endif
#define TCPTERM_RUN_LIB		"libtcpterm-run.so"

/*
 * The usage text, printed by "tcpterm help".  Documentation/man/tcpterm.8
 * says the same in its SYNOPSIS (scripts/test-manpage.sh checks it).
 */
static const char usage_text[] =
"Usage: tcpterm [ OPTIONS ] OBJECT [ COMMAND ]\n"
"       tcpterm help\n"
"OPTIONS := { -j | --json | --pretty | -n | --netns NAME | -V | --version |\n"
"             -h | --help }\n"
"OBJECT := { stats | monitor | run | rule | show | help }\n"
"\n"
"       tcpterm stats\n"
"       tcpterm monitor [ -c | --count COUNT ]\n"
"       tcpterm run [ -p | --policy POLICY ] [ --drain-time MS ]\n"
"                   [ --drain-idle MS ] [ --grace MS ] [ --crossing-error ]\n"
"                   -- PROGRAM [ ARGS ]\n"
"       tcpterm rule { add | del } RULE\n"
"       tcpterm rule { show | flush }\n"
"       tcpterm show [ port PORT ] [ state STATE ]\n"
"\n"
"RULE := [ port PORT[-PORT] ] [ cgroup PATH ] [ family { inet | inet6 } ]\n"
"        policy POLICY [ drain-time MS ] [ drain-idle MS ] [ grace MS ]\n"
"        [ crossing-error ]\n"
"POLICY := { default | half-duplex | drain }\n"
"STATE := { established | fin-wait-1 | fin-wait-2 | close-wait | closing |\n"
"           last-ack | time-wait }\n"
"\n"
"Exit status: 0 success, 1 error, 2 not supported by this kernel module.\n";

static bool json;
static bool pretty;
static const char *netns;

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static void __printf(1, 2) err(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpterm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A bad command line: one line saying what, then a pointer to help. */
static int __printf(1, 2) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpterm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try \"tcpterm help\")\n", stderr);
	return EXIT_FAILURE;
}

static const char * const policy_names[__TCPTERM_POLICY_MAX] = {
	[TCPTERM_POLICY_DEFAULT]	= "default",
	[TCPTERM_POLICY_HALF_DUPLEX]	= "half-duplex",
	[TCPTERM_POLICY_DRAIN]		= "drain",
};

/* The names /proc/net/tcpterm prints, by TCPTERM_STAT_* index. */
static const char * const stat_names[__TCPTERM_STAT_MAX] = {
	[TCPTERM_STAT_POLICY_RSTS]	= "PolicyRsts",
	[TCPTERM_STAT_BYTES_DISCARDED]	= "BytesDiscarded",
	[TCPTERM_STAT_CROSSINGS]	= "Crossings",
	[TCPTERM_STAT_LATE_DATA]	= "LateData",
	[TCPTERM_STAT_CROSSING_ERRORS]	= "CrossingErrors",
	[TCPTERM_STAT_TRACKED_SOCKETS]	= "TrackedSockets",
	[TCPTERM_STAT_DRAINS]		= "Drains",
	[TCPTERM_STAT_DRAINS_FORCED]	= "DrainsForced",
	[TCPTERM_STAT_GRACE_FORCED]	= "GraceForced",
	[TCPTERM_STAT_DEADLINES]	= "Deadlines",
	[TCPTERM_STAT_EVENTS_DROPPED]	= "EventsDropped",
	[TCPTERM_STAT_SOCKETS_REFUSED]	= "SocketsRefused",
};

static const char * const event_names[] = {
	[TCPTERM_EV_CROSSING]	= "crossing",
	[TCPTERM_EV_POLICY_RST]	= "policy-rst",
	[TCPTERM_EV_LATE_DATA]	= "late-data",
	[TCPTERM_EV_FORCED]	= "forced",
};

static const char * const reason_names[] = {
	[TCPTERM_RST_NONE]		  = "none",
	[TCPTERM_RST_UNREAD_ON_CLOSE]	  = "unread-on-close",
	[TCPTERM_RST_UNREAD_ON_SHUTDOWN]  = "unread-on-shutdown",
	[TCPTERM_RST_DATA_AFTER_SHUTDOWN] = "data-after-shutdown",
	[TCPTERM_RST_DRAIN_TIME]	  = "drain-time",
	[TCPTERM_RST_DRAIN_IDLE]	  = "drain-idle",
	[TCPTERM_RST_GRACE]		  = "grace",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Name of @v in @names, or "PREFIX-N" in @buf when there is none. */
static const char *name_of(const char * const *names, size_t n,
			   unsigned int v, const char *prefix, char *buf,
			   size_t len)
{
	if (v < n && names[v])
		return names[v];
	snprintf(buf, len, "%s-%u", prefix, v);
	return buf;
}

static int parse_policy(const char *s, int *policy)
{
	int i;

	for (i = 0; i < __TCPTERM_POLICY_MAX; i++) {
		if (policy_names[i] && !strcmp(s, policy_names[i])) {
			*policy = i;
			return 0;
		}
	}
	return bad_usage("unknown policy \"%s\": default, half-duplex or drain",
			 s);
}

/* A decimal number from @min to @max, the whole string. */
static int parse_uint(const char *what, const char *s, unsigned long min,
		      unsigned long max, unsigned long *val)
{
	char *end;

	errno = 0;
	if (*s >= '0' && *s <= '9') {
		*val = strtoul(s, &end, 10);
		if (!errno && !*end && *val >= min && *val <= max)
			return 0;
	}
	return bad_usage("%s \"%s\": a number from %lu to %lu", what, s, min,
			 max);
}

/* --- netlink -------------------------------------------------------------- */

struct nl {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	uint32_t events_grp;
	char extack[256];	/* the kernel's message with the last error */
};

static int nl_open(struct nl *nl)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk) {
		err("netlink socket: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		err("netlink bind: %s", strerror(errno));
		mnl_socket_close(nl->sk);
		return -1;
	}
	/* The kernel's error messages, without our request echoed back. */
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned int)getpid();
	return 0;
}

static void nl_close(struct nl *nl)
{
	mnl_socket_close(nl->sk);
}

/* One exchange: the caller's callback and data, and where errors go. */
struct nl_talk {
	struct nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->extack, sizeof(nl->extack), "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ACK ends the exchange, an error keeps its message. */
static int nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct nl_talk *t = data;
	unsigned int off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, off, extack_attr_cb, t->nl);
	}
	if (e->error) {
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_talk *t = data;

	return t->cb(nlh, t->data);
}

static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = nl_error_cb,
};

/*
 * Send @nlh (an NLM_F_ACK request) and feed the answers to @cb until the
 * ACK.  Returns 0, or -1 with errno set (and nl->extack, if the kernel
 * said why).
 */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data)
{
	struct nl_talk t = { .nl = nl, .cb = cb, .data = data };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	nl->extack[0] = '\0';
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf));
		if (n < 0)
			return -1;
		errno = 0;
		ret = mnl_cb_run2(buf, n, seq, nl->portid, nl_data_cb, &t,
				  nl_ctl_cbs, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && errno == 0)
			errno = EPROTO;
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -1 : 0;
}

static struct nlmsghdr *genl_req(struct nl *nl, char *buf, uint16_t type,
				 uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static int mcgrp_cb(const struct nlattr *grp, void *data)
{
	const struct nlattr *a, *name = NULL, *id = NULL;
	struct nl *nl = data;

	mnl_attr_for_each_nested(a, grp) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = a;
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
			 mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			id = a;
	}
	if (name && id &&
	    !strcmp(mnl_attr_get_str(name), TCPTERM_GENL_MCGRP_EVENTS))
		nl->events_grp = mnl_attr_get_u32(id);
	return MNL_CB_OK;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl *nl = data;
	const struct nlattr *grp;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
			nl->family = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_for_each_nested(grp, attr)
			mcgrp_cb(grp, nl);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      data);
}

/*
 * Open the socket and look the family up.  The kernel loads the module
 * for the lookup if it can (MODULE_ALIAS_GENL_FAMILY).
 */
static int nl_init(struct nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (nl_open(nl))
		return -1;
	nlh = genl_req(nl, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TCPTERM_GENL_NAME);
	if (nl_talk(nl, nlh, family_cb, nl) || !nl->family) {
		if (errno == ENOENT)
			err("the tcpterm module is not loaded (no generic netlink family \"%s\"; modprobe tcpterm)",
			    TCPTERM_GENL_NAME);
		else
			err("looking up the netlink family: %s",
			    strerror(errno));
		nl_close(nl);
		return -1;
	}
	return 0;
}

/* --- output --------------------------------------------------------------- */

static void json_print(struct json_object *obj)
{
	int flags = pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			     JSON_C_TO_STRING_PLAIN;

	puts(json_object_to_json_string_ext(obj, flags));
	fflush(stdout);
}

/* --- stats ---------------------------------------------------------------- */

struct stats {
	uint64_t val[__TCPTERM_STAT_MAX];
	bool seen[__TCPTERM_STAT_MAX];
	bool nest;
};

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct stats *st = data;
	const struct nlattr *a, *s;

	if (g->cmd != TCPTERM_CMD_GET_STATS)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != TCPTERM_A_STATS)
			continue;
		st->nest = true;
		mnl_attr_for_each_nested(s, a) {
			unsigned int t = mnl_attr_get_type(s);

			/* Padding is type 0; a counter newer than us is skipped. */
			if (t == TCPTERM_STAT_PAD || t >= __TCPTERM_STAT_MAX)
				continue;
			if (mnl_attr_validate(s, MNL_TYPE_U64) < 0) {
				err("counter %u: %u bytes, not 8", t,
				    mnl_attr_get_payload_len(s));
				errno = EBADMSG;
				return MNL_CB_ERROR;
			}
			st->val[t] = mnl_attr_get_u64(s);
			st->seen[t] = true;
		}
	}
	return MNL_CB_OK;
}

static int do_stats(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct json_object *obj;
	struct stats st = { };
	struct nlmsghdr *nlh;
	struct nl nl;
	int i;

	if (argc > 0 && strcmp(argv[0], "show"))
		return bad_usage("stats: unknown argument \"%s\"", argv[0]);
	if (nl_init(&nl))
		return EXIT_FAILURE;
	nlh = genl_req(&nl, buf, nl.family, TCPTERM_CMD_GET_STATS,
		       TCPTERM_GENL_VERSION);
	if (nl_talk(&nl, nlh, stats_cb, &st)) {
		err("stats: %s%s%s", strerror(errno), nl.extack[0] ? ": " : "",
		    nl.extack);
		nl_close(&nl);
		return EXIT_FAILURE;
	}
	nl_close(&nl);
	if (!st.nest) {
		err("stats: the reply has no counters");
		return EXIT_FAILURE;
	}

	if (!json) {
		for (i = 1; i < __TCPTERM_STAT_MAX; i++)
			if (st.seen[i])
				printf("%s %llu\n", stat_names[i],
				       (unsigned long long)st.val[i]);
		return EXIT_SUCCESS;
	}
	obj = json_object_new_object();
	for (i = 1; i < __TCPTERM_STAT_MAX; i++)
		if (st.seen[i])
			json_object_object_add(obj, stat_names[i],
					       json_object_new_uint64(st.val[i]));
	json_print(obj);
	json_object_put(obj);
	return EXIT_SUCCESS;
}

/* --- monitor -------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct monitor {
	unsigned long count;	/* events to print, 0 = no end */
	unsigned long printed;
};

/* Expected payload sizes; 0: variable (checked against the family). */
static const unsigned int ev_attr_len[TCPTERM_A_MAX + 1] = {
	[TCPTERM_A_KIND]	= 1,
	[TCPTERM_A_FAMILY]	= 1,
	[TCPTERM_A_SPORT]	= 2,
	[TCPTERM_A_DPORT]	= 2,
	[TCPTERM_A_NETNS_INO]	= 4,
	[TCPTERM_A_REASON]	= 1,
};

static int event_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned int t = mnl_attr_get_type(attr);

	if (t > TCPTERM_A_MAX)
		return MNL_CB_OK;	/* newer than us */
	tb[t] = attr;
	return MNL_CB_OK;
}

/* One event, or -1 (and a warning) when it does not make sense. */
static int print_event(const struct nlattr **tb)
{
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN], b1[32], b2[32];
	unsigned int kind, family, alen, t, sport, dport, reason = 0;
	const char *kname, *rname = NULL;
	struct json_object *obj;
	uint32_t ino;

	for (t = 1; t <= TCPTERM_A_MAX; t++)
		if (tb[t] && ev_attr_len[t] &&
		    mnl_attr_get_payload_len(tb[t]) != ev_attr_len[t])
			return -1;
	if (!tb[TCPTERM_A_KIND] || !tb[TCPTERM_A_FAMILY] ||
	    !tb[TCPTERM_A_SADDR] || !tb[TCPTERM_A_DADDR] ||
	    !tb[TCPTERM_A_SPORT] || !tb[TCPTERM_A_DPORT] ||
	    !tb[TCPTERM_A_NETNS_INO])
		return -1;
	kind = mnl_attr_get_u8(tb[TCPTERM_A_KIND]);
	family = mnl_attr_get_u8(tb[TCPTERM_A_FAMILY]);
	if (family == AF_INET)
		alen = 4;
	else if (family == AF_INET6)
		alen = 16;
	else
		return -1;
	if (mnl_attr_get_payload_len(tb[TCPTERM_A_SADDR]) != alen ||
	    mnl_attr_get_payload_len(tb[TCPTERM_A_DADDR]) != alen)
		return -1;
	inet_ntop(family, mnl_attr_get_payload(tb[TCPTERM_A_SADDR]), a1,
		  sizeof(a1));
	inet_ntop(family, mnl_attr_get_payload(tb[TCPTERM_A_DADDR]), a2,
		  sizeof(a2));
	sport = mnl_attr_get_u16(tb[TCPTERM_A_SPORT]);
	dport = mnl_attr_get_u16(tb[TCPTERM_A_DPORT]);
	ino = mnl_attr_get_u32(tb[TCPTERM_A_NETNS_INO]);
	kname = name_of(event_names, ARRAY_SIZE(event_names), kind, "event",
			b1, sizeof(b1));
	if (tb[TCPTERM_A_REASON]) {
		reason = mnl_attr_get_u8(tb[TCPTERM_A_REASON]);
		rname = name_of(reason_names, ARRAY_SIZE(reason_names), reason,
				"reason", b2, sizeof(b2));
	}

	if (!json) {
		if (family == AF_INET6)
			printf("%s [%s]:%u [%s]:%u", kname, a1, sport, a2,
			       dport);
		else
			printf("%s %s:%u %s:%u", kname, a1, sport, a2, dport);
		if (rname)
			printf(" reason %s", rname);
		printf(" netns %u\n", ino);
		fflush(stdout);
		return 0;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "event", json_object_new_string(kname));
	json_object_object_add(obj, "family",
			       json_object_new_string(family == AF_INET ?
						      "inet" : "inet6"));
	json_object_object_add(obj, "saddr", json_object_new_string(a1));
	json_object_object_add(obj, "sport", json_object_new_int(sport));
	json_object_object_add(obj, "daddr", json_object_new_string(a2));
	json_object_object_add(obj, "dport", json_object_new_int(dport));
	if (rname)
		json_object_object_add(obj, "reason",
				       json_object_new_string(rname));
	json_object_object_add(obj, "netns", json_object_new_int64(ino));
	json_print(obj);
	json_object_put(obj);
	return 0;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TCPTERM_A_MAX + 1] = { };
	struct monitor *m = data;

	if (!mnl_nlmsg_ok(nlh, (int)nlh->nlmsg_len) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    g->cmd != TCPTERM_CMD_EVENT)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*g), event_attr_cb, tb) < 0 ||
	    print_event(tb) < 0) {
		err("monitor: malformed event skipped");
		return MNL_CB_OK;
	}
	if (m->count && ++m->printed >= m->count)
		return MNL_CB_STOP;
	return MNL_CB_OK;
}

static int do_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ }
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct monitor m = { };
	struct sigaction sa = { };
	unsigned long v;
	struct nl nl;
	ssize_t n;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_uint("count", optarg, 1, ULONG_MAX, &v))
				return EXIT_FAILURE;
			m.count = v;
			break;
		default:
			return bad_usage("monitor: bad option");
		}
	}
	if (optind <= argc)
		return bad_usage("monitor: unknown argument \"%s\"",
				 argv[optind - 1]);

	if (nl_init(&nl))
		return EXIT_FAILURE;
	if (!nl.events_grp) {
		err("monitor: the module has no \"%s\" group",
		    TCPTERM_GENL_MCGRP_EVENTS);
		nl_close(&nl);
		return EXIT_FAILURE;
	}
	if (mnl_socket_setsockopt(nl.sk, NETLINK_ADD_MEMBERSHIP,
				  &nl.events_grp, sizeof(nl.events_grp)) < 0) {
		if (errno == EPERM)
			err("monitor: joining the events group needs CAP_NET_ADMIN in this network namespace");
		else
			err("monitor: joining the events group: %s",
			    strerror(errno));
		nl_close(&nl);
		return EXIT_FAILURE;
	}

	/* No SA_RESTART: SIGINT and SIGTERM end the wait for the next event. */
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = EXIT_SUCCESS;
	while (!stop) {
		n = mnl_socket_recvfrom(nl.sk, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				err("monitor: events lost (receive buffer full)");
				continue;
			}
			err("monitor: %s", strerror(errno));
			ret = EXIT_FAILURE;
			break;
		}
		if (mnl_cb_run(buf, n, 0, 0, event_cb, &m) == MNL_CB_STOP)
			break;
	}
	nl_close(&nl);
	return ret;
}

/* --- run ------------------------------------------------------------------ */

/* The preload library: next to this program (a build tree), or installed. */
static int find_run_lib(char *path, size_t len)
{
	const char *env = getenv("TCPTERM_RUN_LIB");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return access(path, R_OK);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(path, len, "%s/%s", self,
					     TCPTERM_RUN_LIB) < len &&
			    !access(path, R_OK))
				return 0;
		}
	}
	snprintf(path, len, "%s/%s", TCPTERM_PKGLIBDIR, TCPTERM_RUN_LIB);
	return access(path, R_OK);
}

static int set_env_num(const char *name, unsigned long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lu", v);
	return setenv(name, s, 1);
}

static int do_run(int argc, char **argv)
{
	enum { OPT_DRAIN_TIME = 256, OPT_DRAIN_IDLE, OPT_GRACE, OPT_CROSSING };
	static const struct option opts[] = {
		{ "policy",		required_argument, NULL, 'p' },
		{ "drain-time",		required_argument, NULL, OPT_DRAIN_TIME },
		{ "drain-idle",		required_argument, NULL, OPT_DRAIN_IDLE },
		{ "grace",		required_argument, NULL, OPT_GRACE },
		{ "crossing-error",	no_argument,	   NULL, OPT_CROSSING },
		{ }
	};
	char lib[PATH_MAX], *preload;
	const char *old;
	bool any = false;
	unsigned long v;
	int c, policy = 0;
	struct nl nl;

	for (c = 0; c < argc && strcmp(argv[c], "--"); c++)
		;
	if (c == argc)
		return bad_usage("run: \"--\" before the program (tcpterm run OPTIONS -- PROGRAM)");

	/* Nothing of a previous tcpterm run leaks into this one. */
	unsetenv("TCPTERM_RUN_POLICY");
	unsetenv("TCPTERM_RUN_DRAIN_TIME_MS");
	unsetenv("TCPTERM_RUN_DRAIN_IDLE_MS");
	unsetenv("TCPTERM_RUN_GRACE_MS");
	unsetenv("TCPTERM_RUN_CROSSING_ERROR");

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+p:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_policy(optarg, &policy))
				return EXIT_FAILURE;
			set_env_num("TCPTERM_RUN_POLICY", policy);
			break;
		case OPT_DRAIN_TIME:
			if (parse_uint("drain-time", optarg, 1,
				       TCPTERM_MS_MAX, &v))
				return EXIT_FAILURE;
			set_env_num("TCPTERM_RUN_DRAIN_TIME_MS", v);
			break;
		case OPT_DRAIN_IDLE:
			if (parse_uint("drain-idle", optarg, 1,
				       TCPTERM_MS_MAX, &v))
				return EXIT_FAILURE;
			set_env_num("TCPTERM_RUN_DRAIN_IDLE_MS", v);
			break;
		case OPT_GRACE:
			if (parse_uint("grace", optarg, 0, TCPTERM_MS_MAX, &v))
				return EXIT_FAILURE;
			set_env_num("TCPTERM_RUN_GRACE_MS", v);
			break;
		case OPT_CROSSING:
			set_env_num("TCPTERM_RUN_CROSSING_ERROR", 1);
			break;
		default:
			return bad_usage("run: bad option");
		}
		any = true;
	}
	if (optind > argc)
		return bad_usage("run: no program given (tcpterm run OPTIONS -- PROGRAM)");
	if (!any)
		return bad_usage("run: nothing to set (-p, --drain-time, --drain-idle, --grace or --crossing-error)");
	argv += optind - 1;

	if (find_run_lib(lib, sizeof(lib))) {
		err("run: %s: %s", lib, strerror(errno));
		return EXIT_FAILURE;
	}
	/* Loads the module when it can, and says so when it cannot. */
	if (nl_init(&nl))
		return EXIT_FAILURE;
	nl_close(&nl);

	old = getenv("LD_PRELOAD");
	if (old && *old) {
		if (asprintf(&preload, "%s:%s", lib, old) < 0)
			return EXIT_FAILURE;
	} else {
		preload = lib;
	}
	if (setenv("LD_PRELOAD", preload, 1)) {
		err("run: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	execvp(argv[0], argv);
	err("run: %s: %s", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/* --- rule, show: the kernel side is to come -------------------------------- */

struct rule {
	unsigned long port_lo, port_hi;
	const char *cgroup;
	int family;
	int policy;
	long drain_time, drain_idle, grace;
	bool crossing_error;
};

static int parse_port_range(const char *s, struct rule *r)
{
	char lo[8], *dash = strchr(s, '-');
	size_t n = dash ? (size_t)(dash - s) : strlen(s);

	if (n == 0 || n >= sizeof(lo))
		return bad_usage("port \"%s\": PORT or PORT-PORT, 1 to 65535", s);
	memcpy(lo, s, n);
	lo[n] = '\0';
	if (parse_uint("port", lo, 1, 65535, &r->port_lo))
		return -1;
	r->port_hi = r->port_lo;
	if (dash && parse_uint("port", dash + 1, r->port_lo, 65535,
			       &r->port_hi))
		return -1;
	return 0;
}

/* RULE, as in the usage text; every error is one line and status 1. */
static int parse_rule(int argc, char **argv, struct rule *r)
{
	unsigned long v;
	int i;

	memset(r, 0, sizeof(*r));
	r->policy = -1;
	r->drain_time = -1;
	r->drain_idle = -1;
	r->grace = -1;
	for (i = 0; i < argc; i++) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "crossing-error")) {
			r->crossing_error = true;
			continue;
		}
		if (!val)
			return bad_usage("rule: \"%s\" needs a value", k);
		i++;
		if (!strcmp(k, "port")) {
			if (parse_port_range(val, r))
				return -1;
		} else if (!strcmp(k, "cgroup")) {
			if (val[0] != '/' || strstr(val, "//") ||
			    strstr(val, "/../") || strstr(val, "/./"))
				return bad_usage("cgroup \"%s\": an absolute cgroup v2 path", val);
			r->cgroup = val;
		} else if (!strcmp(k, "family")) {
			if (!strcmp(val, "inet"))
				r->family = AF_INET;
			else if (!strcmp(val, "inet6"))
				r->family = AF_INET6;
			else
				return bad_usage("family \"%s\": inet or inet6", val);
		} else if (!strcmp(k, "policy")) {
			if (parse_policy(val, &r->policy))
				return -1;
		} else if (!strcmp(k, "drain-time") || !strcmp(k, "drain-idle")) {
			if (parse_uint(k, val, 1, TCPTERM_MS_MAX, &v))
				return -1;
			if (k[6] == 't')
				r->drain_time = (long)v;
			else
				r->drain_idle = (long)v;
		} else if (!strcmp(k, "grace")) {
			if (parse_uint(k, val, 0, TCPTERM_MS_MAX, &v))
				return -1;
			r->grace = (long)v;
		} else {
			return bad_usage("rule: unknown keyword \"%s\"", k);
		}
	}
	if (r->policy < 0)
		return bad_usage("rule: a rule needs a policy");
	return 0;
}

/*
 * The module is looked up (and loaded) first, so that a missing module
 * is an error like any other; then it says it lacks the command.
 */
static int unsupported(const char *what)
{
	struct nl nl;

	if (nl_init(&nl))
		return EXIT_FAILURE;
	nl_close(&nl);
	err("%s: not supported by this kernel module", what);
	return EXIT_UNSUPPORTED;
}

static int do_rule(int argc, char **argv)
{
	struct rule r;

	if (argc < 1)
		return bad_usage("rule: add, del, show or flush");
	if (!strcmp(argv[0], "add") || !strcmp(argv[0], "del")) {
		if (parse_rule(argc - 1, argv + 1, &r))
			return EXIT_FAILURE;
	} else if (!strcmp(argv[0], "show") || !strcmp(argv[0], "flush")) {
		if (argc > 1)
			return bad_usage("rule %s: unknown argument \"%s\"",
					 argv[0], argv[1]);
	} else {
		return bad_usage("rule: unknown command \"%s\"", argv[0]);
	}
	return unsupported("rule");
}

static const char * const state_names[] = {
	"established", "fin-wait-1", "fin-wait-2", "close-wait", "closing",
	"last-ack", "time-wait",
};

static int do_show(int argc, char **argv)
{
	unsigned long v;
	unsigned int j;
	int i;

	for (i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return bad_usage("show: \"%s\" needs a value", argv[i]);
		if (!strcmp(argv[i], "port")) {
			if (parse_uint("port", argv[i + 1], 1, 65535, &v))
				return EXIT_FAILURE;
		} else if (!strcmp(argv[i], "state")) {
			for (j = 0; j < ARRAY_SIZE(state_names); j++)
				if (!strcmp(argv[i + 1], state_names[j]))
					break;
			if (j == ARRAY_SIZE(state_names))
				return bad_usage("show: unknown state \"%s\"",
						 argv[i + 1]);
		} else {
			return bad_usage("show: unknown argument \"%s\"",
					 argv[i]);
		}
	}
	return unsupported("show");
}

/* --- main ----------------------------------------------------------------- */

/* Like ip -n: the network namespace /var/run/netns/NAME for what follows. */
static int enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err("netns \"%s\": %s: %s", name, path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err("netns \"%s\": setns: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} objects[] = {
	{ "stats",	do_stats },
	{ "monitor",	do_monitor },
	{ "run",	do_run },
	{ "rule",	do_rule },
	{ "show",	do_show },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,	   NULL, 'j' },
		{ "pretty",	no_argument,	   NULL, 'P' },
		{ "netns",	required_argument, NULL, 'n' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ }
	};
	unsigned int i;
	int c;

	/* Options before the object, then the object's own. */
	while ((c = getopt_long(argc, argv, "+jn:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'P':
			json = true;
			pretty = true;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'V':
			printf("tcpterm %s\n", TCPTERM_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	if (!strcmp(argv[0], "help")) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		int oc = argc - 1, j, k;
		char **ov = argv + 1;

		if (strcmp(argv[0], objects[i].name))
			continue;
		/*
		 * -j, --pretty and -n NAME may follow the object too (as in
		 * "tcpterm monitor -c 1 -j"), up to a "--".
		 */
		for (j = 0, k = 0; j < oc; j++) {
			if (!strcmp(ov[j], "--")) {
				while (j < oc)
					ov[k++] = ov[j++];
				break;
			}
			if (!strcmp(ov[j], "-j") || !strcmp(ov[j], "--json")) {
				json = true;
			} else if (!strcmp(ov[j], "--pretty")) {
				json = true;
			pretty = true;
			} else if ((!strcmp(ov[j], "-n") ||
				    !strcmp(ov[j], "--netns")) && j + 1 < oc) {
				netns = ov[++j];
			} else {
				ov[k++] = ov[j];
			}
		}
		oc = k;
		ov[oc] = NULL;
		if (netns && enter_netns(netns))
			return EXIT_FAILURE;
		return objects[i].fn(oc, ov);
	}
	return bad_usage("unknown object \"%s\"", argv[0]);
}
