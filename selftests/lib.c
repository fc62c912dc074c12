// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <time.h>

#include "lib.h"

static void tt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *tt_fmt(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *tt_fmt(const char *fmt, ...)
{
	static char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static void tt_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		TT_FAIL("'%s' failed (%d)", cmd, rc);
}

static int tt_ns_open(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		TT_FAIL("open %s", path);
	return fd;
}

const struct tt_variant tt_ipv4 = {
	"ipv4", AF_INET, "10.77.0.2", "0.0.0.0"
};
const struct tt_variant tt_ipv6 = {
	"ipv6", AF_INET6, "fd77::2", "::"
};
const struct tt_variant tt_mapped = {
	"mapped", AF_INET6, "::ffff:10.77.0.2", "::"
};

int tt_scaled(int ms)
{
	static int scale;

	if (!scale) {
		const char *env = getenv("TCPTERM_TIME_SCALE");

		scale = env && atoi(env) > 0 ? atoi(env) : 1;
	}
	return ms * scale;
}

void (*tt_fail_hook)(void);

void tt_fail_now(void)
{
	tt_topo_down();
	if (tt_fail_hook)
		tt_fail_hook();
	_exit(KSFT_FAIL);
}

/* What deletes the namespaces made so far, and the process that made them. */
static char tt_cleanup_cmd[4096];
static pid_t tt_cleanup_owner;

void tt_topo_down(void)
{
	int rc;

	if (!tt_cleanup_cmd[0] || tt_cleanup_owner != getpid())
		return;
	fflush(stdout);
	rc = system(tt_cleanup_cmd);
	tt_cleanup_cmd[0] = '\0';
	if (rc)
		printf("# namespace cleanup failed\n");
}

/*
 * One shell for the whole topology, and one iproute2 batch per namespace:
 * on a debug kernel under emulation every fork and exec costs a lot, and
 * a topology used to take a dozen of each.
 */
void tt_topo_up(struct tt_topo *t, int delay_ms)
{
	static const char ns_batch[] =
		"printf 'link set lo up\\nlink set %s up\\n"
		"addr add 10.77.0.%d/24 dev %s\\n"
		"addr add fd77::%d/64 dev %s nodad\\n' | /sbin/ip -n %s -b - && ";
	static int seq;
	char cmd[2048], *p = cmd, *end = cmd + sizeof(cmd);
	int i;

	seq++;
	snprintf(t->cli, sizeof(t->cli), "tt-cli-%d-%d", getpid(), seq);
	snprintf(t->srv, sizeof(t->srv), "tt-srv-%d-%d", getpid(), seq);
	if (tt_cleanup_owner != getpid()) {
		/* Forked from the maker of other namespaces: not ours. */
		tt_cleanup_cmd[0] = '\0';
		tt_cleanup_owner = getpid();
		atexit(tt_topo_down);
	}
	snprintf(tt_cleanup_cmd + strlen(tt_cleanup_cmd),
		 sizeof(tt_cleanup_cmd) - strlen(tt_cleanup_cmd),
		 "/sbin/ip netns del %s; /sbin/ip netns del %s; ", t->cli, t->srv);
	p += snprintf(p, end - p,
		      "/sbin/ip netns add %s && /sbin/ip netns add %s && "
		      "/sbin/ip -n %s link add veth0 type veth peer name veth1 netns %s && ",
		      t->cli, t->srv, t->cli, t->srv);
	for (i = 0; i < 2; i++) {
		const char *ns = i ? t->srv : t->cli;
		const char *dev = i ? "veth1" : "veth0";

		p += snprintf(p, end - p, ns_batch, dev, i + 1, dev, i + 1,
			      dev, ns);
		if (delay_ms > 0)
			p += snprintf(p, end - p,
				      "/sbin/tc -n %s qdisc add dev %s root netem delay %dms limit 10000 && ",
				      ns, dev, delay_ms);
	}
	snprintf(p, end - p, "true");
	tt_sh("%s", cmd);
	t->cli_ns = tt_ns_open(t->cli);
	t->srv_ns = tt_ns_open(t->srv);
}

void tt_netem(const struct tt_topo *t, int srv, const char *args)
{
	tt_sh("/sbin/ip netns exec %s /sbin/tc qdisc add dev %s root netem %s",
	      srv ? t->srv : t->cli, srv ? "veth1" : "veth0", args);
}

void tt_dump(const struct tt_topo *t)
{
	fflush(stdout);
	if (system(tt_fmt("for n in %s %s; do echo \"== $n\"; /sbin/ip netns exec $n /sbin/ss -tanoime state connected; /sbin/ip netns exec $n cat /proc/net/netstat | awk '/^TcpExt/ { if (!h) { split($0, k); h = 1 } else for (i = 2; i <= NF; i++) if ($i != 0) printf \"%%s=%%s \", k[i], $i; } END { print \"\" }'; done 2>&1 | grep -v cgroup2 | sed 's/^/# /'",
			  t->cli, t->srv)))
		printf("# ss failed\n");
	fflush(stdout);
}

void tt_enter(int ns)
{
	if (setns(ns, CLONE_NEWNET))
		TT_FAIL("setns");
}

static socklen_t tt_sockaddr(const struct tt_variant *v, const char *addr,
			     int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (v->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			TT_FAIL("bad address %s", addr);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			TT_FAIL("bad address %s", addr);
		return sizeof(*sin6);
	}
}

int tt_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		TT_FAIL("getsockname");
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void tt_set_int(int fd, int opt, int val)
{
	if (setsockopt(fd, SOL_TCPTERM, opt, &val, sizeof(val)))
		TT_FAIL("setsockopt SOL_TCPTERM %d = %d", opt, val);
}

void tt_set_policy(int fd, int policy)
{
	tt_set_int(fd, TCPTERM_POLICY, policy);
}

void tt_get_info(int fd, struct tcpterm_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0xff, sizeof(*info));
	if (getsockopt(fd, SOL_TCPTERM, TCPTERM_INFO, info, &len))
		TT_FAIL("getsockopt TCPTERM_INFO");
	if (len != sizeof(*info) || info->tti_version != TCPTERM_INFO_VERSION)
		TT_FAIL("TCPTERM_INFO: %u bytes of version %u, expected %zu of %u",
			len, info->tti_version, sizeof(*info),
			TCPTERM_INFO_VERSION);
}

