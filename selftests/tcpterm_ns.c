// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace defaults (net.tcpterm.* sysctls), rules over generic
 * netlink, and the socket dump, on programs that never call tcpterm.
 *
 *   netns tt-cli-PID-N                   netns tt-srv-PID-N
 *   +-------------------+               +-------------------+
 *   | veth0 10.77.0.1   |<------------->| veth1 10.77.0.2   |
 *   |       fd77::1     |               |       fd77::2     |
 *   +-------------------+               +-------------------+
 *   a second such pair (the "sibling") where a case compares with a
 *   namespace left at its defaults; cgroup v2 mounted on /tmp/tt-cg for
 *   the cgroup rule.
 *
 * The generic netlink client is here, small and by hand, so that the test
 * needs nothing but the uapi header (the tcpterm tool is elsewhere).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

/*
 * Checks usable in helpers as well as in tests (the harness's ASSERT_*
 * need the test's metadata): a failure is a TT_FAIL.
 */
#define NS_EQ(exp, got) do {						\
	long long __e = (long long)(exp), __g = (long long)(got);	\
	if (__e != __g)							\
		TT_FAIL("%s == %s: expected %lld, got %lld (errno %d)",	\
			#exp, #got, __e, __g, errno);			\
} while (0)

/* @got is at least @min. */
#define NS_GE(min, got) do {						\
	long long __m = (long long)(min), __g = (long long)(got);	\
	if (__g < __m)							\
		TT_FAIL("%s >= %s: got %lld, want at least %lld",	\
			#got, #min, __g, __m);				\
} while (0)

#define NS_TRUE(cond) do {						\
	if (!(cond))							\
		TT_FAIL("%s is false (errno %d)", #cond, errno);	\
} while (0)

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define SYSCTL_DIR "/proc/sys/net/tcpterm/"

/* Write a sysctl of the current namespace: 0 or -errno. */
static int sysctl_write(const char *name, const char *val)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val));
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

static long sysctl_read(const char *name)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		TT_FAIL("read %s", path);
	close(fd);
	return strtol(buf, NULL, 10);
}

static int get_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_TCPTERM, opt, &val, &len))
		TT_FAIL("getsockopt %d", opt);
	return val;
}

static uint64_t sock_cookie(int fd)
{
	socklen_t len = sizeof(uint64_t);
	uint64_t c = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len))
		TT_FAIL("SO_COOKIE");
	return c;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		TT_FAIL("getsockname");
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Generic netlink, by hand. */

struct msg {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char buf[8192];
};

static struct nlattr *nla_put(struct msg *m, int type, const void *data,
			      int len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->nlh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static struct nlattr *nest_start(struct msg *m, int type)
{
	return nla_put(m, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct msg *m, struct nlattr *nest)
{
	nest->nla_len = (char *)m + m->nlh.nlmsg_len - (char *)nest;
}

static void put_u8(struct msg *m, int t, uint8_t v) { nla_put(m, t, &v, 1); }
static void put_u16(struct msg *m, int t, uint16_t v) { nla_put(m, t, &v, 2); }
static void put_u32(struct msg *m, int t, uint32_t v) { nla_put(m, t, &v, 4); }
static void put_u64(struct msg *m, int t, uint64_t v) { nla_put(m, t, &v, 8); }

#define NLA_DATA(a)	((void *)((char *)(a) + NLA_HDRLEN))
#define NLA_LEN(a)	((a)->nla_len - NLA_HDRLEN)

static int gen_family = -1;

/* A generic netlink socket that has read nothing yet. */
static int genl_fresh(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		TT_FAIL("netlink socket");
	return fd;
}

static int genl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct msg req = { 0 }, resp;
	struct nlattr *id;
	int fd, len, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		TT_FAIL("netlink socket");
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.genl.cmd = CTRL_CMD_GETFAMILY;
	req.genl.version = 1;
	nla_put(&req, CTRL_ATTR_FAMILY_NAME, TCPTERM_GENL_NAME,
		sizeof(TCPTERM_GENL_NAME));
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0)
		TT_FAIL("genl send");
	len = recv(fd, &resp, sizeof(resp), 0);
	if (len < 0 || resp.nlh.nlmsg_type == NLMSG_ERROR)
		TT_FAIL("family %s not found", TCPTERM_GENL_NAME);
	id = tt_nla_find(resp.buf, resp.nlh.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
		     CTRL_ATTR_FAMILY_ID);
	if (!id)
		TT_FAIL("no family id");
	gen_family = *(uint16_t *)NLA_DATA(id);
	return fd;
}

static void req_init(struct msg *m, int cmd, int flags)
{
	memset(m, 0, sizeof(m->nlh) + sizeof(m->genl));
	m->nlh.nlmsg_type = gen_family;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	m->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->genl.cmd = cmd;
	m->genl.version = TCPTERM_GENL_VERSION;
}

/* The extack message of an error, if any, printed as a diagnostic. */
static void print_extack(struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	int off = sizeof(*e), len;
	struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	len = nlh->nlmsg_len - NLMSG_HDRLEN - off;
	a = tt_nla_find((char *)e + off, len, NLMSGERR_ATTR_MSG);
	if (a)
		TT_LOG("extack: %s", (char *)NLA_DATA(a));
}

/*
 * Send @req with an ACK requested; 0 or -errno.  A reply before the ACK
 * (RULE_ADD's rule) is copied to @reply if given.
 */
static int genl_do(int fd, struct msg *req, struct msg *reply)
{
	static char buf[32768];
	struct nlmsghdr *nlh;
	int len;

	req->nlh.nlmsg_flags |= NLM_F_ACK;
	if (send(fd, req, req->nlh.nlmsg_len, 0) < 0)
		TT_FAIL("send");
	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			TT_FAIL("recv");
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int err = ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;

				if (err)
					print_extack(nlh);
				return err;
			}
			if (reply)
				memcpy(reply, nlh, nlh->nlmsg_len < sizeof(*reply) ?
				       nlh->nlmsg_len : sizeof(*reply));
		}
	}
}

