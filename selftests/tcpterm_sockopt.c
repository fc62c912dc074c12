// SPDX-License-Identifier: GPL-2.0
/*
 * TCPTERM_POLICY and TCPTERM_INFO: the half-duplex policy on the wire,
 * the stock behaviour it must leave alone, and the option interface's
 * answers to bad input.  Every case runs in fresh namespaces (lib.h).
 *
 * What each case asserts is what an observer on the wire or either
 * application would see: the peer's errno, the bytes that arrived, and
 * the RSTs counted by the stack (Tcp OutRsts) and by tcpterm.
 *
 * Fixtures (kselftest_harness.h), each case named FIXTURE.VARIANT.TEST:
 *   net           the two namespaces (lib.h); ipv4, ipv6, mapped
 *   net46         the same, ipv4 and ipv6 only
 *   hd            net, and a connected pair whose server end is
 *                 HALF_DUPLEX; ipv4, ipv6, mapped
 *   close_unread  close() with input unread, per policy (hd, default)
 *                 and family
 *   shutrd_queues SHUT_RD without HALF_DUPLEX, tracked or not
 *   bound         max_sockets_per_netns, restored by the teardown
 *   sockopt       no topology: one socket in the init namespace
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"
#include "fixtures.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

struct tt_counts {
	long long srv_rsts, cli_rsts, policy_rsts, discarded;
	long long cli_estab_resets;
};

static void tt_counts(const struct tt_topo *t, struct tt_counts *c)
{
	c->srv_rsts = tt_snmp(t->srv_ns, "Tcp", "OutRsts");
	c->cli_rsts = tt_snmp(t->cli_ns, "Tcp", "OutRsts");
	c->policy_rsts = tt_stat(t->srv_ns, "PolicyRsts");
	c->discarded = tt_stat(t->srv_ns, "BytesDiscarded");
	c->cli_estab_resets = tt_snmp(t->cli_ns, "Tcp", "EstabResets");
}

/* Differences since @before, after the wire has settled. */
static void tt_delta(const struct tt_topo *t, const struct tt_counts *before,
		     struct tt_counts *d)
{
	tt_msleep(tt_scaled(100));
	tt_counts(t, d);
	d->srv_rsts -= before->srv_rsts;
	d->cli_rsts -= before->cli_rsts;
	d->policy_rsts -= before->policy_rsts;
	d->discarded -= before->discarded;
	d->cli_estab_resets -= before->cli_estab_resets;
}

/* A connected pair in @t; @policy (if >= 0) on the server end. */
static void pair_setup(const struct tt_variant *v, const struct tt_topo *t,
		       struct tt_pair *p, int policy)
{
	tt_pair_open(t, v, p);
	if (policy >= 0)
		tt_set_policy(p->srv, policy);
}

/* The server holds tt_unread unread bytes; counters sampled after. */
static const int tt_unread = 1000;

static void unread_setup(const struct tt_topo *t, const struct tt_pair *p,
			 struct tt_counts *c0)
{
	tt_send(p->cli, tt_unread);
	tt_wait_inq(p->srv, tt_unread);
	tt_counts(t, c0);
}

FIXTURE(hd) {
	struct tt_topo t;
	struct tt_pair p;
};

FIXTURE_VARIANT(hd) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(hd, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(hd, ipv6) { .net = &tt_ipv6 };
FIXTURE_VARIANT_ADD(hd, mapped) { .net = &tt_mapped };

FIXTURE_SETUP(hd)
{
	tt_topo_up(&self->t, 0);
	pair_setup(variant->net, &self->t, &self->p, TCPTERM_POLICY_HALF_DUPLEX);
}

FIXTURE_TEARDOWN(hd)
{
	tt_topo_down();
}

/* With the module loaded, plain TCP still carries data intact. */
TEST_F(net, tcp_transfer)
{
	static char tx[256 * 1024], rx[sizeof(tx)];
	const struct tt_variant *v = variant->net;
	struct tt_topo t = self->t;
	struct tt_pair p;
	size_t got = 0;
	int i, status;
	pid_t pid;
	long r;

	for (i = 0; i < (int)sizeof(tx); i++)
		tx[i] = (char)(i * 7 + i / 251);
	tt_pair_open(&t, v, &p);
	/* A sender of its own: the buffers need not hold it all. */
	pid = fork();
	if (pid == 0)
		_exit(send(p.cli, tx, sizeof(tx), MSG_NOSIGNAL) != sizeof(tx) ||
		      shutdown(p.cli, SHUT_WR));
	while ((r = tt_recv(p.srv, rx + got, sizeof(rx) - got, 2000)) > 0)
		got += r;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, r);
	ASSERT_EQ(sizeof(tx), got);
	ASSERT_EQ(0, memcmp(tx, rx, sizeof(tx)));
	close(p.srv);
	ASSERT_EQ(0, tt_recv(p.cli, rx, sizeof(rx), 2000));
}

