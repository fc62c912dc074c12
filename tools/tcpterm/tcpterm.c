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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/magic.h>
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
#define CGROUP_ROOT		"/sys/fs/cgroup"

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
"       tcpterm rule add RULE\n"
"       tcpterm rule del ID\n"
"       tcpterm rule { show | flush }\n"
"       tcpterm show [ port PORT ] [ state STATE ]\n"
"\n"
"RULE := [ port PORT[-PORT] ] [ cgroup PATH ] [ family { inet | inet6 } ]\n"
"        policy POLICY [ drain-time MS ] [ drain-idle MS ] [ grace MS ]\n"
"        [ crossing-error ] [ notice ]\n"
"POLICY := { default | half-duplex | drain }\n"
"STATE := { established | syn-sent | syn-recv | fin-wait-1 | fin-wait-2 |\n"
"           time-wait | close | close-wait | last-ack | listen | closing }\n"
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
	[TCPTERM_EV_DRAIN]	= "drain",
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
 * Send @nlh and feed the answers to @cb until @ctl's callbacks end the
 * exchange.  Returns 0, or -1 with errno set (and nl->extack, if the
 * kernel said why).
 */
static int nl_exchange(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		       void *data, mnl_cb_t *ctl)
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
				  ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && errno == 0)
			errno = EPROTO;
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -1 : 0;
}

/* An NLM_F_ACK request: its answers go to @cb until the ACK. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data)
{
	return nl_exchange(nl, nlh, cb, data, nl_ctl_cbs);
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

/* --- sockets ------------------------------------------------------------- */

/* TCP states by their number in the kernel (include/net/tcp_states.h). */
static const char * const state_names[] = {
	[1] = "established", [2] = "syn-sent", [3] = "syn-recv",
	[4] = "fin-wait-1", [5] = "fin-wait-2", [6] = "time-wait",
	[7] = "close", [8] = "close-wait", [9] = "last-ack", [10] = "listen",
	[11] = "closing",
};

static const unsigned int sock_attr_len[TCPTERM_SOCK_A_MAX + 1] = {
	[TCPTERM_SOCK_A_COOKIE]		= 8,
	[TCPTERM_SOCK_A_FAMILY]		= 1,
	[TCPTERM_SOCK_A_SADDR4]		= 4,
	[TCPTERM_SOCK_A_DADDR4]		= 4,
	[TCPTERM_SOCK_A_SADDR6]		= 16,
	[TCPTERM_SOCK_A_DADDR6]		= 16,
	[TCPTERM_SOCK_A_SPORT]		= 2,
	[TCPTERM_SOCK_A_DPORT]		= 2,
	[TCPTERM_SOCK_A_STATE]		= 1,
	[TCPTERM_SOCK_A_POLICY]		= 1,
	[TCPTERM_SOCK_A_FLAGS]		= 4,
	[TCPTERM_SOCK_A_RST_REASON]	= 1,
	[TCPTERM_SOCK_A_BYTES_DISCARDED] = 8,
	[TCPTERM_SOCK_A_DEADLINE_MS]	= 4,
};

/* The nest @type of a reply of command @cmd, or NULL. */
static const struct nlattr *reply_nest(const struct nlmsghdr *nlh,
				       uint8_t cmd, uint16_t type)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) || g->cmd != cmd)
		return NULL;
	mnl_attr_for_each(a, nlh, sizeof(*g))
		if (mnl_attr_get_type(a) == type &&
		    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			return a;
	return NULL;
}

/* The attributes of @nest by type, each checked for its length. */
static int parse_nest(const struct nlattr *nest, const struct nlattr **tb,
		      unsigned int max, const unsigned int *len)
{
	const struct nlattr *a;
	unsigned int t;

	mnl_attr_for_each_nested(a, nest) {
		t = mnl_attr_get_type(a);
		if (t > max)
			continue;	/* newer than us */
		if (len[t] && mnl_attr_get_payload_len(a) != len[t]) {
			err("attribute %u: %u bytes, not %u", t,
			    mnl_attr_get_payload_len(a), len[t]);
			errno = EBADMSG;
			return -1;
		}
		tb[t] = a;
	}
	return 0;
}