int tt_listen(const struct tt_topo *t, const struct tt_variant *v, int policy)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	tt_enter(t->srv_ns);
	fd = socket(v->family, SOCK_STREAM, 0);
	if (fd < 0)
		TT_FAIL("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (policy >= 0)
		tt_set_policy(fd, policy);
	len = tt_sockaddr(v, v->srv_bind, 0, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128))
		TT_FAIL("bind/listen");
	return fd;
}

socklen_t tt_server_addr(const struct tt_variant *v, int lsn,
			 struct sockaddr_storage *ss)
{
	return tt_sockaddr(v, v->srv_addr, tt_port(lsn), ss);
}

void tt_sysctl(int ns, const char *path, const char *val)
{
	FILE *f;

	tt_enter(ns);
	f = fopen(path, "w");
	if (!f || fputs(val, f) < 0 || fclose(f))
		TT_FAIL("write %s", path);
}

int tt_connect(const struct tt_topo *t, const struct tt_variant *v, int lsn)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	len = tt_sockaddr(v, v->srv_addr, tt_port(lsn), &ss);
	tt_enter(t->cli_ns);
	fd = socket(v->family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len))
		TT_FAIL("connect to %s", v->srv_addr);
	return fd;
}

int tt_accept(const struct tt_topo *t, int lsn)
{
	int fd;

	tt_enter(t->srv_ns);
	fd = accept(lsn, NULL, NULL);
	if (fd < 0)
		TT_FAIL("accept");
	return fd;
}

void tt_pair_open(const struct tt_topo *t, const struct tt_variant *v,
		  struct tt_pair *p)
{
	p->lsn = tt_listen(t, v, -1);
	p->cli = tt_connect(t, v, p->lsn);
	p->srv = tt_accept(t, p->lsn);
}

