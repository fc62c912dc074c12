// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: thousands of connections across both policies and families,
 * in random close and shutdown orders, with peers that reset or vanish,
 * while the module is removed and inserted again several times.
 *
 * Every connection must end in a way its applications can see: all data
 * delivered, or an error on one side saying why not.  Afterwards the
 * module is loaded, the kernel log is clean (the runner checks), and the
 * module's own count of tracked sockets is back to zero.
 *
 * Cases (kselftest_harness.h), 600 s each (times TCPTERM_TIME_SCALE):
 * stress.reload, where each worker alternates IPv4 and IPv6; and
 * stress.gate_flaps (below).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "harness.h"

static const int tt_workers = 4;
/* Per worker; TCPTERM_STRESS_CONNS lowers it on slow (debug) kernels. */
static int tt_conns_per_worker = 500;
static const int tt_reloads = 5;

enum scenario { S_NORMAL, S_CLOSE_UNREAD, S_SHUT_RD, S_PEER_RESET,
		S_CROSS, S_VANISH, S_MAX };

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

static void timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Read to EOF or error: bytes read, or -errno. */
static long drain(int fd)
{
	char buf[8192];
	long total = 0;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += r;
	return r < 0 ? -errno : total;
}

static bool is_reset(long r)
{
	return r == -ECONNRESET || r == -ECONNABORTED || r == -EPIPE;
}

/*
 * One connection; fails the test on silent data loss.  @tracked: with
 * tcpterm options (a random policy), else a socket that never asks.
 */
static void one(const struct tt_topo *t, const struct tt_variant *v, int lsn,
		bool tracked)
{
	struct linger lg = { 1, 0 };
	int policy = rnd(3), s = rnd(S_MAX), len = 1 + rnd(20000);
	int cli = tt_connect(t, v, lsn), srv = tt_accept(t, lsn);
	int drain_ms = 1 + rnd(300), grace_ms = rnd(2) ? 2000 + rnd(3000) : 0;
	long r;

	timeouts(cli);
	timeouts(srv);
	if (!tracked) {
		policy = TCPTERM_POLICY_DEFAULT;
	} else {
		/* The module may be away right now: ENOPROTOOPT is fine. */
		setsockopt(srv, SOL_TCPTERM, TCPTERM_POLICY, &policy,
			   sizeof(policy));
		setsockopt(cli, SOL_TCPTERM, TCPTERM_POLICY, &policy,
			   sizeof(policy));
		setsockopt(srv, SOL_TCPTERM, TCPTERM_DRAIN_TIME_MS, &drain_ms, 4);
		setsockopt(srv, SOL_TCPTERM, TCPTERM_GRACE_MS, &grace_ms, 4);
		setsockopt(cli, SOL_TCPTERM, TCPTERM_GRACE_MS, &grace_ms, 4);
	}

	switch (s) {
	case S_NORMAL:
		tt_send(cli, len);
		shutdown(cli, SHUT_WR);
		r = drain(srv);
		close(srv);
		if (r != len)
			TT_FAIL("normal: sent %d, server read %ld", len, r);
		if (drain(cli) != 0)
			TT_FAIL("normal: no clean EOF at the client");
		close(cli);
		return;
	case S_CLOSE_UNREAD:
		tt_send(cli, len);
		tt_wait_inq(srv, 1);
		close(srv);
		r = drain(cli);
		close(cli);
		/* DRAIN ends with EOF, unless a limit (or the stock code) resets. */
		if (!is_reset(r) && !(policy == TCPTERM_POLICY_DRAIN && r == 0))
			TT_FAIL("close unread: data lost, client read %ld", r);
		return;
	case S_SHUT_RD:
		shutdown(srv, SHUT_RD);
		send(cli, "x", 1, MSG_NOSIGNAL);
		tt_msleep(1);
		r = recv(srv, &(char){ 0 }, 1, MSG_DONTWAIT);
		/*
		 * Delivered or not yet arrived (stock: 1, EOF or EAGAIN), or
		 * reset (half-duplex: ECONNABORTED, or EAGAIN while pending).
		 */
		if (r != 1 && r != 0 &&
		    !(r < 0 && (errno == ECONNABORTED || errno == EAGAIN)))
			TT_FAIL("shut_rd: server recv %ld errno %d", r, errno);
		close(srv);
		close(cli);
		return;
	case S_PEER_RESET:
		setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(cli);
		r = drain(srv);
		if (!is_reset(r))
			TT_FAIL("peer reset: server read %ld", r);
		close(srv);
		return;
	case S_CROSS:
		shutdown(cli, SHUT_WR);
		shutdown(srv, SHUT_WR);
		if (drain(cli) != 0 || drain(srv) != 0)
			TT_FAIL("cross: no clean EOF");
		close(cli);
		close(srv);
		return;
	default: /* S_VANISH: the client goes without a word */
		tt_send(cli, len);
		setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(cli);
		r = drain(srv);
		if (!is_reset(r))
			TT_FAIL("vanish: server saw no reset (%ld)", r);
		close(srv);
		return;
	}
}