/* Who a socket is: the part of a TCPTERM_A_SOCK nest events carry too. */
struct sock_id {
	char cookie[20];	/* hex, as ss -e prints it after "sk:" */
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	unsigned int family, sport, dport, state;
};

/* 0, or -1 when @tb lacks something (the caller says what it skips). */
static int sock_id_get(const struct nlattr **tb, struct sock_id *id)
{
	const struct nlattr *sa, *da;

	if (!tb[TCPTERM_SOCK_A_COOKIE] || !tb[TCPTERM_SOCK_A_FAMILY] ||
	    !tb[TCPTERM_SOCK_A_SPORT] || !tb[TCPTERM_SOCK_A_DPORT] ||
	    !tb[TCPTERM_SOCK_A_STATE])
		return -1;
	id->family = mnl_attr_get_u8(tb[TCPTERM_SOCK_A_FAMILY]);
	if (id->family != AF_INET && id->family != AF_INET6)
		return -1;
	sa = tb[id->family == AF_INET ? TCPTERM_SOCK_A_SADDR4 :
		TCPTERM_SOCK_A_SADDR6];
	da = tb[id->family == AF_INET ? TCPTERM_SOCK_A_DADDR4 :
		TCPTERM_SOCK_A_DADDR6];
	if (!sa || !da)
		return -1;
	inet_ntop(id->family, mnl_attr_get_payload(sa), id->saddr,
		  sizeof(id->saddr));
	inet_ntop(id->family, mnl_attr_get_payload(da), id->daddr,
		  sizeof(id->daddr));
	snprintf(id->cookie, sizeof(id->cookie), "%llx", (unsigned long long)
		 mnl_attr_get_u64(tb[TCPTERM_SOCK_A_COOKIE]));
	id->sport = ntohs(mnl_attr_get_u16(tb[TCPTERM_SOCK_A_SPORT]));
	id->dport = ntohs(mnl_attr_get_u16(tb[TCPTERM_SOCK_A_DPORT]));
	id->state = mnl_attr_get_u8(tb[TCPTERM_SOCK_A_STATE]);
	return 0;
}

/* "LOCAL REMOTE", IPv6 addresses in brackets. */
static void sock_id_print(const struct sock_id *id)
{
	if (id->family == AF_INET6)
		printf("[%s]:%u [%s]:%u", id->saddr, id->sport, id->daddr,
		       id->dport);
	else
		printf("%s:%u %s:%u", id->saddr, id->sport, id->daddr,
		       id->dport);
}

static void sock_id_json(struct json_object *obj, const struct sock_id *id)
{
	json_object_object_add(obj, "cookie",
			       json_object_new_string(id->cookie));
	json_object_object_add(obj, "family",
			       json_object_new_string(id->family == AF_INET ?
						      "inet" : "inet6"));
	json_object_object_add(obj, "saddr", json_object_new_string(id->saddr));
	json_object_object_add(obj, "sport", json_object_new_int(id->sport));
	json_object_object_add(obj, "daddr", json_object_new_string(id->daddr));
	json_object_object_add(obj, "dport", json_object_new_int(id->dport));
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

static int event_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned int t = mnl_attr_get_type(attr);

	if (t > TCPTERM_A_MAX)
		return MNL_CB_OK;	/* newer than us */
	tb[t] = attr;
	return MNL_CB_OK;
}

/*
 * One event, or -1 (and a warning) when it does not make sense.  The
 * socket comes from its TCPTERM_A_SOCK nest (the version 1 attributes
 * beside it say the same, untyped).
 */