short tt_poll(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	if (poll(&pfd, 1, timeout_ms) < 0)
		TT_FAIL("poll");
	return pfd.revents;
}

void tt_wait_inq(int fd, int n)
{
	int i, inq = 0;

	for (i = 0; i < tt_scaled(500); i++) {
		if (ioctl(fd, SIOCINQ, &inq))
			TT_FAIL("SIOCINQ");
		if (inq >= n)
			return;
		tt_msleep(10);
	}
	TT_FAIL("only %d of %d bytes arrived", inq, n);
}

long tt_recv(int fd, void *buf, size_t len, int timeout_ms)
{
	ssize_t r;

	tt_poll(fd, POLLIN, tt_scaled(timeout_ms));
	r = recv(fd, buf, len, MSG_DONTWAIT);
	return r < 0 ? -errno : r;
}

void tt_send(int fd, size_t n)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	while (n) {
		size_t chunk = n < sizeof(buf) ? n : sizeof(buf);
		ssize_t w = send(fd, buf, chunk, MSG_NOSIGNAL);

		if (w <= 0)
			TT_FAIL("send");
		n -= w;
	}
}

int tt_tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		TT_FAIL("TCP_INFO");
	return ti.tcpi_state;
}

int tt_wait_closed(int fd, int timeout_ms)
{
	int waited, state;

	for (waited = 0; ; waited += 10) {
		state = tt_tcp_state(fd);
		if (state == TCP_CLOSE || waited >= tt_scaled(timeout_ms))
			return state;
		tt_msleep(10);
	}
}

void tt_expect_reset_in_close_wait(int fd, int timeout_ms)
{
	int state = tt_wait_closed(fd, timeout_ms), err;

	if (state != TCP_CLOSE)
		TT_FAIL("state %d, expected TCP_CLOSE (%d)", state, TCP_CLOSE);
	err = tt_so_error(fd);
	if (err != EPIPE)
		TT_FAIL("SO_ERROR %d (%s), expected EPIPE", err, strerror(err));
}

int tt_so_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		TT_FAIL("SO_ERROR");
	return err;
}

void tt_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long long tt_table_field(const char *path, const char *table,
				const char *field)
{
	char names[4096], vals[4096], *n, *v, *sn, *sv;
	size_t tl = strlen(table);
	FILE *f = fopen(path, "r");

	if (!f)
		TT_FAIL("open %s", path);
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, table, tl) || names[tl] != ':')
			continue;
		n = strtok_r(names + tl + 1, " \n", &sn);
		v = strtok_r(vals + tl + 1, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, field)) {
				fclose(f);
				return atoll(v);
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
	TT_FAIL("%s %s not found in %s", table, field, path);
}

long long tt_snmp(int ns, const char *table, const char *field)
{
	tt_enter(ns);
	if (!strcmp(table, "TcpExt"))
		return tt_table_field("/proc/self/net/netstat", table, field);
	return tt_table_field("/proc/self/net/snmp", table, field);
}

long long tt_stat(int ns, const char *name)
{
	char key[64];
	long long val;
	FILE *f;

	tt_enter(ns);
	f = fopen("/proc/self/net/tcpterm", "r");
	if (!f)
		TT_FAIL("open /proc/net/tcpterm");
	while (fscanf(f, "%63s %lld", key, &val) == 2) {
		if (!strcmp(key, name)) {
			fclose(f);
			return val;
		}
	}
	fclose(f);
	TT_FAIL("counter %s missing", name);
}

/* Generic netlink, by hand: resolve the family and join its group. */

struct tt_nlmsg {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char buf[1024];
};