/*
 * close() with unread input: RST, the peer reads ECONNRESET.  Stock Linux
 * does it for both policies; HALF_DUPLEX also accounts for it.
 */
FIXTURE(close_unread) {
	struct tt_topo t;
	struct tt_pair p;
	struct tt_counts c0;
};

FIXTURE_VARIANT(close_unread) {
	const struct tt_variant *net;
	int policy;
};

FIXTURE_VARIANT_ADD(close_unread, hd_ipv4) {
	.net = &tt_ipv4, .policy = TCPTERM_POLICY_HALF_DUPLEX,
};
FIXTURE_VARIANT_ADD(close_unread, hd_ipv6) {
	.net = &tt_ipv6, .policy = TCPTERM_POLICY_HALF_DUPLEX,
};
FIXTURE_VARIANT_ADD(close_unread, hd_mapped) {
	.net = &tt_mapped, .policy = TCPTERM_POLICY_HALF_DUPLEX,
};
FIXTURE_VARIANT_ADD(close_unread, default_ipv4) {
	.net = &tt_ipv4, .policy = TCPTERM_POLICY_DEFAULT,
};
FIXTURE_VARIANT_ADD(close_unread, default_ipv6) {
	.net = &tt_ipv6, .policy = TCPTERM_POLICY_DEFAULT,
};

FIXTURE_SETUP(close_unread)
{
	tt_topo_up(&self->t, 0);
	pair_setup(variant->net, &self->t, &self->p, variant->policy);
	unread_setup(&self->t, &self->p, &self->c0);
}

FIXTURE_TEARDOWN(close_unread)
{
	tt_topo_down();
}

TEST_F(close_unread, rst)
{
	bool hd = variant->policy == TCPTERM_POLICY_HALF_DUPLEX;
	struct tt_counts c0 = self->c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[64];

	close(p.srv);
	ASSERT_EQ(-ECONNRESET, tt_recv(p.cli, buf, sizeof(buf), 2000));
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(1, d.srv_rsts);
	ASSERT_EQ(hd ? 1 : 0, d.policy_rsts);
	ASSERT_EQ(hd ? tt_unread : 0, d.discarded);
}

/* SHUT_RD with unread input: RST now, ECONNABORTED locally. */
TEST_F(hd, shutrd_unread)
{
	struct tcpterm_info info;
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[64];

	unread_setup(&t, &p, &c0);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));
	ASSERT_EQ(-ECONNRESET, tt_recv(p.cli, buf, sizeof(buf), 2000));
	ASSERT_EQ(-ECONNABORTED, tt_recv(p.srv, buf, sizeof(buf), 0));
	ASSERT_EQ(0, tt_recv(p.srv, buf, sizeof(buf), 0));
	tt_get_info(p.srv, &info);
	ASSERT_TRUE(info.tti_flags & TCPTERM_F_TRACKED);
	ASSERT_TRUE(info.tti_flags & TCPTERM_F_RST_SENT);
	ASSERT_EQ(TCPTERM_RST_UNREAD_ON_SHUTDOWN, info.tti_rst_reason);
	ASSERT_EQ(tt_unread, info.tti_bytes_discarded);
	/* Our own abort is not the peer's reset. */
	ASSERT_EQ(TCPTERM_PEER_OPEN, info.tti_peer_end);
	ASSERT_TRUE(info.tti_rst_time_ns != 0);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(1, d.srv_rsts);
	ASSERT_EQ(1, d.policy_rsts);
	ASSERT_EQ(tt_unread, d.discarded);
	ASSERT_EQ(0, d.cli_rsts);
}

/*
 * A child accepted through TCP Fast Open, its request in the SYN, from a
 * HALF_DUPLEX listener: SHUT_RD with that request unread resets it.
 */