static int print_event(const struct nlattr **tb)
{
	const struct nlattr *stb[TCPTERM_SOCK_A_MAX + 1] = { };
	const char *kname, *rname = NULL, *st;
	struct json_object *obj;
	char b1[32], b2[32], b3[32];
	struct sock_id id;
	uint32_t ino;

	if (!tb[TCPTERM_A_KIND] || !tb[TCPTERM_A_SOCK] ||
	    !tb[TCPTERM_A_NETNS_INO] ||
	    mnl_attr_validate(tb[TCPTERM_A_KIND], MNL_TYPE_U8) ||
	    mnl_attr_validate(tb[TCPTERM_A_NETNS_INO], MNL_TYPE_U32) ||
	    mnl_attr_validate(tb[TCPTERM_A_SOCK], MNL_TYPE_NESTED) ||
	    (tb[TCPTERM_A_REASON] &&
	     mnl_attr_validate(tb[TCPTERM_A_REASON], MNL_TYPE_U8)) ||
	    parse_nest(tb[TCPTERM_A_SOCK], stb, TCPTERM_SOCK_A_MAX,
		       sock_attr_len) ||
	    sock_id_get(stb, &id))
		return -1;
	ino = mnl_attr_get_u32(tb[TCPTERM_A_NETNS_INO]);
	kname = name_of(event_names, ARRAY_SIZE(event_names),
			mnl_attr_get_u8(tb[TCPTERM_A_KIND]), "event",
			b1, sizeof(b1));
	if (tb[TCPTERM_A_REASON])
		rname = name_of(reason_names, ARRAY_SIZE(reason_names),
				mnl_attr_get_u8(tb[TCPTERM_A_REASON]),
				"reason", b2, sizeof(b2));
	st = name_of(state_names, ARRAY_SIZE(state_names), id.state, "state",
		     b3, sizeof(b3));

	if (!json) {
		printf("%s ", kname);
		sock_id_print(&id);
		printf(" sk:%s", id.cookie);
		if (rname)
			printf(" reason %s", rname);
		printf(" netns %u\n", ino);
		fflush(stdout);
		return 0;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "event", json_object_new_string(kname));
	sock_id_json(obj, &id);
	json_object_object_add(obj, "state", json_object_new_string(st));
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

/* --- dumps ---------------------------------------------------------------- */

/*
 * NLMSG_DONE of a dump: its payload is the dump's result, which may be an
 * error with the kernel's message after it.
 */
static int nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_talk *t = data;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return MNL_CB_STOP;
	error = *(int *)mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, sizeof(int), extack_attr_cb, t->nl);
	if (error < 0) {
		errno = -error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/* Ask for the dump @cmd and feed every message to @cb. */
static int nl_dump(struct nl *nl, uint8_t cmd, mnl_cb_t cb, void *data)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR]	= nl_error_cb,
		[NLMSG_DONE]	= nl_done_cb,
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_req(nl, buf, nl->family, cmd, TCPTERM_GENL_VERSION);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	return nl_exchange(nl, nlh, cb, data, ctl);
}

/*
 * The error of a request, with the kernel's message when it gave one.  A
 * module older than the command does not know it: status 2.
 */
static int nl_fail(struct nl *nl, const char *what)
{
	if (errno == EOPNOTSUPP) {
		err("%s: not supported by this kernel module", what);
		nl_close(nl);
		return EXIT_UNSUPPORTED;
	}
	err("%s: %s%s%s", what, strerror(errno), nl->extack[0] ? ": " : "",
	    nl->extack);
	nl_close(nl);
	return EXIT_FAILURE;
}

/* --- rule ----------------------------------------------------------------- */

struct rule {
	unsigned long port_lo, port_hi;
	uint64_t cgroup;
	int family;
	int policy;
	long drain_time, drain_idle, grace;
	bool crossing_error, notice;
};

static const unsigned int rule_attr_len[TCPTERM_RULE_A_MAX + 1] = {
	[TCPTERM_RULE_A_ID]		= 4,
	[TCPTERM_RULE_A_FAMILY]		= 1,
	[TCPTERM_RULE_A_PORT_MIN]	= 2,
	[TCPTERM_RULE_A_PORT_MAX]	= 2,
	[TCPTERM_RULE_A_CGROUP]		= 8,
	[TCPTERM_RULE_A_POLICY]		= 4,
	[TCPTERM_RULE_A_CROSSING_ERROR]	= 4,
	[TCPTERM_RULE_A_DRAIN_TIME_MS]	= 4,
	[TCPTERM_RULE_A_DRAIN_IDLE_MS]	= 4,
	[TCPTERM_RULE_A_GRACE_MS]	= 4,
	[TCPTERM_RULE_A_NOTICE]		= 4,
};