struct nlattr *tt_nla_find(void *data, int len, int type)
{
	struct nlattr *a = data;

	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		len -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

/* Resolve the family: its id, and the id of its events group. */
static int tt_genl_resolve(int fd, int *family_id)
{
	struct tt_nlmsg req = { 0 }, resp;
	struct nlattr *a, *grps, *g, *id;
	int len, rem;

	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.genl.cmd = CTRL_CMD_GETFAMILY;
	req.genl.version = 1;
	a = (struct nlattr *)req.buf;
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + sizeof(TCPTERM_GENL_NAME);
	memcpy((char *)a + NLA_HDRLEN, TCPTERM_GENL_NAME,
	       sizeof(TCPTERM_GENL_NAME));
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0)
		TT_FAIL("genl send");
	len = recv(fd, &resp, sizeof(resp), 0);
	if (len < 0 || resp.nlh.nlmsg_type == NLMSG_ERROR)
		TT_FAIL("genl family %s not found", TCPTERM_GENL_NAME);
	len = resp.nlh.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	id = tt_nla_find(resp.buf, len, CTRL_ATTR_FAMILY_ID);
	grps = tt_nla_find(resp.buf, len, CTRL_ATTR_MCAST_GROUPS);
	if (!id || !grps)
		TT_FAIL("no family id or multicast groups");
	*family_id = *(uint16_t *)((char *)id + NLA_HDRLEN);
	g = (struct nlattr *)((char *)grps + NLA_HDRLEN);
	rem = grps->nla_len - NLA_HDRLEN;
	while (rem >= (int)sizeof(*g) && g->nla_len >= sizeof(*g)) {
		int glen = g->nla_len - NLA_HDRLEN;
		struct nlattr *name, *gid;

		name = tt_nla_find((char *)g + NLA_HDRLEN, glen,
				   CTRL_ATTR_MCAST_GRP_NAME);
		gid = tt_nla_find((char *)g + NLA_HDRLEN, glen,
				  CTRL_ATTR_MCAST_GRP_ID);
		if (name && gid &&
		    !strcmp((char *)name + NLA_HDRLEN, TCPTERM_GENL_MCGRP_EVENTS))
			return *(uint32_t *)((char *)gid + NLA_HDRLEN);
		rem -= NLA_ALIGN(g->nla_len);
		g = (struct nlattr *)((char *)g + NLA_ALIGN(g->nla_len));
	}
	TT_FAIL("group %s not found", TCPTERM_GENL_MCGRP_EVENTS);
}

int tt_genl_family(int fd)
{
	int id;

	tt_genl_resolve(fd, &id);
	return id;
}

static int tt_genl_socket(int ns)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd;

	tt_enter(ns);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		TT_FAIL("netlink socket");
	return fd;
}

static int tt_events_grp;

int tt_genl_events_socket(int ns)
{
	int fd = tt_genl_socket(ns), family;

	tt_events_grp = tt_genl_resolve(fd, &family);
	return fd;
}

int tt_genl_join_events(int fd)
{
	return setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			  &tt_events_grp, sizeof(tt_events_grp));
}

int tt_events_open(int ns)
{
	int fd = tt_genl_events_socket(ns);

	if (tt_genl_join_events(fd))
		TT_FAIL("join group %d", tt_events_grp);
	return fd;
}