/*
 * Dump @cmd; @fn is called with each message's nest of @nest_type.
 * Returns the number of messages, or -errno; *parts counts the reads
 * that carried messages (a dump spread over several).
 */
/* When set, called once, after the first part of the next dump. */
static void (*dump_pause)(void);

static int genl_dump(int fd, int cmd, int nest_type,
		     void (*fn)(struct nlattr *nest, void *arg), void *arg,
		     int *parts)
{
	void (*pause)(void) = dump_pause;

	dump_pause = NULL;

	static char buf[16384];
	struct nlmsghdr *nlh;
	struct msg req;
	int len, n = 0;

	req_init(&req, cmd, NLM_F_DUMP);
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0)
		TT_FAIL("send");
	if (parts)
		*parts = 0;
	for (;;) {
		/*
		 * With a pause, small reads keep the parts small (the kernel
		 * sizes them after the reads): the next part is made while
		 * this one is read, the ones after it after the pause.
		 */
		len = recv(fd, buf, pause ? 4096 : sizeof(buf), 0);
		if (len < 0)
			TT_FAIL("recv");
		if (parts)
			(*parts)++;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			struct nlattr *nest;

			if (nlh->nlmsg_type == NLMSG_DONE)
				return n;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				print_extack(nlh);
				return ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			}
			nest = tt_nla_find((char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
				       nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
				       nest_type);
			if (!nest)
				TT_FAIL("dump message without its nest");
			if (fn)
				fn(nest, arg);
			n++;
		}
		/* This part is read; the kernel makes the next one later. */
		if (pause) {
			pause();
			pause = NULL;
		}
	}
}

/* A rule to add; 0 leaves a field out of the request. */
struct rule {
	int family;
	int pmin, pmax;
	uint64_t cgroup;
	int policy;
	int drain_time;
	int drain_idle;
};

#define RULE(...) ((struct rule){ __VA_ARGS__ })

/* Add @r: its id, or -errno. */
static int rule_add(int fd, const struct rule *r)
{
	struct msg req, reply;
	struct nlattr *nest, *id;
	int err;

	req_init(&req, TCPTERM_CMD_RULE_ADD, 0);
	nest = nest_start(&req, TCPTERM_A_RULE);
	if (r->family)
		put_u8(&req, TCPTERM_RULE_A_FAMILY, r->family);
	if (r->pmin)
		put_u16(&req, TCPTERM_RULE_A_PORT_MIN, htons(r->pmin));
	if (r->pmax)
		put_u16(&req, TCPTERM_RULE_A_PORT_MAX, htons(r->pmax));
	if (r->cgroup)
		put_u64(&req, TCPTERM_RULE_A_CGROUP, r->cgroup);
	if (r->policy)
		put_u32(&req, TCPTERM_RULE_A_POLICY, r->policy);
	if (r->drain_time)
		put_u32(&req, TCPTERM_RULE_A_DRAIN_TIME_MS, r->drain_time);
	if (r->drain_idle)
		put_u32(&req, TCPTERM_RULE_A_DRAIN_IDLE_MS, r->drain_idle);
	nest_end(&req, nest);
	memset(&reply, 0, sizeof(reply));
	err = genl_do(fd, &req, &reply);
	if (err)
		return err;
	if (reply.genl.cmd != TCPTERM_CMD_RULE_ADD)
		TT_FAIL("RULE_ADD answered without the rule");
	nest = tt_nla_find(reply.buf, reply.nlh.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
		       TCPTERM_A_RULE);
	id = nest ? tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_RULE_A_ID) : NULL;
	if (!id)
		TT_FAIL("RULE_ADD reply without an id");
	return *(uint32_t *)NLA_DATA(id);
}

static int rule_del(int fd, uint32_t id)
{
	struct nlattr *nest;
	struct msg req;

	req_init(&req, TCPTERM_CMD_RULE_DEL, 0);
	nest = nest_start(&req, TCPTERM_A_RULE);
	put_u32(&req, TCPTERM_RULE_A_ID, id);
	nest_end(&req, nest);
	return genl_do(fd, &req, NULL);
}

static int rule_flush(int fd)
{
	struct msg req;

	req_init(&req, TCPTERM_CMD_RULE_FLUSH, 0);
	return genl_do(fd, &req, NULL);
}

struct rule_list {
	int n;
	uint32_t id[8];
	int pmin[8], pmax[8], policy[8];
};

static void rule_collect(struct nlattr *nest, void *arg)
{
	struct rule_list *l = arg;
	struct nlattr *a;
	int i = l->n;

	if (i >= 8)
		return;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_RULE_A_ID);
	l->id[i] = a ? *(uint32_t *)NLA_DATA(a) : 0;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_RULE_A_PORT_MIN);
	l->pmin[i] = a ? ntohs(*(uint16_t *)NLA_DATA(a)) : 0;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_RULE_A_PORT_MAX);
	l->pmax[i] = a ? ntohs(*(uint16_t *)NLA_DATA(a)) : 0;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_RULE_A_POLICY);
	l->policy[i] = a ? (int)*(uint32_t *)NLA_DATA(a) : -1;
	l->n++;
}

static int rule_list(int fd, struct rule_list *l)
{
	memset(l, 0, sizeof(*l));
	return genl_dump(fd, TCPTERM_CMD_RULE_GET, TCPTERM_A_RULE,
			 rule_collect, l, NULL);
}

/* A listener in @ns, with no tcpterm option; a client from @cns; accept. */
static void pair_plain(const struct tt_topo *t, const struct tt_variant *v,
		       struct tt_pair *p)
{
	tt_pair_open(t, v, p);
}

