// SPDX-License-Identifier: GPL-2.0
/*
 * Crossing FINs.  netem delays each direction by 50 ms, so two
 * shutdown(SHUT_WR) calls made microseconds apart always cross on the
 * wire: each FIN reaches the other end before the ACK of that end's own
 * FIN could.  Cases without the delay (or with orderly closes) must never
 * be flagged.
 *
 * Fixtures (kselftest_harness.h), each case named FIXTURE.VARIANT.TEST:
 *   delayed, delayed46  the namespaces with netem delay; ipv4, ipv6 and
 *                       (delayed only) mapped
 *   seed                delayed, a variant per way of reading the crossing
 *                       (EOF, EPROTO from read, from SO_ERROR) and family
 *   orderly             delayed, a variant per kind of orderly close
 *   plain46             the namespaces without delay
 *   rmmod, cap          single cases (ipv4), with and without delay
 *
 *   netns tt-cli-PID                        netns tt-srv-PID
 *   +------------------+   netem 50 ms     +------------------+
 *   | veth0 10.77.0.1  |<----------------->| veth1 10.77.0.2  |
 *   |       fd77::1    |   each direction  |       fd77::2    |
 *   +------------------+                   +------------------+
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"

static const int tt_delay_ms = 50;

static void track(int fd, int crossing_error)
{
	tt_set_policy(fd, TCPTERM_POLICY_DEFAULT);
	if (setsockopt(fd, SOL_TCPTERM, TCPTERM_CROSSING_ERROR,
		       &crossing_error, sizeof(crossing_error)))
		TT_FAIL("TCPTERM_CROSSING_ERROR");
}

static void expect_crossed(struct __test_metadata *_metadata, int fd,
			   bool crossed)
{
	struct tcpterm_info info;

	tt_get_info(fd, &info);
	ASSERT_EQ(crossed, !!(info.tti_flags & TCPTERM_F_CROSSED));
	ASSERT_EQ(crossed, info.tti_crossed_time_ns != 0);
}

/*
 * A pair in @t (delayed), both ends tracked with TCPTERM_CROSSING_ERROR
 * set to @crossing_error; *c0 and *s0 get the Crossings counters of each
 * side.
 */
static void delayed_pair(const struct tt_variant *v, const struct tt_topo *t,
			 struct tt_pair *p, int crossing_error,
			 long long *c0, long long *s0)
{
	tt_pair_open(t, v, p);
	track(p->cli, crossing_error);
	track(p->srv, crossing_error);
	*c0 = tt_stat(t->cli_ns, "Crossings");
	*s0 = tt_stat(t->srv_ns, "Crossings");
}

FIXTURE(delayed) {
	struct tt_topo t;
};