static void *tt_nla_data(struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

/*
 * Every attribute of an event is known, appears once, and has its exact
 * size (addresses 4 or 16 bytes, both the same); the message ends with
 * its last attribute.  Anything else fails the test.  Size 0: unknown;
 * -1: an address; -2: a nest.
 */
static void tt_attrs_check(const char *what, void *buf, int len,
			   const int *size, int max, bool *seen)
{
	int alen = 0, n, type;
	struct nlattr *a;

	for (a = buf; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	     a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
		type = a->nla_type & NLA_TYPE_MASK;
		n = a->nla_len - NLA_HDRLEN;
		if (type < 1 || type > max || !size[type] || seen[type])
			TT_FAIL("%s: unexpected attribute %d", what, type);
		seen[type] = true;
		if (size[type] > 0 && n != size[type])
			TT_FAIL("%s: attribute %d of %d bytes", what, type, n);
		if (size[type] == -1) {
			if ((n != 4 && n != 16) || (alen && n != alen))
				TT_FAIL("%s: address of %d bytes", what, n);
			alen = n;
		}
	}
	if (len > 0)
		TT_FAIL("%s: %d bytes after the last attribute", what, len);
}

static void tt_event_check(void *buf, int len)
{
	static const int size[TCPTERM_A_MAX + 1] = {
		[TCPTERM_A_KIND] = 1, [TCPTERM_A_FAMILY] = 1,
		[TCPTERM_A_SADDR] = -1, [TCPTERM_A_DADDR] = -1,
		[TCPTERM_A_SPORT] = 2, [TCPTERM_A_DPORT] = 2,
		[TCPTERM_A_NETNS_INO] = 4, [TCPTERM_A_REASON] = 1,
		[TCPTERM_A_SOCK] = -2,
	};
	bool seen[TCPTERM_A_MAX + 1] = { false };

	tt_attrs_check("event", buf, len, size, TCPTERM_A_MAX, seen);
}

/*
 * The socket nest of an event: cookie, family, the addresses of that
 * family (4 or 16 bytes), ports in network order, state; nothing else.
 */
static void tt_event_sock(struct nlattr *nest, struct tt_event *ev)
{
	static const int size[TCPTERM_SOCK_A_MAX + 1] = {
		[TCPTERM_SOCK_A_COOKIE] = 8, [TCPTERM_SOCK_A_FAMILY] = 1,
		[TCPTERM_SOCK_A_SADDR4] = 4, [TCPTERM_SOCK_A_DADDR4] = 4,
		[TCPTERM_SOCK_A_SADDR6] = 16, [TCPTERM_SOCK_A_DADDR6] = 16,
		[TCPTERM_SOCK_A_SPORT] = 2, [TCPTERM_SOCK_A_DPORT] = 2,
		[TCPTERM_SOCK_A_STATE] = 1, [TCPTERM_SOCK_A_PAD] = -3,
	};
	bool seen[TCPTERM_SOCK_A_MAX + 1] = { false };
	int len = nest->nla_len - NLA_HDRLEN, fam, sa, da;
	void *buf = tt_nla_data(nest);
	struct nlattr *a[TCPTERM_SOCK_A_MAX + 1];
	int i;

	tt_attrs_check("event socket", buf, len, size, TCPTERM_SOCK_A_MAX,
		       seen);
	for (i = 1; i <= TCPTERM_SOCK_A_MAX; i++)
		a[i] = tt_nla_find(buf, len, i);
	if (!a[TCPTERM_SOCK_A_COOKIE] || !a[TCPTERM_SOCK_A_FAMILY] ||
	    !a[TCPTERM_SOCK_A_SPORT] || !a[TCPTERM_SOCK_A_DPORT] ||
	    !a[TCPTERM_SOCK_A_STATE])
		TT_FAIL("event socket without cookie, family, ports or state");
	fam = *(uint8_t *)tt_nla_data(a[TCPTERM_SOCK_A_FAMILY]);
	sa = fam == AF_INET ? TCPTERM_SOCK_A_SADDR4 : TCPTERM_SOCK_A_SADDR6;
	da = fam == AF_INET ? TCPTERM_SOCK_A_DADDR4 : TCPTERM_SOCK_A_DADDR6;
	if (fam != ev->family || !a[sa] || !a[da] ||
	    a[sa]->nla_len - NLA_HDRLEN != ev->alen ||
	    memcmp(tt_nla_data(a[sa]), ev->saddr, ev->alen) ||
	    memcmp(tt_nla_data(a[da]), ev->daddr, ev->alen))
		TT_FAIL("event socket: family or addresses differ");
	if (a[TCPTERM_SOCK_A_SADDR4] && a[TCPTERM_SOCK_A_SADDR6])
		TT_FAIL("event socket: addresses of both families");
	if (*(uint16_t *)tt_nla_data(a[TCPTERM_SOCK_A_SPORT]) != htons(ev->sport) ||
	    *(uint16_t *)tt_nla_data(a[TCPTERM_SOCK_A_DPORT]) != htons(ev->dport))
		TT_FAIL("event socket: ports not %u, %u in network order",
			ev->sport, ev->dport);
	memcpy(&ev->cookie, tt_nla_data(a[TCPTERM_SOCK_A_COOKIE]), 8);
	ev->state = *(uint8_t *)tt_nla_data(a[TCPTERM_SOCK_A_STATE]);
	if (!ev->cookie)
		TT_FAIL("event socket: cookie 0");
}

int tt_events_next(int fd, int kind, struct tt_event *ev, int timeout_ms)
{
	struct nlattr *k, *f, *sp, *dp, *sa, *da, *ino, *rs, *sk;
	struct tt_nlmsg m;
	int len;

	while (tt_poll(fd, POLLIN, tt_scaled(timeout_ms)) & POLLIN) {
		len = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
		if (len <= 0 || m.genl.cmd != TCPTERM_CMD_EVENT)
			continue;
		len = m.nlh.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		tt_event_check(m.buf, len);
		k = tt_nla_find(m.buf, len, TCPTERM_A_KIND);
		if (!k || *(uint8_t *)tt_nla_data(k) != kind)
			continue;
		f = tt_nla_find(m.buf, len, TCPTERM_A_FAMILY);
		sp = tt_nla_find(m.buf, len, TCPTERM_A_SPORT);
		dp = tt_nla_find(m.buf, len, TCPTERM_A_DPORT);
		sa = tt_nla_find(m.buf, len, TCPTERM_A_SADDR);
		da = tt_nla_find(m.buf, len, TCPTERM_A_DADDR);
		ino = tt_nla_find(m.buf, len, TCPTERM_A_NETNS_INO);
		rs = tt_nla_find(m.buf, len, TCPTERM_A_REASON);
		sk = tt_nla_find(m.buf, len, TCPTERM_A_SOCK);
		if (!f || !sp || !dp || !sa || !da || !ino)
			TT_FAIL("event without its 4-tuple or netns");
		if (!sk)
			TT_FAIL("event without TCPTERM_A_SOCK");
		memset(ev, 0, sizeof(*ev));
		ev->kind = kind;
		ev->family = *(uint8_t *)tt_nla_data(f);
		ev->sport = *(uint16_t *)tt_nla_data(sp);
		ev->dport = *(uint16_t *)tt_nla_data(dp);
		ev->alen = sa->nla_len - NLA_HDRLEN;
		if (ev->alen != 4 && ev->alen != 16)
			TT_FAIL("address of %d bytes", ev->alen);
		memcpy(ev->saddr, tt_nla_data(sa), ev->alen);
		memcpy(ev->daddr, tt_nla_data(da), ev->alen);
		ev->netns_ino = *(uint32_t *)tt_nla_data(ino);
		ev->reason = rs ? *(uint8_t *)tt_nla_data(rs) : 0;
		tt_event_sock(sk, ev);
		return 0;
	}
	return -1;
}

/*
 * Decode a GET_STATS reply strictly: at top level only TCPTERM_A_STATS
 * (once) and padding; in the nest only padding (TCPTERM_STAT_PAD, empty)
 * and every counter 1..TCPTERM_STAT_MAX exactly once, 8 bytes each.
 * Anything else fails the test.  Returns the nest, counters in @val.
 */
static struct nlattr *tt_stats_decode(void *buf, int len, long long *val)
{
	bool seen[TCPTERM_STAT_MAX + 1] = { false };
	struct nlattr *a, *nest = NULL;
	int rem, i;

	for (a = buf; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	     a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
		if ((a->nla_type & NLA_TYPE_MASK) == TCPTERM_A_PAD)
			continue;
		if ((a->nla_type & NLA_TYPE_MASK) != TCPTERM_A_STATS || nest)
			TT_FAIL("GET_STATS: unexpected attribute %d", a->nla_type);
		nest = a;
	}
	if (len > 0)
		TT_FAIL("GET_STATS: %d bytes after the last attribute", len);
	if (!nest)
		return NULL;
	rem = nest->nla_len - NLA_HDRLEN;
	for (a = tt_nla_data(nest); rem >= NLA_HDRLEN &&
	     a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len),
	     a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type == TCPTERM_STAT_PAD && a->nla_len == NLA_HDRLEN)
			continue;
		if (type < 1 || type > TCPTERM_STAT_MAX || seen[type] ||
		    a->nla_len != NLA_HDRLEN + sizeof(uint64_t))
			TT_FAIL("GET_STATS: bad counter attribute %d (len %d)",
				type, a->nla_len);
		seen[type] = true;
		memcpy(&val[type], tt_nla_data(a), sizeof(uint64_t));
	}
	if (rem > 0)
		TT_FAIL("GET_STATS: %d bytes after the last counter", rem);
	for (i = 1; i <= TCPTERM_STAT_MAX; i++)
		if (!seen[i])
			TT_FAIL("GET_STATS reply without counter %d", i);
	return nest;
}