/*
 * The HALF_DUPLEX scene: the server shuts its read side, the client
 * sends; with the policy the client is reset, without it nothing comes.
 */
static long hd_scene(const struct tt_topo *t, const struct tt_variant *v,
		     struct tcpterm_info *info)
{
	struct tt_pair p;
	char buf[64];
	long r;

	pair_plain(t, v, &p);
	NS_EQ(0, shutdown(p.srv, SHUT_RD));
	tt_send(p.cli, 100);
	r = tt_recv(p.cli, buf, sizeof(buf), 1500);
	tt_get_info(p.srv, info);
	close(p.cli);
	close(p.srv);
	close(p.lsn);
	return r;
}

/*
 * net.tcpterm.policy=1 in the server's namespace: an accepted socket of
 * a program that knows nothing of tcpterm resets the client after
 * SHUT_RD; the same program in a sibling namespace left at the defaults
 * sees stock behaviour.
 */
static void sysctl_default_applies(const struct tt_variant *v)
{
	struct tcpterm_info info;
	struct tt_topo t, sib;

	tt_topo_up(&t, 0);
	tt_topo_up(&sib, 0);
	tt_sysctl(t.srv_ns, SYSCTL_DIR "policy", "1");

	NS_EQ(-ECONNRESET, hd_scene(&t, v, &info));
	NS_TRUE(info.tti_flags & TCPTERM_F_TRACKED);
	NS_EQ(TCPTERM_POLICY_HALF_DUPLEX, info.tti_policy);
	NS_EQ(TCPTERM_RST_DATA_AFTER_SHUTDOWN, info.tti_rst_reason);

	NS_EQ(-EAGAIN, hd_scene(&sib, v, &info));
	NS_EQ(0, info.tti_flags & TCPTERM_F_TRACKED);
	NS_EQ(TCPTERM_POLICY_DEFAULT, info.tti_policy);

	/* connect(): the client's namespace gives it the policy too. */
	tt_sysctl(sib.cli_ns, SYSCTL_DIR "policy", "2");
	tt_sysctl(sib.cli_ns, SYSCTL_DIR "drain_idle_ms", "1234");
	{
		struct tt_pair p;

		tt_pair_open(&sib, v, &p);
		NS_EQ(TCPTERM_POLICY_DRAIN, get_int(p.cli, TCPTERM_POLICY));
		NS_EQ(1234, get_int(p.cli, TCPTERM_DRAIN_IDLE_MS));
		tt_get_info(p.cli, &info);
		NS_TRUE(info.tti_flags & TCPTERM_F_TRACKED);
		/* The server's namespace still has its defaults. */
		tt_get_info(p.srv, &info);
		NS_EQ(0, info.tti_flags & TCPTERM_F_TRACKED);
	}
}