FIXTURE_VARIANT(delayed) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(delayed, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(delayed, ipv6) { .net = &tt_ipv6 };
FIXTURE_VARIANT_ADD(delayed, mapped) { .net = &tt_mapped };

FIXTURE_SETUP(delayed)
{
	tt_topo_up(&self->t, tt_scaled(tt_delay_ms));
}

FIXTURE_TEARDOWN(delayed)
{
	tt_topo_down();
}

FIXTURE(delayed46) {
	struct tt_topo t;
};

FIXTURE_VARIANT(delayed46) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(delayed46, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(delayed46, ipv6) { .net = &tt_ipv6 };

FIXTURE_SETUP(delayed46)
{
	tt_topo_up(&self->t, tt_scaled(tt_delay_ms));
}

FIXTURE_TEARDOWN(delayed46)
{
	tt_topo_down();
}

FIXTURE(plain46) {
	struct tt_topo t;
};

FIXTURE_VARIANT(plain46) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(plain46, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(plain46, ipv6) { .net = &tt_ipv6 };

FIXTURE_SETUP(plain46)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(plain46)
{
	tt_topo_down();
}

/* Both ends half-close at the same instant: flagged on both. */
TEST_F(delayed, simultaneous)
{
	struct tt_topo t = self->t;
	long long c0, s0;
	struct tt_pair p;
	char buf[16];

	delayed_pair(variant->net, &t, &p, 0, &c0, &s0);
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	ASSERT_EQ(0, tt_recv(p.srv, buf, sizeof(buf), 2000));
	expect_crossed(_metadata, p.cli, true);
	expect_crossed(_metadata, p.srv, true);
	ASSERT_EQ(c0 + 1, tt_stat(t.cli_ns, "Crossings"));
	ASSERT_EQ(s0 + 1, tt_stat(t.srv_ns, "Crossings"));
}

/*
 * The seed's scenario: the client sends its last request and half-closes
 * while the server half-closes.  The request reaches the server after its
 * FIN went out (late data); the client reads EOF unless it asked for the
 * crossing to be an error.
 */
FIXTURE(seed) {
	struct tt_topo t;
};

FIXTURE_VARIANT(seed) {
	const struct tt_variant *net;
	int crossing_error;	/* TCPTERM_CROSSING_ERROR of the client */
	bool use_so_error;	/* the error read from SO_ERROR, not read() */
};

FIXTURE_VARIANT_ADD(seed, eof_ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(seed, eof_ipv6) { .net = &tt_ipv6 };
FIXTURE_VARIANT_ADD(seed, error_read_ipv4) {
	.net = &tt_ipv4,
	.crossing_error = 1,
};
FIXTURE_VARIANT_ADD(seed, error_read_ipv6) {
	.net = &tt_ipv6,
	.crossing_error = 1,
};
FIXTURE_VARIANT_ADD(seed, error_so_error_ipv4) {
	.net = &tt_ipv4,
	.crossing_error = 1,
	.use_so_error = true,
};
FIXTURE_VARIANT_ADD(seed, error_so_error_ipv6) {
	.net = &tt_ipv6,
	.crossing_error = 1,
	.use_so_error = true,
};

FIXTURE_SETUP(seed)
{
	tt_topo_up(&self->t, tt_scaled(tt_delay_ms));
}

FIXTURE_TEARDOWN(seed)
{
	tt_topo_down();
}

TEST_F(seed, request_crosses_fin)
{
	int crossing_error = variant->crossing_error;
	bool use_so_error = variant->use_so_error;
	struct tt_topo t = self->t;
	long long late0, err0;
	struct tcpterm_info info;
	struct tt_pair p;
	char buf[16];

	tt_pair_open(&t, variant->net, &p);
	track(p.cli, crossing_error);
	track(p.srv, 0);
	late0 = tt_stat(t.srv_ns, "LateData");
	err0 = tt_stat(t.cli_ns, "CrossingErrors");

	ASSERT_EQ(7, send(p.cli, "REQUEST", 7, 0));
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));

	/* The server got the request but can no longer answer it. */
	tt_wait_inq(p.srv, 7);
	ASSERT_EQ(7, tt_recv(p.srv, buf, sizeof(buf), 2000));
	ASSERT_EQ(0, tt_recv(p.srv, buf, sizeof(buf), 2000));
	tt_get_info(p.srv, &info);
	ASSERT_TRUE(info.tti_flags & TCPTERM_F_LATE_DATA);
	ASSERT_EQ(late0 + 1, tt_stat(t.srv_ns, "LateData"));

	ASSERT_TRUE(tt_poll(p.cli, POLLIN, 2000) & POLLIN);
	tt_msleep(tt_scaled(20));
	expect_crossed(_metadata, p.cli, true);
	if (!crossing_error) {
		ASSERT_EQ(0, tt_poll(p.cli, POLLIN, 0) & POLLERR);
		ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 0));
		ASSERT_EQ(0, tt_so_error(p.cli));
		ASSERT_EQ(err0, tt_stat(t.cli_ns, "CrossingErrors"));
		return;
	}
	ASSERT_TRUE(tt_poll(p.cli, POLLIN, 0) & POLLERR);
	if (use_so_error) {
		ASSERT_EQ(EPROTO, tt_so_error(p.cli));
	} else {
		ASSERT_EQ(-EPROTO, recv(p.cli, buf, sizeof(buf), MSG_PEEK) < 0 ?
			  -errno : 0);
		ASSERT_EQ(-EPROTO, tt_recv(p.cli, buf, sizeof(buf), 0));
	}
	/* Reported once; then the EOF. */
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 0));
	ASSERT_EQ(0, tt_poll(p.cli, POLLIN, 0) & POLLERR);
	ASSERT_EQ(err0 + 1, tt_stat(t.cli_ns, "CrossingErrors"));
}