TEST_F(net46, hd_tfo_unread)
{
	static const char req[100];
	const struct tt_variant *v = variant->net;
	struct sockaddr_storage ss;
	struct tcpterm_info info;
	int lsn, cli, srv, qlen = 5;
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	socklen_t len;
	char buf[64];

	/* Data in the SYN without a cookie: client 0x1|0x4, server 0x2|0x200. */
	tt_sysctl(t.cli_ns, "/proc/sys/net/ipv4/tcp_fastopen", "5");
	tt_sysctl(t.srv_ns, "/proc/sys/net/ipv4/tcp_fastopen", "514");
	lsn = tt_listen(&t, v, TCPTERM_POLICY_HALF_DUPLEX);
	ASSERT_EQ(0, setsockopt(lsn, IPPROTO_TCP, TCP_FASTOPEN, &qlen,
				sizeof(qlen)));
	len = tt_server_addr(v, lsn, &ss);
	tt_enter(t.cli_ns);
	cli = socket(v->family, SOCK_STREAM, 0);
	ASSERT_EQ(sizeof(req), sendto(cli, req, sizeof(req), MSG_FASTOPEN,
				      (struct sockaddr *)&ss, len));
	srv = tt_accept(&t, lsn);
	ASSERT_LE(2, tt_stat(t.srv_ns, "TrackedSockets"));
	tt_wait_inq(srv, sizeof(req));
	ASSERT_LE(1, tt_snmp(t.srv_ns, "TcpExt", "TCPFastOpenPassive"));
	tt_counts(&t, &c0);

	ASSERT_EQ(0, shutdown(srv, SHUT_RD));
	ASSERT_EQ(-ECONNRESET, tt_recv(cli, buf, sizeof(buf), 2000));
	ASSERT_EQ(-ECONNABORTED, tt_recv(srv, buf, sizeof(buf), 0));
	tt_get_info(srv, &info);
	ASSERT_EQ(TCPTERM_RST_UNREAD_ON_SHUTDOWN, info.tti_rst_reason);
	ASSERT_EQ(sizeof(req), info.tti_bytes_discarded);
	ASSERT_EQ(TCPTERM_PEER_OPEN, info.tti_peer_end);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(1, d.srv_rsts);
	ASSERT_EQ(1, d.policy_rsts);
	close(cli);
	close(srv);
	close(lsn);
}

static const char tt_bound_param[] =
	"/sys/module/tcpterm/parameters/max_sockets_per_netns";

static void tt_bound_child(struct __test_metadata *_metadata,
			   const struct tt_variant *v, struct tt_topo *t)
{
	int fd[5], i;

	tt_enter(t->srv_ns);
	for (i = 0; i < 5; i++) {
		fd[i] = socket(v->family, SOCK_STREAM, 0);
		ASSERT_LE(0, fd[i]);
	}
	for (i = 0; i < 4; i++)
		tt_set_policy(fd[i], TCPTERM_POLICY_HALF_DUPLEX);
	ASSERT_ERRNO(ENOBUFS, setsockopt(fd[4], SOL_TCPTERM, TCPTERM_POLICY,
					 &(int){ TCPTERM_POLICY_DRAIN },
					 sizeof(int)));
	ASSERT_EQ(4, tt_stat(t->srv_ns, "TrackedSockets"));
	ASSERT_EQ(1, tt_stat(t->srv_ns, "SocketsRefused"));
	/* The bound is per namespace: the client's is untouched. */
	tt_enter(t->cli_ns);
	i = socket(v->family, SOCK_STREAM, 0);
	tt_set_policy(i, TCPTERM_POLICY_DRAIN);
	/* A freed place is free again. */
	close(fd[0]);
	tt_enter(t->srv_ns);
	tt_set_policy(fd[4], TCPTERM_POLICY_DRAIN);
	_exit(KSFT_PASS);
}

/*
 * max_sockets_per_netns bounds the sockets with a policy per network
 * namespace: over it, setsockopt fails with ENOBUFS and SocketsRefused
 * counts the refusal.
 */
FIXTURE(bound) {
	struct tt_topo t;
};

FIXTURE_VARIANT(bound) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(bound, ipv4) { .net = &tt_ipv4 };

FIXTURE_SETUP(bound)
{
	tt_topo_up(&self->t, 0);
	tt_sysctl(self->t.srv_ns, tt_bound_param, "4");
}

FIXTURE_TEARDOWN(bound)
{
	tt_sysctl(self->t.srv_ns, tt_bound_param, "1048576");
	tt_topo_down();
}