/* Values, ranges and isolation of the sysctls. */
static void sysctl_isolation(const struct tt_variant *v)
{
	struct tt_topo t;
	int init_ns = open("/proc/self/ns/net", O_RDONLY);

	tt_topo_up(&t, 0);
	tt_enter(t.srv_ns);
	NS_EQ(0, sysctl_read("policy"));
	NS_EQ(0, sysctl_read("crossing_error"));
	NS_EQ(TCPTERM_DRAIN_TIME_DEFAULT_MS, sysctl_read("drain_time_ms"));
	NS_EQ(TCPTERM_DRAIN_IDLE_DEFAULT_MS, sysctl_read("drain_idle_ms"));
	NS_EQ(0, sysctl_read("grace_ms"));

	/* The ranges of options.h. */
	NS_EQ(-EINVAL, sysctl_write("policy", "3"));
	NS_EQ(-EINVAL, sysctl_write("crossing_error", "2"));
	NS_EQ(-EINVAL, sysctl_write("drain_time_ms", "0"));
	NS_EQ(-EINVAL, sysctl_write("drain_idle_ms", "3600001"));
	NS_EQ(-EINVAL, sysctl_write("grace_ms", "-1"));
	NS_EQ(0, sysctl_read("policy"));

	NS_EQ(0, sysctl_write("policy", "2"));
	NS_EQ(0, sysctl_write("grace_ms", "3600000"));
	NS_EQ(2, sysctl_read("policy"));
	NS_EQ(3600000, sysctl_read("grace_ms"));

	/* A socket that sets nothing reports its namespace's defaults. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		NS_EQ(2, get_int(fd, TCPTERM_POLICY));
		NS_EQ(3600000, get_int(fd, TCPTERM_GRACE_MS));
		close(fd);
	}

	tt_enter(t.cli_ns);
	NS_EQ(0, sysctl_read("policy"));
	NS_EQ(0, sysctl_read("grace_ms"));
	tt_enter(init_ns);
	NS_EQ(0, sysctl_read("policy"));
	NS_EQ(0, sysctl_read("grace_ms"));
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return r;
}

/*
 * Run @fn in a child as uid/gid 65534 in a new user namespace, whose
 * root the parent maps to that user (a sysctl file must be owned by a
 * mapped user to be written).
 */
static int as_unprivileged(int flags, int (*fn)(void))
{
	int to_parent[2], to_child[2], status, i;
	char path[64], c = 0;
	pid_t pid;

	if (pipe(to_parent) || pipe(to_child))
		TT_FAIL("pipe");
	pid = fork();
	if (pid < 0)
		TT_FAIL("fork");
	if (!pid) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		c = 'y';
		for (i = 0; unshare(CLONE_NEWUSER | flags); i++) {
			/*
			 * The user namespaces of earlier cases count against
			 * the user's limit until a work item frees them.
			 */
			if ((errno != ENOSPC && errno != EUSERS) || i == 50) {
				TT_LOG("unshare(CLONE_NEWUSER): %s",
				       strerror(errno));
				c = 'n';
				break;
			}
			usleep(100 * 1000);
		}
		if (write(to_parent[1], &c, 1) != 1 || c == 'n')
			_exit(101);
		if (read(to_child[0], &c, 1) != 1 || c != 'y')
			_exit(102);
		_exit(fn());
	}
	if (read(to_parent[0], &c, 1) == 1 && c == 'y') {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
		c = write_file(path, "deny") ? 'n' : 'y';
		snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
		if (c == 'y' && write_file(path, "0 65534 1"))
			c = 'n';
		snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
		if (c == 'y' && write_file(path, "0 65534 1"))
			c = 'n';
		if (c == 'n')
			TT_LOG("map: %s", strerror(errno));
		if (write(to_child[1], &c, 1) != 1)
			TT_FAIL("pipe write");
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		TT_FAIL("child");
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
	return WEXITSTATUS(status);
}

static int try_sysctl(void)
{
	return -sysctl_write("policy", "1");
}

/* A stock per-namespace sysctl, for comparison. */
static int try_stock(void)
{
	int fd = open("/proc/sys/net/ipv4/tcp_fin_timeout", O_WRONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_rule(void)
{
	int fd = genl_open();

	return -rule_add(fd, &RULE(.policy = 1));
}

static int try_del(void)
{
	return -rule_del(genl_open(), 1);
}

static int try_flush(void)
{
	return -rule_flush(genl_open());
}

static int try_dump(void)
{
	return -genl_dump(genl_open(), TCPTERM_CMD_SOCK_GET, TCPTERM_A_SOCK,
			  NULL, NULL, NULL);
}

/*
 * A user namespace of an unprivileged user writes nothing of the
 * initial namespace; with a network namespace of its own it may write
 * that one's.
 */
static void userns_denied(const struct tt_variant *v)
{
	int r;

	r = as_unprivileged(0, try_sysctl);
	if (r == 101)
		TT_FAIL("unprivileged user namespaces are disabled");
	if (r == 102)
		TT_FAIL("cannot map the user namespace's root");
	NS_TRUE(r == EACCES || r == EPERM);
	NS_EQ(as_unprivileged(0, try_stock), r);
	NS_EQ(EPERM, as_unprivileged(0, try_rule));
	NS_EQ(EPERM, as_unprivileged(0, try_del));
	NS_EQ(EPERM, as_unprivileged(0, try_flush));
	NS_EQ(EPERM, as_unprivileged(0, try_dump));
	NS_EQ(0, sysctl_read("policy"));
	/*
	 * Its own network namespace: CAP_NET_ADMIN there.  The sysctls
	 * obey the rule of the stock net.* ones (writable where the stock
	 * ones are; through the initial /proc mount they are not).
	 */
	NS_EQ(as_unprivileged(CLONE_NEWNET, try_stock),
		  as_unprivileged(CLONE_NEWNET, try_sysctl));
	NS_EQ(0, as_unprivileged(CLONE_NEWNET, try_flush));
	NS_EQ(ENOENT, as_unprivileged(CLONE_NEWNET, try_del));
	NS_EQ(0, as_unprivileged(CLONE_NEWNET, try_dump));
}

/* Add, list, delete, flush; what is refused; isolation; the bound. */
static void rules_netlink(const struct tt_variant *v)
{
	struct rule_list l;
	struct tt_topo t;
	int fd, id1, id2, i;

	tt_topo_up(&t, 0);
	tt_enter(t.srv_ns);
	fd = genl_open();
	NS_EQ(0, rule_list(fd, &l));

	id1 = rule_add(fd, &RULE(.pmin = 1000, .pmax = 2000, .policy = 2));
	id2 = rule_add(fd, &RULE(.family = AF_INET6, .pmin = 80, .policy = 1,
				 .drain_time = 100));
	NS_GE(1, id1);
	NS_GE(id1 + 1, id2);
	NS_EQ(2, rule_list(fd, &l));
	NS_EQ(id1, l.id[0]);
	NS_EQ(1000, l.pmin[0]);
	NS_EQ(2000, l.pmax[0]);
	NS_EQ(2, l.policy[0]);
	NS_EQ(id2, l.id[1]);
	NS_EQ(80, l.pmin[1]);
	NS_EQ(80, l.pmax[1]);

	/* Refused, each with a message, nothing changed. */
	NS_EQ(-ERANGE, rule_add(fd, &RULE(.pmin = 5, .policy = 3)));
	NS_EQ(-EINVAL, rule_add(fd, &RULE(.pmin = 5)));
	NS_EQ(-EINVAL, rule_add(fd, &RULE(.pmin = 10, .pmax = 9, .policy = 1)));
	NS_EQ(-EINVAL, rule_add(fd, &RULE(.pmax = 9, .policy = 1)));
	NS_EQ(-EINVAL, rule_add(fd, &RULE(.family = 17, .policy = 1)));
	NS_EQ(-ENOENT, rule_add(fd, &RULE(.cgroup = 0x7fffffffffffULL,
					      .policy = 1)));
	{
		struct msg req;
		struct nlattr *nest;

		/* port 0 */
		req_init(&req, TCPTERM_CMD_RULE_ADD, 0);
		nest = nest_start(&req, TCPTERM_A_RULE);
		put_u16(&req, TCPTERM_RULE_A_PORT_MIN, 0);
		put_u32(&req, TCPTERM_RULE_A_POLICY, 1);
		nest_end(&req, nest);
		NS_EQ(-EINVAL, genl_do(fd, &req, NULL));
		/* a limit out of its range */
		req_init(&req, TCPTERM_CMD_RULE_ADD, 0);
		nest = nest_start(&req, TCPTERM_A_RULE);
		put_u32(&req, TCPTERM_RULE_A_DRAIN_TIME_MS, 0);
		nest_end(&req, nest);
		NS_EQ(-ERANGE, genl_do(fd, &req, NULL));
		/* an attribute outside the nest */
		req_init(&req, TCPTERM_CMD_RULE_ADD, 0);
		put_u8(&req, TCPTERM_A_KIND, 1);
		NS_EQ(-EINVAL, genl_do(fd, &req, NULL));
		/* no nest at all */
		req_init(&req, TCPTERM_CMD_RULE_ADD, 0);
		NS_EQ(-EINVAL, genl_do(fd, &req, NULL));
		/* an id given to RULE_ADD, a policy given to RULE_DEL */
		req_init(&req, TCPTERM_CMD_RULE_ADD, 0);
		nest = nest_start(&req, TCPTERM_A_RULE);
		put_u32(&req, TCPTERM_RULE_A_ID, 5);
		put_u32(&req, TCPTERM_RULE_A_POLICY, 1);
		nest_end(&req, nest);
		NS_EQ(-EINVAL, genl_do(fd, &req, NULL));
		req_init(&req, TCPTERM_CMD_RULE_DEL, 0);
		nest = nest_start(&req, TCPTERM_A_RULE);
		put_u32(&req, TCPTERM_RULE_A_ID, id1);
		put_u32(&req, TCPTERM_RULE_A_POLICY, 1);
		nest_end(&req, nest);
		NS_EQ(-EINVAL, genl_do(fd, &req, NULL));
		/* FLUSH takes nothing */
		req_init(&req, TCPTERM_CMD_RULE_FLUSH, 0);
		put_u32(&req, TCPTERM_A_NETNS_INO, 1);
		NS_EQ(-EINVAL, genl_do(fd, &req, NULL));
	}
	NS_EQ(2, rule_list(fd, &l));

	/* The client's namespace has none of them. */
	close(fd);
	tt_enter(t.cli_ns);
	fd = genl_open();
	NS_EQ(0, rule_list(fd, &l));
	close(fd);
	tt_enter(t.srv_ns);
	fd = genl_open();

	NS_EQ(0, rule_del(fd, id1));
	NS_EQ(-ENOENT, rule_del(fd, id1));
	NS_EQ(1, rule_list(fd, &l));
	NS_EQ(id2, l.id[0]);
	NS_EQ(0, rule_flush(fd));
	NS_EQ(0, rule_list(fd, &l));

	/* The bound; a dump of them all comes in several parts. */
	for (i = 0; i < TCPTERM_RULES_MAX; i++)
		NS_GE(1, rule_add(fd, &RULE(.pmin = 1 + i, .policy = 1)));
	NS_EQ(-ENOSPC, rule_add(fd, &RULE(.pmin = 9, .policy = 1)));
	{
		int parts;

		NS_EQ(TCPTERM_RULES_MAX,
			  genl_dump(fd, TCPTERM_CMD_RULE_GET, TCPTERM_A_RULE,
				    NULL, NULL, &parts));
		NS_GE(2, parts);
	}
	NS_EQ(0, rule_flush(fd));
	NS_EQ(0, rule_list(fd, &l));
}

/*
 * An option set on the socket beats a rule, which beats the namespace's
 * default; what neither sets comes from the namespace.
 */
static void precedence(const struct tt_variant *v)
{
	struct tt_topo t;
	struct tt_pair a, b, c;
	int fd, lsn;

	tt_topo_up(&t, 0);
	tt_sysctl(t.srv_ns, SYSCTL_DIR "policy", "1");
	tt_sysctl(t.srv_ns, SYSCTL_DIR "drain_idle_ms", "777");

	/* a: matched by a rule on its port */
	a.lsn = tt_listen(&t, v, -1);
	fd = genl_open();
	NS_GE(1, rule_add(fd, &RULE(.pmin = local_port(a.lsn),
					.policy = 2, .drain_time = 4321)));
	a.cli = tt_connect(&t, v, a.lsn);
	a.srv = tt_accept(&t, a.lsn);
	NS_EQ(TCPTERM_POLICY_DRAIN, get_int(a.srv, TCPTERM_POLICY));
	NS_EQ(4321, get_int(a.srv, TCPTERM_DRAIN_TIME_MS));
	NS_EQ(777, get_int(a.srv, TCPTERM_DRAIN_IDLE_MS));

	/* b: no rule matches: the namespace's default */
	tt_pair_open(&t, v, &b);
	NS_EQ(TCPTERM_POLICY_HALF_DUPLEX, get_int(b.srv, TCPTERM_POLICY));
	NS_EQ(TCPTERM_DRAIN_TIME_DEFAULT_MS,
		  get_int(b.srv, TCPTERM_DRAIN_TIME_MS));

	/* c: the listener set an option; the rule on its port is ignored */
	lsn = tt_listen(&t, v, TCPTERM_POLICY_DEFAULT);
	c.lsn = lsn;
	NS_GE(1, rule_add(fd, &RULE(.pmin = local_port(lsn), .policy = 2)));
	c.cli = tt_connect(&t, v, lsn);
	c.srv = tt_accept(&t, lsn);
	NS_EQ(TCPTERM_POLICY_DEFAULT, get_int(c.srv, TCPTERM_POLICY));
	/* what it did not set comes from the namespace's sysctl */
	NS_EQ(777, get_int(c.srv, TCPTERM_DRAIN_IDLE_MS));

	/* a rule's family: IPv6 only */
	NS_EQ(0, rule_flush(fd));
	NS_GE(1, rule_add(fd, &RULE(.family = AF_INET6, .policy = 2)));
	tt_pair_open(&t, v, &b);
	NS_EQ(v->family == AF_INET6 ? TCPTERM_POLICY_DRAIN :
		  TCPTERM_POLICY_HALF_DUPLEX, get_int(b.srv, TCPTERM_POLICY));
	NS_EQ(0, rule_flush(fd));
}

/*
 * A pipelining client of an unmodified server: two requests, the server
 * reads one, answers it and closes.  Returns how the client's last read
 * ended; *got is what it read of the response.
 */
static long pipeline(const struct tt_variant *v, struct tt_topo *t,
		     const struct rule *r, long *got)
{
	enum { REQ = 1000, RESP = 256 * 1024 };
	static char buf[65536];
	int rcvbuf = 16384, sndbuf = 4 << 20, fd;
	struct tt_pair p;
	long n, off;

	tt_netem(t, 1, "rate 20mbit limit 1000");
	p.lsn = tt_listen(t, v, -1);
	if (r) {
		struct rule rr = *r;

		rr.pmin = local_port(p.lsn);
		fd = genl_open();
		NS_GE(1, rule_add(fd, &rr));
		close(fd);
	}
	p.cli = tt_connect(t, v, p.lsn);
	p.srv = tt_accept(t, p.lsn);
	NS_EQ(0, setsockopt(p.cli, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	/* The whole response fits the send buffer: send() never waits. */
	NS_EQ(0, setsockopt(p.srv, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
				sizeof(sndbuf)));
	tt_send(p.cli, 2 * REQ);
	tt_wait_inq(p.srv, 2 * REQ);
	NS_EQ(REQ, recv(p.srv, buf, REQ, 0));
	memset(buf, 'r', sizeof(buf));
	for (off = 0; off < RESP; off += sizeof(buf))
		NS_EQ(sizeof(buf), send(p.srv, buf, sizeof(buf), 0));
	close(p.srv);
	*got = 0;
	while ((n = tt_recv(p.cli, buf, sizeof(buf), 5000)) > 0)
		*got += n;
	close(p.cli);
	close(p.lsn);
	return n;
}

/*
 * The operator's fix for a server nobody can change: a DRAIN rule on
 * its port, and the client that lost its response to an RST gets all of
 * it and a clean end.
 */
static void rule_drain_on_wire(const struct tt_variant *v)
{
	struct tt_topo stock, ruled;
	long got, r;

	tt_topo_up(&stock, 0);
	r = pipeline(v, &stock, NULL, &got);
	TT_LOG("stock: client read %ld bytes, then %ld", got, r);
	NS_EQ(-ECONNRESET, r);

	tt_topo_up(&ruled, 0);
	r = pipeline(v, &ruled, &RULE(.policy = TCPTERM_POLICY_DRAIN), &got);
	TT_LOG("drain rule: client read %ld bytes, then %ld", got, r);
	NS_EQ(0, r);
	NS_EQ(256 * 1024, got);
	NS_EQ(1, tt_stat(ruled.srv_ns, "Drains"));
}

#define CG_ROOT "/tmp/tt-cg"

static uint64_t cg_id(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		TT_FAIL("stat %s", path);
	return st.st_ino;
}

static void cg_enter(const char *dir)
{
	char path[256], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d", getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, pid, n) != n)
		TT_FAIL("move into %s", dir);
	close(fd);
}

/* A rule on a cgroup matches the sockets of processes in it and below. */
static void cgroup_rule(const struct tt_variant *v)
{
	char top[128], sub[160];
	struct tt_topo t;
	struct tt_pair p;
	int fd, lsn;

	snprintf(top, sizeof(top), CG_ROOT "/tt-%d", getpid());
	snprintf(sub, sizeof(sub), "%s/unit", top);
	if (mkdir(top, 0755) || mkdir(sub, 0755))
		TT_FAIL("mkdir cgroups");

	tt_topo_up(&t, 0);
	lsn = tt_listen(&t, v, -1);
	tt_enter(t.cli_ns);
	fd = genl_open();
	NS_GE(1, rule_add(fd, &RULE(.cgroup = cg_id(top), .policy = 2)));

	/* outside the cgroup: nothing */
	p.cli = tt_connect(&t, v, lsn);
	NS_EQ(TCPTERM_POLICY_DEFAULT, get_int(p.cli, TCPTERM_POLICY));
	close(p.cli);
	/* in a cgroup below the rule's: its policy */
	cg_enter(sub);
	p.cli = tt_connect(&t, v, lsn);
	cg_enter(CG_ROOT);
	NS_EQ(TCPTERM_POLICY_DRAIN, get_int(p.cli, TCPTERM_POLICY));
	close(p.cli);
	NS_EQ(0, rule_flush(fd));
	rmdir(sub);
	rmdir(top);
}

struct sock_seen {
	int n;
	uint64_t want, discarded;
	int found, family, state, policy, sport, dport, flags, reason;
};

static void sock_collect(struct nlattr *nest, void *arg)
{
	struct sock_seen *s = arg;
	struct nlattr *a;

	s->n++;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_COOKIE);
	if (!a || *(uint64_t *)NLA_DATA(a) != s->want)
		return;
	s->found++;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_FAMILY);
	s->family = a ? *(uint8_t *)NLA_DATA(a) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_STATE);
	s->state = a ? *(uint8_t *)NLA_DATA(a) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_POLICY);
	s->policy = a ? *(uint8_t *)NLA_DATA(a) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_SPORT);
	s->sport = a ? ntohs(*(uint16_t *)NLA_DATA(a)) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_DPORT);
	s->dport = a ? ntohs(*(uint16_t *)NLA_DATA(a)) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_FLAGS);
	s->flags = a ? *(int *)NLA_DATA(a) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_RST_REASON);
	s->reason = a ? *(uint8_t *)NLA_DATA(a) : -1;
	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest),
		    TCPTERM_SOCK_A_BYTES_DISCARDED);
	s->discarded = a ? *(uint64_t *)NLA_DATA(a) : (uint64_t)-1;
	if (s->family == AF_INET &&
	    (!tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_SADDR4) ||
	     NLA_LEN(tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_DADDR4)) != 4))
		s->family = -2;
	if (s->family == AF_INET6 &&
	    NLA_LEN(tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_SOCK_A_SADDR6)) != 16)
		s->family = -2;
}