/* Wait until process @pid sleeps (in the read it was started for). */
static void wait_sleeping(pid_t pid)
{
	char path[64], stat[256], *st;
	int i, fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < tt_scaled(200); i++) {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, stat, sizeof(stat) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			stat[n] = 0;
			st = strrchr(stat, ')');
			if (st && st[1] == ' ' && st[2] == 'S')
				return;
		}
		tt_msleep(10);
	}
	TT_FAIL("reader %d never blocked", pid);
}

/*
 * The reader most applications have: already blocked in read() (or in
 * epoll_wait(), then read()) when the crossing FIN arrives.  With
 * TCPTERM_CROSSING_ERROR it must get EPROTO too, not the EOF the FIN
 * ends its wait with.
 */
static void crossing_error_blocked(struct __test_metadata *_metadata,
				   const struct tt_variant *v,
				   const struct tt_topo *t, bool use_epoll)
{
	long long c0, s0;
	struct tt_pair p;
	int status;
	char buf[16];
	pid_t pid;

	delayed_pair(v, t, &p, 1, &c0, &s0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ssize_t r;

		if (use_epoll) {
			struct epoll_event ev = { .events = EPOLLIN };
			int ep = epoll_create1(0);

			if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, p.cli, &ev) ||
			    epoll_wait(ep, &ev, 1, tt_scaled(5000)) != 1)
				TT_FAIL("epoll");
		}
		r = read(p.cli, buf, sizeof(buf));
		if (r != -1 || errno != EPROTO)
			TT_FAIL("blocked reader: read %zd, errno %d", r, errno);
		_exit(KSFT_PASS);
	}
	wait_sleeping(pid);
	ASSERT_EQ(7, send(p.cli, "REQUEST", 7, 0));
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(KSFT_PASS, WEXITSTATUS(status));
	expect_crossed(_metadata, p.cli, true);
	/* Reported once; then the EOF. */
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 0));
}

TEST_F(delayed, error_blocked_read)
{
	crossing_error_blocked(_metadata, variant->net, &self->t, false);
}

TEST_F(delayed46, error_blocked_epoll)
{
	crossing_error_blocked(_metadata, variant->net, &self->t, true);
}

/*
 * A read of a socket with TCPTERM_CROSSING_ERROR may wait for ever: while
 * one does, rmmod fails (EBUSY) instead of waiting; once it returned,
 * rmmod works.
 */
FIXTURE(rmmod) {
	struct tt_topo t;
};

FIXTURE_VARIANT(rmmod) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(rmmod, ipv4) { .net = &tt_ipv4 };

FIXTURE_SETUP(rmmod)
{
	tt_topo_up(&self->t, tt_scaled(tt_delay_ms));
}

FIXTURE_TEARDOWN(rmmod)
{
	tt_topo_down();
}