static void worker(const struct tt_topo *t, const struct tt_variant *v6,
		   const struct tt_variant *v4)
{
	int lsn4, lsn6, i;

	srandom(getpid());
	lsn4 = tt_listen(t, v4, -1);
	lsn6 = tt_listen(t, v6, -1);
	for (i = 0; i < tt_conns_per_worker; i++)
		one(t, (i & 1) ? v6 : v4, (i & 1) ? lsn6 : lsn4, true);
	close(lsn4);
	close(lsn6);
}

static void reloader(const char *ko)
{
	char cmd[256];
	int i;

	snprintf(cmd, sizeof(cmd), "rmmod tcpterm && insmod %s", ko);
	for (i = 0; i < tt_reloads; i++) {
		tt_msleep(300 + rnd(700));
		if (system(cmd))
			TT_FAIL("reload %d", i);
	}
}

static void wait_children(struct __test_metadata *_metadata, int n)
{
	int status, failed = 0;

	while (n--) {
		if (wait(&status) < 0)
			TT_FAIL("wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	ASSERT_EQ(0, failed);
}

FIXTURE(stress) {
	struct tt_topo t;
};

FIXTURE_SETUP(stress)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(stress)
{
	tt_topo_down();
}

TEST_F_TIMEOUT(stress, reload, 600)
{
	const char *ko = getenv("TCPTERM_KO");
	struct tt_topo t = self->t;
	long long cli_n, srv_n;
	int i, waited;

	if (!ko)
		SKIP(return, "TCPTERM_KO not set");
	if (getenv("TCPTERM_STRESS_CONNS"))
		tt_conns_per_worker = atoi(getenv("TCPTERM_STRESS_CONNS"));
	TT_LOG("%d workers x %d connections, %d module reloads", tt_workers,
	       tt_conns_per_worker, tt_reloads);
	for (i = 0; i < tt_workers; i++)
		if (fork() == 0) {
			alarm(tt_scaled(400));
			worker(&t, &tt_ipv6, &tt_ipv4);
			_exit(0);
		}
	if (fork() == 0) {
		srandom(getpid());
		reloader(ko);
		_exit(0);
	}
	wait_children(_metadata, tt_workers + 1);

	for (waited = 0; waited < 20000; waited += 100) {
		cli_n = tt_stat(t.cli_ns, "TrackedSockets");
		srv_n = tt_stat(t.srv_ns, "TrackedSockets");
		if (!cli_n && !srv_n)
			break;
		tt_msleep(tt_scaled(100));
	}
	TT_LOG("tracked sockets left: client %lld, server %lld", cli_n, srv_n);
	ASSERT_EQ(0, cli_n);
	ASSERT_EQ(0, srv_n);
}

/*
 * The gate (module/gate.c) attaches tcpterm's hooks on shared paths
 * while some socket is tracked and detaches them a second after the
 * last one went.  Here it opens and closes again and again while other
 * connections, never tracked, run through the very functions being
 * patched (their children meet their listener, their resets, every
 * state change): a burst of tracked connections, then a pause longer
 * than the gate lingers, tt_gate_cycles times.  A watcher counts the
 * closings it sees in enabled_functions.
 */
static const int tt_gate_cycles = 8;

/* Until @stop is readable (its writer closed): untracked connections. */
static void untracked_worker(const struct tt_topo *t, int stop)
{
	int lsn4, lsn6, i;
	struct pollfd p = { .fd = stop, .events = POLLIN };

	srandom(getpid());
	lsn4 = tt_listen(t, &tt_ipv4, -1);
	lsn6 = tt_listen(t, &tt_ipv6, -1);
	for (i = 0; !poll(&p, 1, 0); i++)
		one(t, (i & 1) ? &tt_ipv6 : &tt_ipv4, (i & 1) ? lsn6 : lsn4,
		    false);
	close(lsn4);
	close(lsn6);
}

/* Until @stop is readable: how many times the gate closed, at most 255. */
static int gate_watcher(int stop)
{
	struct pollfd p = { .fd = stop, .events = POLLIN };
	bool was = tt_gate_open() > 0, now;
	int closed = 0;

	while (!poll(&p, 1, 20)) {
		now = tt_gate_open() > 0;
		if (was && !now && closed < 255)
			closed++;
		was = now;
	}
	return closed;
}

TEST_F_TIMEOUT(stress, gate_flaps, 600)
{
	struct tt_topo t = self->t;
	int stop[2], i, status, lsn4, lsn6, closed, failed = 0, fd;
	pid_t watcher, workers[2];

	if (tt_gate_open() < 0)
		SKIP(return, "no enabled_functions to watch the gate in");
	if (access("/proc/net/tcpterm", R_OK))
		SKIP(return, "tcpterm is not loaded");
	/* What an earlier case left closes first: count only ours. */
	for (i = 0; i < 100 && tt_gate_open(); i++)
		tt_msleep(tt_scaled(100));
	ASSERT_EQ(0, tt_gate_open());
	ASSERT_EQ(0, pipe(stop));
	watcher = fork();
	ASSERT_LE(0, watcher);
	if (!watcher) {
		close(stop[1]);
		_exit(gate_watcher(stop[0]));
	}
	for (i = 0; i < 2; i++) {
		workers[i] = fork();
		if (workers[i] < 0)
			TT_FAIL("fork");
		if (!workers[i]) {
			close(stop[1]);
			alarm(tt_scaled(400));
			untracked_worker(&t, stop[0]);
			_exit(0);
		}
	}
	close(stop[0]);

	srandom(getpid());
	lsn4 = tt_listen(&t, &tt_ipv4, -1);
	lsn6 = tt_listen(&t, &tt_ipv6, -1);
	for (i = 0; i < tt_gate_cycles; i++) {
		/*
		 * A socket that holds the gate for the whole burst (and
		 * proves the module takes options: one() ignores errors).
		 */
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		tt_set_policy(fd, TCPTERM_POLICY_HALF_DUPLEX);
		one(&t, &tt_ipv4, lsn4, true);
		one(&t, &tt_ipv6, lsn6, true);
		close(fd);
		/* Drains and graces end; then the gate lingers a second. */
		tt_msleep(tt_scaled(300) + 6000);
	}
	close(lsn4);
	close(lsn6);
	close(stop[1]);

	/* Every child reaped before any verdict. */
	for (i = 0; i < 2; i++)
		if (waitpid(workers[i], &status, 0) != workers[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	if (waitpid(watcher, &status, 0) != watcher || !WIFEXITED(status))
		TT_FAIL("gate watcher");
	closed = WEXITSTATUS(status);
	TT_LOG("the gate closed %d times in %d cycles", closed, tt_gate_cycles);
	ASSERT_EQ(0, failed);
	ASSERT_EQ(tt_gate_cycles, closed);
	ASSERT_EQ(0, tt_stat(t.cli_ns, "TrackedSockets"));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "TrackedSockets"));
}

TT_HARNESS_MAIN