/* The dump lists the namespace's tracked sockets by their cookies. */
static void sock_dump(const struct tt_variant *v)
{
	struct tcpterm_info info;
	struct sock_seen s = { 0 };
	struct tt_topo t;
	struct tt_pair p;
	int fd, i, parts, many[300];

	tt_topo_up(&t, 0);
	tt_sysctl(t.srv_ns, SYSCTL_DIR "policy", "1");
	tt_pair_open(&t, v, &p);
	tt_enter(t.srv_ns);
	fd = genl_open();
	s.want = sock_cookie(p.srv);
	NS_EQ(1, genl_dump(fd, TCPTERM_CMD_SOCK_GET, TCPTERM_A_SOCK,
			       sock_collect, &s, NULL));
	NS_EQ(1, s.found);
	NS_EQ(v->family == AF_INET6 && strcmp(v->name, "mapped") ?
		  AF_INET6 : AF_INET, s.family);
	NS_EQ(TCP_ESTABLISHED, s.state);
	NS_EQ(TCPTERM_POLICY_HALF_DUPLEX, s.policy);
	NS_EQ(local_port(p.lsn), s.sport);
	NS_EQ(local_port(p.cli), s.dport);
	NS_EQ(TCPTERM_F_TRACKED, s.flags);
	NS_EQ(TCPTERM_RST_NONE, s.reason);
	NS_EQ(0, s.discarded);

	/* After the policy acted, the dump says what TCPTERM_INFO says. */
	tt_send(p.cli, 10);
	tt_wait_inq(p.srv, 10);
	NS_EQ(0, shutdown(p.srv, SHUT_RD));
	/* The reset may be sent from a work item, just after. */
	for (i = 0; i < 100; i++) {
		tt_get_info(p.srv, &info);
		if (info.tti_flags & TCPTERM_F_RST_SENT)
			break;
		tt_msleep(20);
	}
	memset(&s, 0, sizeof(s));
	s.want = sock_cookie(p.srv);
	NS_EQ(1, genl_dump(fd, TCPTERM_CMD_SOCK_GET, TCPTERM_A_SOCK,
			       sock_collect, &s, NULL));
	NS_EQ(1, s.found);
	NS_EQ(info.tti_flags, s.flags);
	NS_TRUE(s.flags & TCPTERM_F_RST_SENT);
	NS_EQ(info.tti_rst_reason, s.reason);
	NS_EQ(TCPTERM_RST_UNREAD_ON_SHUTDOWN, s.reason);
	NS_EQ(info.tti_bytes_discarded, s.discarded);
	NS_EQ(10, s.discarded);

	/* The client's namespace tracks nothing: an empty dump there. */
	tt_enter(t.cli_ns);
	NS_EQ(0, genl_dump(genl_open(), TCPTERM_CMD_SOCK_GET,
			       TCPTERM_A_SOCK, NULL, NULL, NULL));

	/* Many: the dump goes on over several parts, each socket once. */
	tt_enter(t.srv_ns);
	for (i = 0; i < 300; i++) {
		many[i] = socket(v->family, SOCK_STREAM, 0);
		tt_set_int(many[i], TCPTERM_GRACE_MS, 1000);
	}
	memset(&s, 0, sizeof(s));
	s.want = sock_cookie(many[299]);
	NS_EQ(301, genl_dump(fd, TCPTERM_CMD_SOCK_GET, TCPTERM_A_SOCK,
				 sock_collect, &s, &parts));
	NS_EQ(1, s.found);
	NS_EQ(TCP_CLOSE, s.state);
	NS_GE(2, parts);
	for (i = 0; i < 300; i++)
		close(many[i]);
}