TEST_F(rmmod, blocked_reader)
{
	const char *ko = getenv("TCPTERM_KO");
	char cmd[256], buf[16];
	long long c0, s0;
	struct tt_pair p;
	int status;
	pid_t pid;

	if (!ko)
		SKIP(return, "TCPTERM_KO not set");
	delayed_pair(variant->net, &self->t, &p, 1, &c0, &s0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(read(p.cli, buf, sizeof(buf)) == 1 ? KSFT_PASS : KSFT_FAIL);
	wait_sleeping(pid);
	ASSERT_NE(0, system("rmmod tcpterm 2>/dev/null"));
	ASSERT_EQ(0, system("grep -q '^tcpterm ' /proc/modules"));
	ASSERT_EQ(1, send(p.srv, "x", 1, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(KSFT_PASS, WEXITSTATUS(status));
	ASSERT_EQ(0, system("rmmod tcpterm"));
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	ASSERT_EQ(0, system(cmd));
}

/* FIN, ACK, then FIN: an orderly close is never a crossing. */
FIXTURE(orderly) {
	struct tt_topo t;
};

FIXTURE_VARIANT(orderly) {
	const struct tt_variant *net;
	bool close_at_once;	/* our FIN may carry the ACK of theirs */
};

FIXTURE_VARIANT_ADD(orderly, close_ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(orderly, close_ipv6) { .net = &tt_ipv6 };
FIXTURE_VARIANT_ADD(orderly, piggyback_ipv4) {
	.net = &tt_ipv4,
	.close_at_once = true,
};
FIXTURE_VARIANT_ADD(orderly, piggyback_ipv6) {
	.net = &tt_ipv6,
	.close_at_once = true,
};

FIXTURE_SETUP(orderly)
{
	tt_topo_up(&self->t, tt_scaled(tt_delay_ms));
}

FIXTURE_TEARDOWN(orderly)
{
	tt_topo_down();
}

TEST_F(orderly, not_flagged)
{
	bool close_at_once = variant->close_at_once;
	struct tt_topo t = self->t;
	long long c0, s0;
	struct tt_pair p;
	char buf[16];

	delayed_pair(variant->net, &t, &p, 1, &c0, &s0);
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	ASSERT_EQ(0, tt_recv(p.srv, buf, sizeof(buf), 2000));
	if (close_at_once) {
		/* Our FIN may carry the ACK of theirs. */
		ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	} else {
		tt_msleep(tt_scaled(3 * tt_delay_ms));
		ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	}
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	tt_msleep(tt_scaled(3 * tt_delay_ms));
	expect_crossed(_metadata, p.cli, false);
	expect_crossed(_metadata, p.srv, false);
	ASSERT_EQ(0, tt_so_error(p.cli));
	ASSERT_EQ(c0, tt_stat(t.cli_ns, "Crossings"));
	ASSERT_EQ(s0, tt_stat(t.srv_ns, "Crossings"));
}

/*
 * Our FIN is still queued behind data the peer's closed window holds
 * back when the peer's FIN arrives: FIN_WAIT1 -> CLOSING, yet nothing
 * crossed on the wire.  Not flagged.
 */
TEST_F(plain46, fin_queued)
{
	const struct tt_variant *v = variant->net;
	int lsn, cli, srv, small = 2048, flags;
	struct tt_topo t = self->t;
	long long c0;
	char buf[65536];

	lsn = tt_listen(&t, v, -1);
	ASSERT_EQ(0, setsockopt(lsn, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
	cli = tt_connect(&t, v, lsn);
	srv = tt_accept(&t, lsn);
	track(cli, 1);
	c0 = tt_stat(t.cli_ns, "Crossings");

	flags = fcntl(cli, F_GETFL);
	fcntl(cli, F_SETFL, flags | O_NONBLOCK);
	memset(buf, 'q', sizeof(buf));
	while (send(cli, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	tt_msleep(tt_scaled(100));
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));	/* FIN queued, not sent */
	ASSERT_EQ(0, shutdown(srv, SHUT_WR));
	tt_msleep(tt_scaled(100));
	ASSERT_EQ(TCP_CLOSING, tt_tcp_state(cli));	/* it did pass FIN_WAIT1 */
	expect_crossed(_metadata, cli, false);
	ASSERT_EQ(c0, tt_stat(t.cli_ns, "Crossings"));
	ASSERT_EQ(0, tt_so_error(cli));

	/* Drain, so the connection still ends cleanly. */
	while (tt_recv(srv, buf, sizeof(buf), 2000) > 0)
		;
	ASSERT_EQ(0, tt_recv(cli, buf, sizeof(buf), 2000));
}

/*
 * 32 crossings at once, one socket tracked.  Counted: the tracked one,
 * and with net.tcpterm.watch_all every other socket too.
 */
static void crossings_counted(struct __test_metadata *_metadata,
			      struct tt_topo *t, const struct tt_variant *net,
			      bool watch_all)
{
	enum { N = 32 };
	struct tt_pair p[N];
	long long c0, s0;
	char buf[16];
	int i;

	if (watch_all) {
		tt_sysctl(t->cli_ns, "/proc/sys/net/tcpterm/watch_all", "1");
		tt_sysctl(t->srv_ns, "/proc/sys/net/tcpterm/watch_all", "1");
	}
	for (i = 0; i < N; i++)
		tt_pair_open(t, net, &p[i]);
	track(p[0].cli, 0);
	c0 = tt_stat(t->cli_ns, "Crossings");
	s0 = tt_stat(t->srv_ns, "Crossings");
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, shutdown(p[i].cli, SHUT_WR));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, shutdown(p[i].srv, SHUT_WR));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, tt_recv(p[i].cli, buf, sizeof(buf), 2000));
		ASSERT_EQ(0, tt_recv(p[i].srv, buf, sizeof(buf), 2000));
	}
	tt_msleep(tt_scaled(3 * tt_delay_ms));
	ASSERT_EQ(c0 + (watch_all ? N : 1), tt_stat(t->cli_ns, "Crossings"));
	ASSERT_EQ(s0 + (watch_all ? N : 0), tt_stat(t->srv_ns, "Crossings"));
	expect_crossed(_metadata, p[0].cli, true);
	expect_crossed(_metadata, p[1].cli, false);	/* untracked */
}

/* watch_all: every socket is watched, opted in or not. */
TEST_F(delayed46, parallel)
{
	crossings_counted(_metadata, &self->t, variant->net, true);
}

/* Without it, the untracked ones cost nothing and are not counted. */
TEST_F(delayed46, parallel_unwatched)
{
	crossings_counted(_metadata, &self->t, variant->net, false);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);

	getsockname(fd, (struct sockaddr *)&sa, &len);
	return ntohs(sa.sin6_port);	/* same offset in sockaddr_in */
}

/* The event names family, both addresses and the namespace. */
static void expect_event_tuple(struct __test_metadata *_metadata,
			       const struct tt_variant *v,
			       const struct tt_event *ev, const char *local,
			       const char *remote, uint32_t ino)
{
	uint8_t want[16];
	int alen = v->family == AF_INET ? 4 : 16;

	ASSERT_EQ(v->family, ev->family);
	ASSERT_EQ(alen, ev->alen);
	ASSERT_EQ(1, inet_pton(v->family, local, want));
	ASSERT_EQ(0, memcmp(want, ev->saddr, alen));
	ASSERT_EQ(1, inet_pton(v->family, remote, want));
	ASSERT_EQ(0, memcmp(want, ev->daddr, alen));
	ASSERT_EQ(ino, ev->netns_ino);
}

static const char *cli_addr(const struct tt_variant *v)
{
	return v->family == AF_INET ? "10.77.0.1" : "fd77::1";
}

/*
 * A crossing is multicast, with its 4-tuple, in the socket's netns; and
 * TCPTERM_CMD_GET_STATS counts what /proc/net/tcpterm counts.
 */
TEST_F(delayed46, event_crossing)
{
	const struct tt_variant *v = variant->net;
	struct tt_topo t = self->t;
	struct tt_event ev;
	struct tt_pair p;
	int nl;
	char buf[16];

	/* Untracked sockets: reported where the namespace watches all. */
	tt_sysctl(t.cli_ns, "/proc/sys/net/tcpterm/watch_all", "1");
	tt_pair_open(&t, v, &p);
	nl = tt_events_open(t.cli_ns);
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	ASSERT_EQ(0, tt_events_next(nl, TCPTERM_EV_CROSSING, &ev, 2000));
	ASSERT_EQ(local_port(p.cli), ev.sport);
	ASSERT_EQ(local_port(p.lsn), ev.dport);
	ASSERT_EQ(tt_sock_cookie(p.cli), ev.cookie);
	/* Made on the way to CLOSING, in the state the FIN found. */
	ASSERT_EQ(TCP_FIN_WAIT1, ev.state);
	expect_event_tuple(_metadata, v, &ev, cli_addr(v), v->srv_addr,
			   tt_netns_ino(t.cli_ns));

	ASSERT_EQ(1, tt_stat(t.cli_ns, "Crossings"));
	ASSERT_EQ(1, tt_genl_stat(t.cli_ns, TCPTERM_STAT_CROSSINGS));
	ASSERT_EQ(tt_stat(t.cli_ns, "TrackedSockets"),
		  tt_genl_stat(t.cli_ns, TCPTERM_STAT_TRACKED_SOCKETS));
}

/* A policy RST is multicast too, with its reason. */
TEST_F(plain46, event_policy_rst)
{
	const struct tt_variant *v = variant->net;
	struct tt_topo t = self->t;
	struct tt_event ev;
	struct tt_pair p;
	int nl;

	tt_pair_open(&t, v, &p);
	tt_set_policy(p.srv, TCPTERM_POLICY_HALF_DUPLEX);
	nl = tt_events_open(t.srv_ns);
	tt_send(p.cli, 10);
	tt_wait_inq(p.srv, 10);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));
	ASSERT_EQ(0, tt_events_next(nl, TCPTERM_EV_POLICY_RST, &ev, 2000));
	ASSERT_EQ(local_port(p.lsn), ev.sport);
	ASSERT_EQ(local_port(p.cli), ev.dport);
	ASSERT_EQ(tt_sock_cookie(p.srv), ev.cookie);
	ASSERT_EQ(TCPTERM_RST_UNREAD_ON_SHUTDOWN, ev.reason);
	expect_event_tuple(_metadata, v, &ev, v->srv_addr, cli_addr(v),
			   tt_netns_ino(t.srv_ns));
	ASSERT_EQ(1, tt_genl_stat(t.srv_ns, TCPTERM_STAT_POLICY_RSTS));
	ASSERT_EQ(10, tt_genl_stat(t.srv_ns, TCPTERM_STAT_BYTES_DISCARDED));
}