TEST_F(bound, per_netns)
{
	int status;
	pid_t pid;

	/* A child of its own, so that it can enter both namespaces. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		tt_bound_child(_metadata, variant->net, &self->t);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(KSFT_PASS, WEXITSTATUS(status));
}

/* SHUT_RD, then the peer sends: that data is answered with RST. */
static void hd_late_data(struct __test_metadata *_metadata,
			 const struct tt_topo *tp, const struct tt_pair *pp,
			 int how)
{
	struct tcpterm_info info;
	struct tt_counts c0, d;
	struct tt_topo t = *tp;
	struct tt_pair p = *pp;
	char buf[64];

	tt_counts(&t, &c0);
	ASSERT_EQ(0, shutdown(p.srv, how));
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(0, d.srv_rsts);	/* nothing lost yet: no RST */

	if (how == SHUT_RDWR)
		ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	tt_send(p.cli, 100);
	if (how == SHUT_RDWR)
		tt_expect_reset_in_close_wait(p.cli, 2000);
	else
		ASSERT_EQ(-ECONNRESET, tt_recv(p.cli, buf, sizeof(buf), 2000));
	/*
	 * In FIN_WAIT1/2 (SHUT_RDWR) the stock code resets on such data
	 * itself, before tcpterm could: its errno is the stock one.
	 */
	ASSERT_EQ(how == SHUT_RDWR ? -ECONNRESET : -ECONNABORTED,
		  tt_recv(p.srv, buf, sizeof(buf), 0));
	tt_get_info(p.srv, &info);
	ASSERT_EQ(TCPTERM_RST_DATA_AFTER_SHUTDOWN, info.tti_rst_reason);
	ASSERT_EQ(100, info.tti_bytes_discarded);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(1, d.srv_rsts);
	ASSERT_EQ(1, d.policy_rsts);
	ASSERT_EQ(100, d.discarded);
}

/*
 * The server in LAST_ACK with its FIN still queued: the client sent
 * tt_unread bytes and its FIN, stopped reading with a small receive
 * buffer, and the server wrote until its send buffer filled, then shut
 * its sending side.  Its FIN waits behind data the closed window holds.
 */
static void last_ack_setup(struct __test_metadata *_metadata,
			   const struct tt_pair *p)
{
	static char chunk[65536];
	int small = 4096, waited = 0, unsent = 0;

	ASSERT_EQ(0, setsockopt(p->cli, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	tt_send(p->cli, tt_unread);
	ASSERT_EQ(0, shutdown(p->cli, SHUT_WR));
	tt_wait_inq(p->srv, tt_unread);
	while (tt_tcp_state(p->srv) != TCP_CLOSE_WAIT && waited < tt_scaled(2000)) {
		tt_msleep(10);
		waited += 10;
	}
	ASSERT_EQ(TCP_CLOSE_WAIT, tt_tcp_state(p->srv));
	while (send(p->srv, chunk, sizeof(chunk), MSG_DONTWAIT) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, shutdown(p->srv, SHUT_WR));
	ASSERT_EQ(TCP_LAST_ACK, tt_tcp_state(p->srv));
	ASSERT_EQ(0, ioctl(p->srv, SIOCOUTQNSD, &unsent));
	ASSERT_LT(0, unsent);
}

/* Read @fd until it ends: 0 at end of file, else -errno. */
static long read_to_end(int fd)
{
	static char buf[65536];
	long r;

	do
		r = tt_recv(fd, buf, sizeof(buf), 5000);
	while (r > 0);
	return r;
}

/*
 * HALF_DUPLEX, SHUT_RD in LAST_ACK with our FIN still queued: the peer
 * has not been told our data ended, so it learns of the lost input by
 * an RST (tcp_abort() sends none in LAST_ACK; disconnect does).
 */
TEST_F(hd, shutrd_last_ack)
{
	struct tcpterm_info info;
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[64];

	last_ack_setup(_metadata, &p);
	tt_counts(&t, &c0);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));
	ASSERT_EQ(-ECONNRESET, read_to_end(p.cli));
	ASSERT_EQ(-ECONNABORTED, tt_recv(p.srv, buf, sizeof(buf), 0));
	tt_get_info(p.srv, &info);
	ASSERT_TRUE(info.tti_flags & TCPTERM_F_RST_SENT);
	ASSERT_EQ(TCPTERM_RST_UNREAD_ON_SHUTDOWN, info.tti_rst_reason);
	ASSERT_EQ(tt_unread, info.tti_bytes_discarded);
	ASSERT_EQ(TCPTERM_PEER_FIN, info.tti_peer_end);
	tt_delta(&t, &c0, &d);
	/*
	 * Ours, and maybe the stock answer to a window update the client
	 * sent while reading, which finds no socket any more.
	 */
	ASSERT_LE(1, d.srv_rsts);
	ASSERT_EQ(1, d.policy_rsts);
	ASSERT_EQ(tt_unread, d.discarded);
}

/* The same without a policy: SHUT_RD changes nothing, a clean end. */
TEST_F(net, stock_shutrd_last_ack)
{
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p;

	pair_setup(variant->net, &t, &p, -1);
	last_ack_setup(_metadata, &p);
	tt_counts(&t, &c0);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));
	ASSERT_EQ(0, read_to_end(p.cli));
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(0, d.srv_rsts);
	ASSERT_EQ(0, d.policy_rsts);
}