/* The settings of a rule: attribute, keyword in text, key in JSON. */
static const struct {
	uint16_t attr;
	const char *word, *key;
} rule_settings[] = {
	{ TCPTERM_RULE_A_POLICY,	 "policy",	   "policy" },
	{ TCPTERM_RULE_A_DRAIN_TIME_MS,	 "drain-time",	   "drain_time_ms" },
	{ TCPTERM_RULE_A_DRAIN_IDLE_MS,	 "drain-idle",	   "drain_idle_ms" },
	{ TCPTERM_RULE_A_GRACE_MS,	 "grace",	   "grace_ms" },
	{ TCPTERM_RULE_A_CROSSING_ERROR, "crossing-error", "crossing_error" },
	{ TCPTERM_RULE_A_NOTICE,	 "notice",	   "notice" },
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

/*
 * A cgroup v2 directory to its id, the inode number.  An absolute path is
 * taken as it is when it is a cgroup v2 directory, else under
 * /sys/fs/cgroup, as a relative path is.
 */
static int cgroup_id(const char *path, uint64_t *id)
{
	char full[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	if (path[0] == '/' && !stat(path, &st) && S_ISDIR(st.st_mode) &&
	    !statfs(path, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		*id = st.st_ino;
		return 0;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", CGROUP_ROOT,
			     path[0] == '/' ? path + 1 : path) >= sizeof(full)) {
		err("cgroup \"%s\": path too long", path);
		return -1;
	}
	if (stat(full, &st) || statfs(full, &sfs)) {
		err("cgroup \"%s\": %s: %s", path, full, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		err("cgroup \"%s\": %s is not a cgroup v2 directory", path,
		    full);
		return -1;
	}
	*id = st.st_ino;
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
		if (!strcmp(k, "notice")) {
			r->notice = true;
			continue;
		}
		if (!val)
			return bad_usage("rule: \"%s\" needs a value", k);
		i++;
		if (!strcmp(k, "port")) {
			if (parse_port_range(val, r))
				return -1;
		} else if (!strcmp(k, "cgroup")) {
			if (!*val)
				return bad_usage("cgroup: an empty path");
			if (cgroup_id(val, &r->cgroup))
				return -1;
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

static void put_rule(struct nlmsghdr *nlh, const struct rule *r)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, TCPTERM_A_RULE);

	if (r->family)
		mnl_attr_put_u8(nlh, TCPTERM_RULE_A_FAMILY, r->family);
	if (r->port_lo) {
		mnl_attr_put_u16(nlh, TCPTERM_RULE_A_PORT_MIN, htons(r->port_lo));
		mnl_attr_put_u16(nlh, TCPTERM_RULE_A_PORT_MAX, htons(r->port_hi));
	}
	if (r->cgroup)
		mnl_attr_put_u64(nlh, TCPTERM_RULE_A_CGROUP, r->cgroup);
	mnl_attr_put_u32(nlh, TCPTERM_RULE_A_POLICY, r->policy);
	if (r->drain_time >= 0)
		mnl_attr_put_u32(nlh, TCPTERM_RULE_A_DRAIN_TIME_MS, r->drain_time);
	if (r->drain_idle >= 0)
		mnl_attr_put_u32(nlh, TCPTERM_RULE_A_DRAIN_IDLE_MS, r->drain_idle);
	if (r->grace >= 0)
		mnl_attr_put_u32(nlh, TCPTERM_RULE_A_GRACE_MS, r->grace);
	if (r->crossing_error)
		mnl_attr_put_u32(nlh, TCPTERM_RULE_A_CROSSING_ERROR, 1);
	if (r->notice)
		mnl_attr_put_u32(nlh, TCPTERM_RULE_A_NOTICE, 1);
	mnl_attr_nest_end(nlh, nest);
}

/* Rules printed: one line each, or one JSON array at the end. */
struct rule_out {
	struct json_object *arr;
	unsigned int n;
};

/* One rule as the kernel stored it, in the words "rule add" takes. */
static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TCPTERM_RULE_A_MAX + 1] = { };
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct rule_out *out = data;
	const struct nlattr *nest;
	struct json_object *obj;
	unsigned int i, v, lo = 0, hi = 0;
	char b[32];

	nest = reply_nest(nlh, g->cmd, TCPTERM_A_RULE);
	if (!nest)
		return MNL_CB_OK;
	if (parse_nest(nest, tb, TCPTERM_RULE_A_MAX, rule_attr_len))
		return MNL_CB_ERROR;
	if (!tb[TCPTERM_RULE_A_ID]) {
		err("a rule without an id");
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	out->n++;
	if (tb[TCPTERM_RULE_A_PORT_MIN]) {
		lo = ntohs(mnl_attr_get_u16(tb[TCPTERM_RULE_A_PORT_MIN]));
		hi = tb[TCPTERM_RULE_A_PORT_MAX] ?
		     ntohs(mnl_attr_get_u16(tb[TCPTERM_RULE_A_PORT_MAX])) : lo;
	}
	obj = json ? json_object_new_object() : NULL;
	v = mnl_attr_get_u32(tb[TCPTERM_RULE_A_ID]);
	if (obj)
		json_object_object_add(obj, "id", json_object_new_int64(v));
	else
		printf("rule %u", v);
	if (tb[TCPTERM_RULE_A_FAMILY]) {
		const char *f;

		v = mnl_attr_get_u8(tb[TCPTERM_RULE_A_FAMILY]);
		f = v == AF_INET ? "inet" : v == AF_INET6 ? "inet6" : "?";
		if (obj)
			json_object_object_add(obj, "family",
					       json_object_new_string(f));
		else
			printf(" family %s", f);
	}
	if (lo) {
		if (obj) {
			json_object_object_add(obj, "port_min",
					       json_object_new_int(lo));
			json_object_object_add(obj, "port_max",
					       json_object_new_int(hi));
		} else if (lo == hi) {
			printf(" port %u", lo);
		} else {
			printf(" port %u-%u", lo, hi);
		}
	}
	if (tb[TCPTERM_RULE_A_CGROUP]) {
		uint64_t id = mnl_attr_get_u64(tb[TCPTERM_RULE_A_CGROUP]);

		if (obj)
			json_object_object_add(obj, "cgroup",
					       json_object_new_uint64(id));
		else
			printf(" cgroup-id %llu", (unsigned long long)id);
	}
	for (i = 0; i < ARRAY_SIZE(rule_settings); i++) {
		const struct nlattr *a = tb[rule_settings[i].attr];
		const char *key = rule_settings[i].key;

		if (!a)
			continue;
		v = mnl_attr_get_u32(a);
		if (rule_settings[i].attr == TCPTERM_RULE_A_POLICY) {
			const char *p = name_of(policy_names,
						ARRAY_SIZE(policy_names), v,
						"policy", b, sizeof(b));

			if (obj)
				json_object_object_add(obj, key,
						       json_object_new_string(p));
			else
				printf(" policy %s", p);
		} else if (rule_settings[i].attr ==
			   TCPTERM_RULE_A_CROSSING_ERROR ||
			   rule_settings[i].attr == TCPTERM_RULE_A_NOTICE) {
			if (obj)
				json_object_object_add(obj, key,
						       json_object_new_boolean(v));
			else if (v)
				printf(" %s", rule_settings[i].word);
		} else if (obj) {
			json_object_object_add(obj, key,
					       json_object_new_int64(v));
		} else {
			printf(" %s %u", rule_settings[i].word, v);
		}
	}
	if (obj)
		json_object_array_add(out->arr, obj);
	else
		putchar('\n');
	return MNL_CB_OK;
}

static int rule_out_end(struct rule_out *out, bool array)
{
	if (json) {
		if (array)
			json_print(out->arr);
		else if (out->n)
			json_print(json_object_array_get_idx(out->arr, 0));
		json_object_put(out->arr);
	}
	fflush(stdout);
	return EXIT_SUCCESS;
}

static int do_rule(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct rule_out out = { };
	struct nlmsghdr *nlh;
	unsigned long id = 0;
	struct rule r;
	struct nl nl;
	const char *cmd;

	if (argc < 1)
		return bad_usage("rule: add, del, show or flush");
	cmd = argv[0];
	if (!strcmp(cmd, "add")) {
		if (parse_rule(argc - 1, argv + 1, &r))
			return EXIT_FAILURE;
	} else if (!strcmp(cmd, "del")) {
		if (argc != 2)
			return bad_usage("rule del: the rule's id, and nothing else");
		if (parse_uint("rule id", argv[1], 1, UINT32_MAX, &id))
			return EXIT_FAILURE;
	} else if (!strcmp(cmd, "show") || !strcmp(cmd, "list") ||
		   !strcmp(cmd, "flush")) {
		if (argc > 1)
			return bad_usage("rule %s: unknown argument \"%s\"",
					 cmd, argv[1]);
	} else {
		return bad_usage("rule: unknown command \"%s\"", cmd);
	}

	if (nl_init(&nl))
		return EXIT_FAILURE;
	if (json)
		out.arr = json_object_new_array();
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list")) {
		if (nl_dump(&nl, TCPTERM_CMD_RULE_GET, rule_cb, &out))
			return nl_fail(&nl, "rule show");
		nl_close(&nl);
		return rule_out_end(&out, true);
	}
	if (!strcmp(cmd, "add")) {
		nlh = genl_req(&nl, buf, nl.family, TCPTERM_CMD_RULE_ADD,
			       TCPTERM_GENL_VERSION);
		put_rule(nlh, &r);
	} else if (!strcmp(cmd, "del")) {
		struct nlattr *nest;

		nlh = genl_req(&nl, buf, nl.family, TCPTERM_CMD_RULE_DEL,
			       TCPTERM_GENL_VERSION);
		nest = mnl_attr_nest_start(nlh, TCPTERM_A_RULE);
		mnl_attr_put_u32(nlh, TCPTERM_RULE_A_ID, id);
		mnl_attr_nest_end(nlh, nest);
	} else {
		nlh = genl_req(&nl, buf, nl.family, TCPTERM_CMD_RULE_FLUSH,
			       TCPTERM_GENL_VERSION);
	}
	if (nl_talk(&nl, nlh, rule_cb, &out)) {
		char what[16];

		snprintf(what, sizeof(what), "rule %s", cmd);
		if (json)
			json_object_put(out.arr);
		return nl_fail(&nl, what);
	}
	nl_close(&nl);
	/* "add" prints the rule as stored, with its id. */
	return rule_out_end(&out, false);
}

/* --- show ----------------------------------------------------------------- */

static const char * const flag_names[] = {
	"tracked", "rst-sent", "crossed", "late-data", "draining", "forced",
	"notice-ok", "notice-sent", "notice-rcvd", "notice-unread",
};

struct show {
	unsigned long port;	/* 0: any; local or remote */
	int state;		/* -1: any */
	struct json_object *arr;
};

static int sock_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TCPTERM_SOCK_A_MAX + 1] = { };
	char b1[32], b2[32], b3[32], flags[96] = "";
	const char *st, *pol, *reason = NULL;
	struct json_object *obj, *fl;
	const struct nlattr *nest;
	struct show *s = data;
	uint64_t discarded = 0;
	unsigned int f, i;
	struct sock_id id;

	nest = reply_nest(nlh, TCPTERM_CMD_SOCK_GET, TCPTERM_A_SOCK);
	if (!nest)
		return MNL_CB_OK;
	if (parse_nest(nest, tb, TCPTERM_SOCK_A_MAX, sock_attr_len))
		return MNL_CB_ERROR;
	if (sock_id_get(tb, &id) || !tb[TCPTERM_SOCK_A_POLICY]) {
		err("show: a socket without cookie, addresses, ports, state or policy skipped");
		return MNL_CB_OK;
	}
	if (s->port && s->port != id.sport && s->port != id.dport)
		return MNL_CB_OK;
	if (s->state >= 0 && (unsigned int)s->state != id.state)
		return MNL_CB_OK;

	st = name_of(state_names, ARRAY_SIZE(state_names), id.state, "state",
		     b1, sizeof(b1));
	pol = name_of(policy_names, ARRAY_SIZE(policy_names),
		      mnl_attr_get_u8(tb[TCPTERM_SOCK_A_POLICY]), "policy",
		      b2, sizeof(b2));
	f = tb[TCPTERM_SOCK_A_FLAGS] ?
	    mnl_attr_get_u32(tb[TCPTERM_SOCK_A_FLAGS]) : 0;
	if (tb[TCPTERM_SOCK_A_RST_REASON] &&
	    mnl_attr_get_u8(tb[TCPTERM_SOCK_A_RST_REASON]) != TCPTERM_RST_NONE)
		reason = name_of(reason_names, ARRAY_SIZE(reason_names),
				 mnl_attr_get_u8(tb[TCPTERM_SOCK_A_RST_REASON]),
				 "reason", b3, sizeof(b3));
	if (tb[TCPTERM_SOCK_A_BYTES_DISCARDED])
		discarded = mnl_attr_get_u64(tb[TCPTERM_SOCK_A_BYTES_DISCARDED]);

	if (!json) {
		for (i = 0; i < ARRAY_SIZE(flag_names); i++)
			if (f & (1U << i))
				snprintf(flags + strlen(flags),
					 sizeof(flags) - strlen(flags), "%s%s",
					 flags[0] ? "," : "", flag_names[i]);
		printf("%-12s ", st);
		sock_id_print(&id);
		printf(" sk:%s policy %s", id.cookie, pol);
		if (tb[TCPTERM_SOCK_A_DEADLINE_MS])
			printf(" deadline %ums",
			       mnl_attr_get_u32(tb[TCPTERM_SOCK_A_DEADLINE_MS]));
		printf(" discarded %llu", (unsigned long long)discarded);
		if (flags[0])
			printf(" flags %s", flags);
		if (reason)
			printf(" reason %s", reason);
		putchar('\n');
		return MNL_CB_OK;
	}
	obj = json_object_new_object();
	sock_id_json(obj, &id);
	json_object_object_add(obj, "state", json_object_new_string(st));
	json_object_object_add(obj, "policy", json_object_new_string(pol));
	if (tb[TCPTERM_SOCK_A_DEADLINE_MS])
		json_object_object_add(obj, "deadline_ms",
				       json_object_new_int64(mnl_attr_get_u32(
					       tb[TCPTERM_SOCK_A_DEADLINE_MS])));
	json_object_object_add(obj, "bytes_discarded",
			       json_object_new_uint64(discarded));
	fl = json_object_new_array();
	for (i = 0; i < ARRAY_SIZE(flag_names); i++)
		if (f & (1U << i))
			json_object_array_add(fl, json_object_new_string(flag_names[i]));
	json_object_object_add(obj, "flags", fl);
	if (reason)
		json_object_object_add(obj, "reason",
				       json_object_new_string(reason));
	json_object_array_add(s->arr, obj);
	return MNL_CB_OK;
}