/*
 * Events name every connection of the namespace: only CAP_NET_ADMIN may
 * listen.  An unprivileged process gets EPERM joining the group.
 */
FIXTURE(cap) {
	struct tt_topo t;
};

FIXTURE_VARIANT(cap) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(cap, ipv4) { .net = &tt_ipv4 };

FIXTURE_SETUP(cap)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(cap)
{
	tt_topo_down();
}

TEST_F(cap, event_group)
{
	struct tt_topo t = self->t;
	int fd, status;
	pid_t pid;

	fd = tt_events_open(t.cli_ns);	/* root may */
	close(fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		fd = tt_genl_events_socket(t.cli_ns);
		if (setgid(65534) || setuid(65534))
			TT_FAIL("drop privileges");
		ASSERT_ERRNO(EPERM, tt_genl_join_events(fd));
		_exit(KSFT_PASS);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(KSFT_PASS, WEXITSTATUS(status));
}

/*
 * A peer that keeps sending after our FIN makes a late-data segment each
 * time: every one is counted, but the socket sends one event, not one per
 * segment (a remote peer must not drive netlink traffic at line rate).
 */
TEST_F(delayed46, event_late_data_once)
{
	enum { SEGS = 8 };
	struct tt_topo t = self->t;
	struct tt_event ev;
	struct tt_pair p;
	long long late0;
	char buf[64];
	int i, nl, one = 1, events = 0;

	tt_pair_open(&t, variant->net, &p);
	track(p.srv, 0);
	ASSERT_EQ(0, setsockopt(p.cli, IPPROTO_TCP, TCP_NODELAY, &one,
				sizeof(one)));
	nl = tt_events_open(t.srv_ns);
	late0 = tt_stat(t.srv_ns, "LateData");
	/* Our FIN is 50 ms away from the peer: all SEGS cross it. */
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	for (i = 0; i < SEGS; i++)
		ASSERT_EQ(1, send(p.cli, "x", 1, 0));
	tt_wait_inq(p.srv, SEGS);
	while (tt_recv(p.srv, buf, sizeof(buf), 200) > 0)
		;
	ASSERT_LE(late0 + 2, tt_stat(t.srv_ns, "LateData"));
	while (!tt_events_next(nl, TCPTERM_EV_LATE_DATA, &ev, 500))
		events++;
	ASSERT_EQ(1, events);
	ASSERT_EQ(0, tt_stat(t.srv_ns, "EventsDropped"));
}

TT_HARNESS_MAIN