/*
 * HALF_DUPLEX on the client, SHUT_RD in CLOSING with its FIN still
 * queued (the server's small window holds it back when the server's FIN
 * arrives): the server learns of the lost input by an RST.
 */
TEST_F(net, hd_shutrd_closing)
{
	const struct tt_variant *v = variant->net;
	static char chunk[65536];
	int lsn, cli, srv, small = 2048, unsent = 0;
	struct tcpterm_info info;
	struct tt_topo t = self->t;
	long long r0;
	char buf[64];

	lsn = tt_listen(&t, v, -1);
	ASSERT_EQ(0, setsockopt(lsn, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	cli = tt_connect(&t, v, lsn);
	srv = tt_accept(&t, lsn);
	tt_set_policy(cli, TCPTERM_POLICY_HALF_DUPLEX);
	tt_send(srv, tt_unread);
	tt_wait_inq(cli, tt_unread);
	while (send(cli, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	tt_msleep(tt_scaled(100));
	ASSERT_EQ(0, shutdown(cli, SHUT_WR));	/* FIN queued, not sent */
	ASSERT_EQ(0, shutdown(srv, SHUT_WR));
	tt_msleep(tt_scaled(100));
	ASSERT_EQ(TCP_CLOSING, tt_tcp_state(cli));
	ASSERT_EQ(0, ioctl(cli, SIOCOUTQNSD, &unsent));
	ASSERT_LT(0, unsent);

	r0 = tt_stat(t.cli_ns, "PolicyRsts");
	ASSERT_EQ(0, shutdown(cli, SHUT_RD));
	ASSERT_EQ(-ECONNRESET, read_to_end(srv));
	ASSERT_EQ(-ECONNABORTED, tt_recv(cli, buf, sizeof(buf), 0));
	tt_get_info(cli, &info);
	ASSERT_EQ(TCPTERM_RST_UNREAD_ON_SHUTDOWN, info.tti_rst_reason);
	ASSERT_EQ(tt_unread, info.tti_bytes_discarded);
	ASSERT_EQ(TCPTERM_PEER_FIN, info.tti_peer_end);
	ASSERT_EQ(r0 + 1, tt_stat(t.cli_ns, "PolicyRsts"));
}

TEST_F(hd, shutrd_late)
{
	hd_late_data(_metadata, &self->t, &self->p, SHUT_RD);
}

static const char tt_fail_allocs[] =
	"/sys/module/tcpterm/parameters/fail_abort_allocs";

static void set_fail_allocs(struct __test_metadata *_metadata, int n)
{
	FILE *f = fopen(tt_fail_allocs, "w");

	ASSERT_NE(NULL, f);
	ASSERT_LT(0, fprintf(f, "%d\n", n));
	ASSERT_EQ(0, fclose(f));
}

/*
 * The abort of a HALF_DUPLEX socket cannot be allocated, neither at
 * SHUT_RD nor for the first late segment (fault injection: test builds
 * only, module/fault.h).  That segment is consumed without an RST, and
 * the socket is not left silently stock: the next one resets it.
 */
TEST_F(hd, abort_alloc_fails)
{
	struct tcpterm_info info;
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[64];

	if (access(tt_fail_allocs, W_OK))
		SKIP(return, "a release build: no fault injection");
	tt_counts(&t, &c0);
	set_fail_allocs(_metadata, 2);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));	/* the first failure */
	tt_send(p.cli, 100);			/* the second */
	tt_delta(&t, &c0, &d);
	set_fail_allocs(_metadata, 0);
	ASSERT_EQ(100, d.discarded);
	ASSERT_EQ(0, d.srv_rsts);
	ASSERT_EQ(0, d.policy_rsts);

	tt_send(p.cli, 100);
	ASSERT_EQ(-ECONNRESET, tt_recv(p.cli, buf, sizeof(buf), 2000));
	ASSERT_EQ(-ECONNABORTED, tt_recv(p.srv, buf, sizeof(buf), 0));
	tt_get_info(p.srv, &info);
	ASSERT_EQ(TCPTERM_RST_DATA_AFTER_SHUTDOWN, info.tti_rst_reason);
	ASSERT_EQ(200, info.tti_bytes_discarded);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(1, d.srv_rsts);
	ASSERT_EQ(1, d.policy_rsts);
	ASSERT_EQ(200, d.discarded);
}

TEST_F(net46, hd_shutrdwr_late)
{
	struct tt_pair p;

	pair_setup(variant->net, &self->t, &p, TCPTERM_POLICY_HALF_DUPLEX);
	hd_late_data(_metadata, &self->t, &p, SHUT_RDWR);
}

/*
 * close() with nothing pending, then the peer sends: RST (stock).  The
 * orphan resets from FIN_WAIT1/2 (TCPAbortOnData) or, once it became a
 * timewait socket, from there: which one depends on timing.
 */
TEST_F(net46, hd_close_late)
{
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p;
	char buf[64];

	pair_setup(variant->net, &t, &p, TCPTERM_POLICY_HALF_DUPLEX);
	tt_counts(&t, &c0);
	close(p.srv);
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	tt_send(p.cli, 100);
	tt_expect_reset_in_close_wait(p.cli, 2000);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(1, d.srv_rsts);
	ASSERT_EQ(1, d.cli_estab_resets);
}

/* Nothing pending, nothing arriving: a plain FIN exchange, no RST. */
TEST_F(hd, clean)
{
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[1024];

	tt_send(p.srv, 500);
	tt_counts(&t, &c0);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));
	close(p.srv);
	tt_wait_inq(p.cli, 500);
	ASSERT_EQ(500, tt_recv(p.cli, buf, sizeof(buf), 2000));
	ASSERT_EQ(0, tt_recv(p.cli, buf, sizeof(buf), 2000));
	close(p.cli);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(0, d.srv_rsts);
	ASSERT_EQ(0, d.cli_rsts);
	ASSERT_EQ(0, d.policy_rsts);
}