/* Ids a dump saw, and how often. */
struct rule_seen {
	int n;
	uint32_t first, times[TCPTERM_RULES_MAX];
};

static void rule_seen_collect(struct nlattr *nest, void *arg)
{
	struct rule_seen *r = arg;
	struct nlattr *a;
	uint32_t id;

	a = tt_nla_find(NLA_DATA(nest), NLA_LEN(nest), TCPTERM_RULE_A_ID);
	id = a ? *(uint32_t *)NLA_DATA(a) : 0;
	if (id >= r->first && id - r->first < TCPTERM_RULES_MAX)
		r->times[id - r->first]++;
	r->n++;
}

static int rule_pause_fd;
static uint32_t rule_pause_first;

/* Between two parts of a dump: the first ten rules go. */
static void rule_dump_delete(void)
{
	int i;

	for (i = 0; i < 10; i++)
		if (rule_del(rule_pause_fd, rule_pause_first + i))
			TT_FAIL("delete rule %u", rule_pause_first + i);
}

/*
 * A rule dump in parts resumes after the last rule it sent, not at a
 * position: rules deleted meanwhile make it skip none of the others,
 * and each rule comes once.
 */
static void rule_dump_resumes(const struct tt_variant *v)
{
	static struct rule_seen seen;
	int fd, i, n, parts;
	struct tt_topo t;

	tt_topo_up(&t, 0);
	tt_enter(t.srv_ns);
	fd = genl_open();
	rule_pause_fd = genl_open();
	for (i = 0; i < TCPTERM_RULES_MAX; i++)
		NS_GE(1, rule_add(fd, &RULE(.pmin = 1000 + i, .policy = 1)));
	memset(&seen, 0, sizeof(seen));
	seen.first = rule_pause_first = 1;
	dump_pause = rule_dump_delete;
	/*
	 * A socket that has read nothing: the kernel sizes a part after the
	 * largest read so far (the first at about a page), so the parts stay
	 * small and the dump takes several after the pause.
	 */
	n = genl_dump(genl_fresh(), TCPTERM_CMD_RULE_GET, TCPTERM_A_RULE,
		      rule_seen_collect, &seen, &parts);
	NS_EQ(seen.n, n);
	TT_LOG("rule dump: %d rules in %d parts", seen.n, parts);
	NS_GE(4, parts);
	for (i = 0; i < TCPTERM_RULES_MAX; i++)
		if (seen.times[i] != 1)
			TT_FAIL("rule %u seen %u times", seen.first + i,
				seen.times[i]);
	NS_EQ(TCPTERM_RULES_MAX, seen.n);
	NS_EQ(0, rule_flush(fd));
}