static int do_show(int argc, char **argv)
{
	struct show s = { .state = -1 };
	unsigned int j;
	struct nl nl;
	int i;

	for (i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return bad_usage("show: \"%s\" needs a value", argv[i]);
		if (!strcmp(argv[i], "port")) {
			if (parse_uint("port", argv[i + 1], 1, 65535, &s.port))
				return EXIT_FAILURE;
		} else if (!strcmp(argv[i], "state")) {
			for (j = 0; j < ARRAY_SIZE(state_names); j++)
				if (state_names[j] &&
				    !strcmp(argv[i + 1], state_names[j]))
					break;
			if (j == ARRAY_SIZE(state_names))
				return bad_usage("show: unknown state \"%s\"",
						 argv[i + 1]);
			s.state = j;
		} else {
			return bad_usage("show: unknown argument \"%s\"",
					 argv[i]);
		}
	}
	if (nl_init(&nl))
		return EXIT_FAILURE;
	if (json)
		s.arr = json_object_new_array();
	if (nl_dump(&nl, TCPTERM_CMD_SOCK_GET, sock_cb, &s)) {
		if (json)
			json_object_put(s.arr);
		return nl_fail(&nl, "show");
	}
	nl_close(&nl);
	if (json) {
		json_print(s.arr);
		json_object_put(s.arr);
	}
	fflush(stdout);
	return EXIT_SUCCESS;
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