/*
 * HALF_DUPLEX, only the sending side shut: the peer's answer and its
 * FIN arrive before the owner reads; the owner reads every byte, then
 * end of file.  The peer's FIN closes the read side too (RCV_SHUTDOWN),
 * but the owner did not: nothing may be discarded or reset.
 */
TEST_F(hd, shutwr_answer_and_fin)
{
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[4096];
	long got = 0, r;

	tt_counts(&t, &c0);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	tt_msleep(tt_scaled(50));
	tt_send(p.cli, tt_unread);
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	tt_msleep(tt_scaled(100));
	while ((r = tt_recv(p.srv, buf, sizeof(buf), 2000)) > 0)
		got += r;
	ASSERT_EQ(0, r);
	ASSERT_EQ(tt_unread, got);
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(0, d.srv_rsts);
	ASSERT_EQ(0, d.cli_rsts);
	ASSERT_EQ(0, d.policy_rsts);
	ASSERT_EQ(0, d.discarded);
}

/* DEFAULT (and untracked): SHUT_RD keeps queued data readable. */
FIXTURE(shutrd_queues) {
	struct tt_topo t;
	struct tt_pair p;
};

FIXTURE_VARIANT(shutrd_queues) {
	const struct tt_variant *net;
	int policy;		/* -1: untracked */
};

FIXTURE_VARIANT_ADD(shutrd_queues, tracked_ipv4) {
	.net = &tt_ipv4, .policy = TCPTERM_POLICY_DEFAULT,
};
FIXTURE_VARIANT_ADD(shutrd_queues, tracked_ipv6) {
	.net = &tt_ipv6, .policy = TCPTERM_POLICY_DEFAULT,
};
FIXTURE_VARIANT_ADD(shutrd_queues, untracked_ipv4) {
	.net = &tt_ipv4, .policy = -1,
};
FIXTURE_VARIANT_ADD(shutrd_queues, untracked_ipv6) {
	.net = &tt_ipv6, .policy = -1,
};

FIXTURE_SETUP(shutrd_queues)
{
	tt_topo_up(&self->t, 0);
	pair_setup(variant->net, &self->t, &self->p, variant->policy);
}

FIXTURE_TEARDOWN(shutrd_queues)
{
	tt_topo_down();
}

TEST_F(shutrd_queues, late_data)
{
	struct tt_counts c0, d;
	struct tt_topo t = self->t;
	struct tt_pair p = self->p;
	char buf[2048];

	unread_setup(&t, &p, &c0);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_RD));
	ASSERT_EQ(0, tt_poll(p.cli, POLLIN, 300));
	tt_send(p.cli, 100);	/* late data: stock Linux queues it */
	tt_wait_inq(p.srv, tt_unread + 100);
	ASSERT_EQ(tt_unread + 100, recv(p.srv, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, tt_poll(p.cli, POLLIN, 200));
	tt_delta(&t, &c0, &d);
	ASSERT_EQ(0, d.srv_rsts);
	ASSERT_EQ(0, d.policy_rsts);
}