/* Unload with sysctls and rules in place: clean; a reload starts afresh. */
static void unload_with_rules(const struct tt_variant *v)
{
	const char *ko = getenv("TCPTERM_KO");
	struct rule_list l;
	struct tt_topo t;
	char cmd[512];
	int fd;

	tt_topo_up(&t, 0);
	tt_sysctl(t.srv_ns, SYSCTL_DIR "policy", "2");
	fd = genl_open();
	NS_GE(1, rule_add(fd, &RULE(.pmin = 80, .policy = 1)));
	close(fd);
	tt_enter(open("/proc/1/ns/net", O_RDONLY));
	if (system("rmmod tcpterm"))
		TT_FAIL("rmmod with rules and sysctls in place");
	if (!access(SYSCTL_DIR "policy", F_OK))
		TT_FAIL("sysctls left after unload");
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	if (system(cmd))
		TT_FAIL("insmod");
	tt_enter(t.srv_ns);
	NS_EQ(0, sysctl_read("policy"));
	fd = genl_open();
	NS_EQ(0, rule_list(fd, &l));
}

/*
 * A child of a listener with a policy ends in TIME_WAIT, then tcpterm is
 * unloaded, then the namespace goes, which frees the timewait socket at
 * once: that must not read tcpterm's ops (the child was cloned from a
 * listener that had them).
 */