long long tt_genl_stat(int ns, int stat)
{
	int fd = tt_genl_socket(ns), family, len;
	long long val[TCPTERM_STAT_MAX + 1];
	struct tt_nlmsg req = { 0 }, resp;
	struct nlattr *nest;

	tt_genl_resolve(fd, &family);
	req.nlh.nlmsg_type = family;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.genl.cmd = TCPTERM_CMD_GET_STATS;
	req.genl.version = TCPTERM_GENL_VERSION;
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0)
		TT_FAIL("GET_STATS send");
	len = recv(fd, &resp, sizeof(resp), 0);
	close(fd);
	if (len < 0 || resp.nlh.nlmsg_type == NLMSG_ERROR)
		TT_FAIL("GET_STATS failed");
	len = resp.nlh.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	nest = tt_stats_decode(resp.buf, len, val);
	if (!nest)
		TT_FAIL("GET_STATS reply without TCPTERM_A_STATS");
	return val[stat];
}

uint32_t tt_netns_ino(int ns)
{
	struct stat st;

	if (fstat(ns, &st))
		TT_FAIL("fstat netns");
	return (uint32_t)st.st_ino;
}

uint64_t tt_sock_cookie(int fd)
{
	socklen_t len = sizeof(uint64_t);
	uint64_t c = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len))
		TT_FAIL("SO_COOKIE");
	return c;
}