/* A listener's policy is inherited by the sockets it accepts. */
TEST_F(net, inherit_listener)
{
	const struct tt_variant *v = variant->net;
	struct tcpterm_info info;
	struct tt_topo t = self->t;
	int lsn, cli, srv, val = -1;
	socklen_t len = sizeof(val);
	char buf[64];

	lsn = tt_listen(&t, v, TCPTERM_POLICY_HALF_DUPLEX);
	cli = tt_connect(&t, v, lsn);
	srv = tt_accept(&t, lsn);
	ASSERT_EQ(0, getsockopt(srv, SOL_TCPTERM, TCPTERM_POLICY, &val, &len));
	ASSERT_EQ(TCPTERM_POLICY_HALF_DUPLEX, val);
	tt_get_info(srv, &info);
	ASSERT_TRUE(info.tti_flags & TCPTERM_F_TRACKED);
	ASSERT_EQ(0, shutdown(srv, SHUT_RD));
	tt_send(cli, 10);
	ASSERT_EQ(-ECONNRESET, tt_recv(cli, buf, sizeof(buf), 2000));
}

/* TCPTERM_INFO reports how the peer ended: FIN, then RST. */
TEST_F(net46, info_peer_end)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	const struct tt_variant *v = variant->net;
	struct tcpterm_info info;
	struct tt_topo t = self->t;
	struct tt_pair p, q;
	char buf[64];

	tt_pair_open(&t, v, &p);
	tt_set_policy(p.srv, TCPTERM_POLICY_DEFAULT);
	tt_get_info(p.srv, &info);
	ASSERT_EQ(TCPTERM_PEER_OPEN, info.tti_peer_end);
	ASSERT_EQ(0, shutdown(p.cli, SHUT_WR));
	ASSERT_EQ(0, tt_recv(p.srv, buf, sizeof(buf), 2000));
	tt_get_info(p.srv, &info);
	ASSERT_EQ(TCPTERM_PEER_FIN, info.tti_peer_end);

	tt_pair_open(&t, v, &q);
	tt_set_policy(q.srv, TCPTERM_POLICY_DEFAULT);
	ASSERT_EQ(0, setsockopt(q.cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(q.cli);
	ASSERT_EQ(-ECONNRESET, tt_recv(q.srv, buf, sizeof(buf), 2000));
	tt_get_info(q.srv, &info);
	ASSERT_EQ(TCPTERM_PEER_RST, info.tti_peer_end);
	ASSERT_EQ(0, info.tti_flags & TCPTERM_F_RST_SENT);
}

/* One socket of the variant's family, in the init namespace. */
FIXTURE(sockopt) {
	int fd;
};

FIXTURE_VARIANT(sockopt) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(sockopt, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(sockopt, ipv6) { .net = &tt_ipv6 };

FIXTURE_SETUP(sockopt)
{
	self->fd = socket(variant->net->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(sockopt)
{
	close(self->fd);
}

/* Untracked sockets report the defaults; short optlen truncates. */
TEST_F(sockopt, info_untracked)
{
	struct tcpterm_info info;
	socklen_t len;
	__u32 version = 0;
	int fd = self->fd;

	tt_get_info(fd, &info);
	ASSERT_EQ(0, info.tti_flags);
	ASSERT_EQ(TCPTERM_POLICY_DEFAULT, info.tti_policy);
	ASSERT_EQ(TCPTERM_PEER_OPEN, info.tti_peer_end);

	len = sizeof(version);
	ASSERT_EQ(0, getsockopt(fd, SOL_TCPTERM, TCPTERM_INFO, &version, &len));
	ASSERT_EQ(sizeof(version), len);
	ASSERT_EQ(TCPTERM_INFO_VERSION, version);
	len = 0;
	ASSERT_EQ(0, getsockopt(fd, SOL_TCPTERM, TCPTERM_INFO, &info, &len));
	ASSERT_EQ(0, len);
}

/* Bad input: clear errnos, nothing changes. */
TEST_F(sockopt, bad_input)
{
	const struct tt_variant *v = variant->net;
	int fd = self->fd, val = 1, big[4] = { 1 };
	long long pagesz = sysconf(_SC_PAGESIZE);
	socklen_t len;
	void *gone;

	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 0));
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 2));
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, big,
					sizeof(big)));
	val = 99;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 4));
	val = -1;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 4));
	val = 2;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_CROSSING_ERROR,
					&val, 4));
	ASSERT_ERRNO(EFAULT, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, NULL, 4));
	gone = mmap(NULL, pagesz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(gone != MAP_FAILED);
	munmap(gone, pagesz);
	ASSERT_ERRNO(EFAULT, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, gone, 4));
	ASSERT_ERRNO(ENOPROTOOPT, setsockopt(fd, SOL_TCPTERM, 77, &val, 4));
	ASSERT_ERRNO(ENOPROTOOPT, setsockopt(fd, SOL_TCPTERM, TCPTERM_INFO, &val, 4));

	/* None of the above tracked the socket or changed its policy. */
	len = sizeof(val);
	ASSERT_EQ(0, getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, &len));
	ASSERT_EQ(TCPTERM_POLICY_DEFAULT, val);

	len = 2;
	ASSERT_ERRNO(EINVAL, getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, &len));
	len = -1;
	ASSERT_ERRNO(EINVAL, getsockopt(fd, SOL_TCPTERM, TCPTERM_INFO, &val, &len));
	ASSERT_ERRNO(EFAULT, getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, NULL));
	len = sizeof(val);
	ASSERT_ERRNO(EFAULT, getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, gone, &len));
	len = sizeof(val);
	ASSERT_ERRNO(ENOPROTOOPT, getsockopt(fd, SOL_TCPTERM, 77, &val, &len));

	/* Not TCP: the level is unknown there. */
	fd = socket(v->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	val = 1;
	ASSERT_ERRNO(ENOPROTOOPT, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 4));
	close(fd);
	/* MPTCP rejects levels it does not know before any subflow. */
	fd = socket(v->family, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0)
		SKIP(return, "no MPTCP socket: %s", strerror(errno));
	ASSERT_ERRNO(ENOPROTOOPT, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 4));
	close(fd);
}