static void unload_child_timewait(const struct tt_variant *v)
{
	const char *ko = getenv("TCPTERM_KO");
	struct tt_topo t;
	struct tt_pair p;
	char cmd[512], buf[16];
	int init_ns = open("/proc/self/ns/net", O_RDONLY);

	tt_topo_up(&t, 0);
	p.lsn = tt_listen(&t, v, TCPTERM_POLICY_DRAIN);
	p.cli = tt_connect(&t, v, p.lsn);
	p.srv = tt_accept(&t, p.lsn);
	close(p.srv);			/* the server closes first: TIME_WAIT */
	NS_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	close(p.cli);
	close(p.lsn);
	tt_msleep(200);
	tt_enter(init_ns);
	if (system("rmmod tcpterm"))
		TT_FAIL("rmmod");
	close(t.srv_ns);
	close(t.cli_ns);
	snprintf(cmd, sizeof(cmd), "/sbin/ip netns del %s && /sbin/ip netns del %s",
		 t.srv, t.cli);
	if (system(cmd))
		TT_FAIL("ip netns del");
	tt_msleep(2000);	/* the namespaces' cleanup, in a worker */
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	if (system(cmd))
		TT_FAIL("insmod");
}

/*
 * Each case makes the namespaces it needs (some make two pairs); the
 * fixtures only give the address families and delete them afterwards.
 */
#define NS_FIXTURE(f)							\
	FIXTURE(f) {							\
		int unused;						\
	};								\
	FIXTURE_VARIANT(f) {						\
		const struct tt_variant *net;				\
	};								\
	FIXTURE_SETUP(f) {}						\
	FIXTURE_TEARDOWN(f)						\
	{								\
		tt_topo_down();						\
	}

NS_FIXTURE(ns);
FIXTURE_VARIANT_ADD(ns, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(ns, ipv6) { .net = &tt_ipv6 };
FIXTURE_VARIANT_ADD(ns, mapped) { .net = &tt_mapped };

NS_FIXTURE(ns46);
FIXTURE_VARIANT_ADD(ns46, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(ns46, ipv6) { .net = &tt_ipv6 };

NS_FIXTURE(ns4);
FIXTURE_VARIANT_ADD(ns4, ipv4) { .net = &tt_ipv4 };

TEST_F(ns4, sysctl_isolation) { sysctl_isolation(variant->net); }
TEST_F(ns, sysctl_default_applies) { sysctl_default_applies(variant->net); }
static int try_nothing(void)
{
	return 0;
}

/* The harness's SKIP() needs the test's metadata: decided here. */
TEST_F(ns4, userns_denied)
{
	if (as_unprivileged(0, try_nothing) == 101)
		SKIP(return, "unprivileged user namespaces are disabled");
	userns_denied(variant->net);
}
TEST_F(ns4, rules_netlink) { rules_netlink(variant->net); }
TEST_F(ns4, rule_dump_resumes) { rule_dump_resumes(variant->net); }
TEST_F(ns46, precedence) { precedence(variant->net); }
TEST_F_TIMEOUT(ns46, rule_drain_on_wire, 60)
{
	rule_drain_on_wire(variant->net);
}
TEST_F(ns4, cgroup_rule)
{
	mkdir(CG_ROOT, 0755);
	if (mount("none", CG_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "no cgroup v2");
	cgroup_rule(variant->net);
}
TEST_F(ns, sock_dump) { sock_dump(variant->net); }
TEST_F(ns4, unload_with_rules)
{
	if (!getenv("TCPTERM_KO"))
		SKIP(return, "TCPTERM_KO not set");
	unload_with_rules(variant->net);
}

TEST_F(ns4, unload_child_timewait)
{
	if (!getenv("TCPTERM_KO"))
		SKIP(return, "TCPTERM_KO not set");
	unload_child_timewait(variant->net);
}

TT_HARNESS_MAIN