long long tt_rmem(int ns, int family, int *nsocks)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = { 0 };
	static char buf[65536];
	long long sum = 0;
	struct nlmsghdr *h;
	int fd, len;

	tt_enter(ns);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		TT_FAIL("sock_diag socket");
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U & ~(1U << TCP_LISTEN);
	req.r.idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1);
	if (send(fd, &req, sizeof(req), 0) < 0)
		TT_FAIL("sock_diag send");
	*nsocks = 0;
	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len <= 0)
			TT_FAIL("sock_diag recv");
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);
			struct rtattr *a = (struct rtattr *)(m + 1);
			int alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

			if (h->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return sum;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				TT_FAIL("sock_diag error");
			for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type != INET_DIAG_SKMEMINFO)
					continue;
				sum += ((uint32_t *)RTA_DATA(a))[SK_MEMINFO_RMEM_ALLOC];
				(*nsocks)++;
			}
		}
	}
}

int tt_gate_open(void)
{
	FILE *f = fopen("/sys/kernel/tracing/enabled_functions", "re");
	char line[512];
	int open = 0;

	if (!f)
		return -1;
	/* A seq_file: read line by line to the end, not one read(). */
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "tcp_reset ", 10))
			open = 1;
	fclose(f);
	return open;
}

uint16_t tt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t tt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void tt_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

void tt_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

uint32_t tt_csum_add(uint32_t sum, const uint8_t *p, int n)
{
	int i;

	for (i = 0; i + 1 < n; i += 2)
		sum += tt_get16(p + i);
	if (n & 1)
		sum += p[n - 1] << 8;
	return sum;
}

uint16_t tt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t tt_tcp_csum(const uint8_t *src, const uint8_t *dst, int alen,
		     const uint8_t *th, int tlen)
{
	uint8_t pseudo[40] = { 0 };
	uint32_t sum;

	memcpy(pseudo, src, alen);
	memcpy(pseudo + alen, dst, alen);
	if (alen == 4) {
		pseudo[9] = IPPROTO_TCP;
		tt_put16(pseudo + 10, tlen);
		sum = tt_csum_add(0, pseudo, 12);
	} else {
		tt_put32(pseudo + 32, tlen);
		pseudo[39] = IPPROTO_TCP;
		sum = tt_csum_add(0, pseudo, 40);
	}
	return tt_csum_fold(tt_csum_add(sum, th, tlen));
}