/* Other levels behave exactly as without the module. */
TEST_F(sockopt, other_levels)
{
	const struct tt_variant *v = variant->net;
	int fd = self->fd, val = 1;
	socklen_t len = sizeof(val);

	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &val, 4));
	val = 0;
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &val, &len));
	ASSERT_EQ(1, val);
	val = 1;
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &val, 4));
	ASSERT_ERRNO(ENOPROTOOPT, setsockopt(fd, 0x12345, 1, &val, 4));
	len = sizeof(val);
	/* ip_getsockopt says EOPNOTSUPP, ipv6_getsockopt ENOPROTOOPT. */
	ASSERT_ERRNO(v->family == AF_INET ? EOPNOTSUPP : ENOPROTOOPT,
		     getsockopt(fd, 0x12345, 1, &val, &len));
	ASSERT_ERRNO(EINVAL, setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &val, 2));
}

/* Any user may set a policy on their own socket. */
TEST_F(sockopt, unprivileged)
{
	const struct tt_variant *v = variant->net;
	int status, fd, val;
	socklen_t len = sizeof(val);
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = socket(v->family, SOCK_STREAM, 0);
		val = TCPTERM_POLICY_HALF_DUPLEX;
		if (setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 4))
			_exit(3);
		val = 0;
		if (getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, &len) ||
		    val != TCPTERM_POLICY_HALF_DUPLEX)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * rmmod while policied sockets are open: the module goes, the sockets
 * fall back to stock behaviour and still close cleanly; the level is
 * unknown again; insmod brings it back.
 */
TEST_F(net46, unload_with_sockets)
{
	const char *ko = getenv("TCPTERM_KO");
	const struct tt_variant *v = variant->net;
	struct tt_topo t = self->t;
	struct tt_pair p[8];
	char buf[256], cmd[256];
	int i, val = 1;

	if (!ko)
		SKIP(return, "TCPTERM_KO not set");
	for (i = 0; i < 8; i++) {
		tt_pair_open(&t, v, &p[i]);
		tt_set_policy(p[i].srv, TCPTERM_POLICY_HALF_DUPLEX);
		tt_set_policy(p[i].cli, TCPTERM_POLICY_HALF_DUPLEX);
	}
	ASSERT_EQ(0, shutdown(p[0].srv, SHUT_RD));
	ASSERT_EQ(0, system("rmmod tcpterm"));

	ASSERT_ERRNO(ENOPROTOOPT, setsockopt(p[1].srv, SOL_TCPTERM,
					     TCPTERM_POLICY, &val, 4));
	/* Stock again: late data after SHUT_RD is queued, not reset. */
	tt_send(p[0].cli, 10);
	tt_wait_inq(p[0].srv, 10);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, shutdown(p[i].cli, SHUT_WR));
		ASSERT_EQ(i ? 0 : 10, tt_recv(p[i].srv, buf, sizeof(buf), 2000));
		close(p[i].srv);
		ASSERT_EQ(0, tt_recv(p[i].cli, buf, sizeof(buf), 2000));
		close(p[i].cli);
	}
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	ASSERT_EQ(0, system(cmd));
	tt_set_policy(p[0].lsn, TCPTERM_POLICY_HALF_DUPLEX);
}

TT_HARNESS_MAIN
