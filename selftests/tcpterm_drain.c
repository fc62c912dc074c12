// SPDX-License-Identifier: GPL-2.0
/*
 * TCPTERM_POLICY_DRAIN and TCPTERM_GRACE_MS on the wire.
 *
 * The pipelining case first shows the problem with the stock close: the
 * server reads one request, answers with a long response, and closes
 * with the next request unread.  The client's small receive window
 * (SO_RCVBUF) and netem's rate limit on the server's link keep most of
 * the response in the server's send queue at that moment, so the stock
 * RST destroys it.  With DRAIN the same exchange must deliver every byte
 * and a clean EOF, without one RST.
 *
 * Then the bounds: a peer that sends forever is reset at the drain
 * limit, a silent peer at the idle limit, a peer that never sends its FIN
 * at the grace deadline; each is flagged forced, in the counters and in
 * the netlink events.  Many draining orphans hold no receive memory, and
 * rmmod hands draining sockets back to the stock code.
 *
 *   netns tt-cli                          netns tt-srv
 *   client (reads, or writes forever) <-- veth, netem on srv egress --
 *                                          server: DRAIN / GRACE_MS
 *
 * Fixtures (kselftest_harness.h), each case named FIXTURE.VARIANT.TEST:
 * net (ipv4, ipv6, mapped) and net46 (ipv4, ipv6), the namespaces; each
 * case opens its own pair.  Every case may take 60 s (times
 * TCPTERM_TIME_SCALE): the limits are real time.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "fixtures.h"

/* Two pipelined requests; the response to the first is tt_resp bytes. */
static const int tt_req = 100;
static const int tt_resp = 1 << 20;

static long long tt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static char tt_resp_byte(long i)
{
	return (char)(i * 31 + i / 4099);
}

static int tt_get_int(struct __test_metadata *_metadata, int fd, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_TCPTERM, opt, &val, &len))
		TT_FAIL("getsockopt SOL_TCPTERM %d", opt);
	ASSERT_EQ(sizeof(int), len);
	return val;
}

/* Wait until counter @name of @ns reads @want; its last value. */
static long long tt_stat_wait(int ns, const char *name, long long want,
			      int timeout_ms)
{
	long long val;
	int waited;

	for (waited = 0; ; waited += 20) {
		val = tt_stat(ns, name);
		if (val == want || waited >= tt_scaled(timeout_ms))
			return val;
		tt_msleep(20);
	}
}

static void tt_expect_forced(struct __test_metadata *_metadata, int evfd,
			     int reason)
{
	struct tt_event ev;

	ASSERT_EQ(0, tt_events_next(evfd, TCPTERM_EV_FORCED, &ev, 2000));
	ASSERT_EQ(reason, ev.reason);
}

/* A connected pair in @t; policy < 0: server untracked. */
static void tt_drain_pair(const struct tt_variant *v, const struct tt_topo *t,
			  struct tt_pair *p, int policy)
{
	tt_pair_open(t, v, p);
	if (policy >= 0)
		tt_set_policy(p->srv, policy);
}

/*
 * The pipelining exchange in topology @t (up, no qdisc yet); policy < 0
 * leaves the server untracked.
 * Returns what the client read in *got and how its last read ended.
 */
static long pipeline(struct __test_metadata *_metadata,
		     const struct tt_variant *v, struct tt_topo *t,
		     int policy, long *got)
{
	int rcvbuf = 16384, sndbuf = 4 << 20;
	static char buf[65536];
	struct tt_pair p;
	long r, i, off;

	tt_netem(t, 1, "rate 20mbit limit 1000");
	tt_pair_open(t, v, &p);
	ASSERT_EQ(0, setsockopt(p.cli, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	ASSERT_EQ(0, setsockopt(p.srv, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
				sizeof(sndbuf)));
	if (policy >= 0)
		tt_set_policy(p.srv, policy);

	tt_send(p.cli, 2 * tt_req);
	tt_wait_inq(p.srv, 2 * tt_req);
	ASSERT_EQ(tt_req, recv(p.srv, buf, tt_req, 0));
	for (off = 0; off < tt_resp; off += sizeof(buf)) {
		for (i = 0; i < (long)sizeof(buf); i++)
			buf[i] = tt_resp_byte(off + i);
		ASSERT_EQ(sizeof(buf), send(p.srv, buf, sizeof(buf), 0));
	}
	close(p.srv);

	*got = 0;
	while ((r = tt_recv(p.cli, buf, sizeof(buf), 5000)) > 0) {
		for (i = 0; i < r; i++)
			if (buf[i] != tt_resp_byte(*got + i))
				TT_FAIL("byte %ld of the response is wrong",
					*got + i);
		*got += r;
	}
	close(p.cli);
	close(p.lsn);
	return r;
}

/* Stock close with a request unread: the response is cut by an RST. */
TEST_F_TIMEOUT(net, pipeline_default, 60)
{
	const struct tt_variant *v = variant->net;
	long long rsts;
	struct tt_topo t = self->t;
	long got, r;

	rsts = tt_snmp(t.srv_ns, "Tcp", "OutRsts");
	r = pipeline(_metadata, v, &t, -1, &got);
	TT_LOG("client read %ld of %d bytes, then %ld", got, tt_resp, r);
	ASSERT_EQ(-ECONNRESET, r);
	ASSERT_TRUE(got < tt_resp);
	ASSERT_LE(rsts + 1, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
}

/* DRAIN: every byte, a clean EOF, no RST from either side. */
TEST_F_TIMEOUT(net, pipeline_drain, 60)
{
	const struct tt_variant *v = variant->net;
	long long srv_rsts, cli_rsts;
	struct tt_topo t = self->t;
	long got, r;

	srv_rsts = tt_snmp(t.srv_ns, "Tcp", "OutRsts");
	cli_rsts = tt_snmp(t.cli_ns, "Tcp", "OutRsts");
	r = pipeline(_metadata, v, &t, TCPTERM_POLICY_DRAIN, &got);
	ASSERT_EQ(0, r);
	ASSERT_EQ(tt_resp, got);
	ASSERT_EQ(1, tt_stat(t.srv_ns, "Drains"));
	ASSERT_EQ(tt_req, tt_stat(t.srv_ns, "BytesDiscarded"));
	/* The client's FIN ends the drain: its deadline goes at once. */
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "Deadlines", 0, 2000));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "DrainsForced"));
	ASSERT_EQ(srv_rsts, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	ASSERT_EQ(cli_rsts, tt_snmp(t.cli_ns, "Tcp", "OutRsts"));
}

/* What a writer child saw: bytes sent, its errno, when it failed. */
struct tt_writer {
	long long sent;
	long long fail_ms;
	int err;
};

/*
 * Fork a child that writes to @fd until the connection fails, as fast as
 * it can or (@pace_ms > 0) 4 KiB every @pace_ms.  It keeps no other
 * descriptor: a server socket shared with it would not be closed by the
 * parent's close().
 */
static pid_t tt_writer_start(int fd, struct tt_writer *w, int pace_ms)
{
	static char buf[65536];
	size_t chunk = pace_ms ? 4096 : sizeof(buf);
	pid_t pid = fork();
	ssize_t n;
	int i;

	if (pid)
		return pid;
	for (i = 3; i < 1024; i++)
		if (i != fd)
			close(i);
	alarm(tt_scaled(30000) / 1000);
	memset(buf, 'w', sizeof(buf));
	while ((n = send(fd, buf, chunk, MSG_NOSIGNAL)) > 0) {
		__atomic_add_fetch(&w->sent, n, __ATOMIC_RELAXED);
		if (pace_ms)
			tt_msleep(pace_ms);
	}
	w->err = errno;
	w->fail_ms = tt_now_ms();
	_exit(0);
}

static struct tt_writer *tt_writers_map(int n)
{
	void *m = mmap(NULL, n * sizeof(struct tt_writer),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);

	if (m == MAP_FAILED)
		TT_FAIL("mmap");
	memset(m, 0, n * sizeof(struct tt_writer));
	return m;
}

static void tt_writer_wait(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* A peer that writes forever is reset at TCPTERM_DRAIN_TIME_MS. */
TEST_F_TIMEOUT(net, drain_time, 60)
{
	const struct tt_variant *v = variant->net;
	int limit = tt_scaled(800), rcvbuf, evfd;
	socklen_t len = sizeof(rcvbuf);
	struct tt_writer *w = tt_writers_map(1);
	struct tt_topo t = self->t;
	long long t0, rsts;
	struct tt_event ev;
	struct tt_pair p;
	uint64_t cookie;
	pid_t pid;

	tt_drain_pair(v, &t, &p, TCPTERM_POLICY_DRAIN);
	tt_set_int(p.srv, TCPTERM_DRAIN_TIME_MS, limit);
	ASSERT_EQ(0, getsockopt(p.srv, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len));
	evfd = tt_events_open(t.srv_ns);
	rsts = tt_snmp(t.srv_ns, "Tcp", "OutRsts");

	pid = tt_writer_start(p.cli, w, 0);
	tt_wait_inq(p.srv, 1);
	cookie = tt_sock_cookie(p.srv);
	t0 = tt_now_ms();
	close(p.srv);
	/* The drain's start is an event: the socket closed with input. */
	ASSERT_EQ(0, tt_events_next(evfd, TCPTERM_EV_DRAIN, &ev, 2000));
	ASSERT_EQ(cookie, ev.cookie);
	ASSERT_EQ(TCP_ESTABLISHED, ev.state);	/* before close() moved it */
	tt_writer_wait(_metadata, pid);

	TT_LOG("writer sent %lld bytes, failed after %lld ms: %s", w->sent,
	       w->fail_ms - t0, strerror(w->err));
	ASSERT_TRUE(w->err == ECONNRESET || w->err == EPIPE);
	ASSERT_LE(limit, w->fail_ms - t0);
	/* Acknowledged and thrown away: far more than the buffer holds. */
	ASSERT_LE(4LL * rcvbuf, tt_stat(t.srv_ns, "BytesDiscarded"));
	ASSERT_EQ(1, tt_stat(t.srv_ns, "DrainsForced"));
	ASSERT_LE(rsts + 1, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	tt_expect_forced(_metadata, evfd, TCPTERM_RST_DRAIN_TIME);
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "Deadlines", 0, 2000));
	/* The orphan is gone: its destructor ran. */
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "TrackedSockets", 0, 2000));
}

/*
 * The client reads our FIN, then is reset in CLOSE_WAIT.  Returns when
 * the reset arrived, in ms after @t0.
 */
static long long tt_expect_reset(struct __test_metadata *_metadata, int cli,
				 long long t0)
{
	char c;

	ASSERT_EQ(0, tt_recv(cli, &c, 1, 2000));
	tt_expect_reset_in_close_wait(cli, 10000);
	return tt_now_ms() - t0;
}

/*
 * A peer whose input is being drained and that goes silent is reset at
 * TCPTERM_DRAIN_IDLE_MS (it has all we sent, our FIN included).
 */
TEST_F_TIMEOUT(net46, drain_idle, 60)
{
	const struct tt_variant *v = variant->net;
	int idle = tt_scaled(500), evfd;
	long long t0, rsts;
	struct tt_topo t = self->t;
	struct tt_pair p;

	tt_drain_pair(v, &t, &p, TCPTERM_POLICY_DRAIN);
	tt_set_int(p.srv, TCPTERM_DRAIN_IDLE_MS, idle);
	evfd = tt_events_open(t.srv_ns);
	rsts = tt_snmp(t.srv_ns, "Tcp", "OutRsts");
	tt_send(p.cli, tt_req);
	tt_wait_inq(p.srv, tt_req);

	t0 = tt_now_ms();
	close(p.srv);
	ASSERT_LE(idle, tt_expect_reset(_metadata, p.cli, t0));
	ASSERT_EQ(rsts + 1, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	ASSERT_EQ(1, tt_stat(t.srv_ns, "DrainsForced"));
	tt_expect_forced(_metadata, evfd, TCPTERM_RST_DRAIN_IDLE);
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "TrackedSockets", 0, 2000));
}

/* SO_LINGER {1, 0} asks for an RST: DRAIN does not override it. */
TEST_F_TIMEOUT(net46, drain_linger0, 60)
{
	const struct tt_variant *v = variant->net;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct tt_topo t = self->t;
	struct tt_pair p;
	char c;

	tt_drain_pair(v, &t, &p, TCPTERM_POLICY_DRAIN);
	ASSERT_EQ(0, setsockopt(p.srv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(p.srv);
	ASSERT_EQ(-ECONNRESET, tt_recv(p.cli, &c, 1, 2000));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "Drains"));
}

/* An orphan whose peer never sends FIN is reset at TCPTERM_GRACE_MS. */
TEST_F_TIMEOUT(net, grace_orphan, 60)
{
	const struct tt_variant *v = variant->net;
	int grace = tt_scaled(500), evfd;
	struct tt_pair p, stock;
	long long t0;
	struct tt_topo t = self->t;

	tt_drain_pair(v, &t, &p, -1);
	tt_pair_open(&t, v, &stock);
	tt_set_int(p.srv, TCPTERM_GRACE_MS, grace);
	evfd = tt_events_open(t.srv_ns);

	t0 = tt_now_ms();
	close(p.srv);
	close(stock.srv);
	ASSERT_LE(grace, tt_expect_reset(_metadata, p.cli, t0));
	ASSERT_EQ(1, tt_stat(t.srv_ns, "GraceForced"));
	tt_expect_forced(_metadata, evfd, TCPTERM_RST_GRACE);
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "TrackedSockets", 0, 2000));
	/* Without the option the half-closed connection just stays. */
	ASSERT_EQ(TCP_CLOSE_WAIT, tt_tcp_state(stock.cli));
}

/* SHUT_WR, fd kept: the owner reads ETIMEDOUT and sees it in INFO. */
TEST_F_TIMEOUT(net46, grace_shutdown, 60)
{
	const struct tt_variant *v = variant->net;
	struct tcpterm_info info;
	struct tt_topo t = self->t;
	struct tt_pair p;
	long long t0;
	char c;

	tt_drain_pair(v, &t, &p, -1);
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	t0 = tt_now_ms();
	/* Set after the FIN went: the deadline still counts from it. */
	tt_set_int(p.srv, TCPTERM_GRACE_MS, tt_scaled(500));
	ASSERT_EQ(-ETIMEDOUT, tt_recv(p.srv, &c, 1, 5000));
	ASSERT_LE(tt_scaled(500) - 20, tt_now_ms() - t0);
	tt_expect_reset(_metadata, p.cli, t0);

	tt_get_info(p.srv, &info);
	ASSERT_EQ(TCPTERM_F_TRACKED | TCPTERM_F_FORCED | TCPTERM_F_RST_SENT,
		  info.tti_flags);
	ASSERT_EQ(TCPTERM_RST_GRACE, info.tti_rst_reason);
	ASSERT_EQ(TCPTERM_PEER_OPEN, info.tti_peer_end);
	ASSERT_TRUE(info.tti_rst_time_ns != 0);
}

/* A peer that finishes in time: no RST, nothing forced, nothing left. */
TEST_F_TIMEOUT(net46, grace_clean, 60)
{
	const struct tt_variant *v = variant->net;
	long long srv_rsts, cli_rsts;
	struct tt_topo t = self->t;
	struct tt_pair p;
	char c;

	tt_drain_pair(v, &t, &p, TCPTERM_POLICY_DRAIN);
	tt_set_int(p.srv, TCPTERM_GRACE_MS, tt_scaled(1000));
	srv_rsts = tt_snmp(t.srv_ns, "Tcp", "OutRsts");
	cli_rsts = tt_snmp(t.cli_ns, "Tcp", "OutRsts");
	close(p.srv);
	ASSERT_EQ(0, tt_recv(p.cli, &c, 1, 2000));
	close(p.cli);
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "Deadlines", 0, 2000));
	tt_msleep(tt_scaled(1200));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "GraceForced"));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "DrainsForced"));
	ASSERT_EQ(srv_rsts, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	ASSERT_EQ(cli_rsts, tt_snmp(t.cli_ns, "Tcp", "OutRsts"));
}

/*
 * A download: the client asks @nreq requests, the server reads one,
 * answers tt_resp bytes over a slow link and closes at once; the client
 * reads everything (slowly: a small receive buffer), optionally while a
 * writer child keeps sending.  Returns how the client's last read ended.
 */
struct tt_dl {
	int policy;		/* < 0: none */
	int limit_ms;		/* DRAIN_TIME and DRAIN_IDLE, 0: default */
	int grace_ms;
	int nreq;
	const char *rate;	/* netem on the server's egress */
	bool writer;		/* the client writes until it fails */
	long got;
	long long srv_rsts, cli_rsts;
};

static long tt_download(struct __test_metadata *_metadata,
			const struct tt_variant *v, struct tt_topo *t,
			struct tt_dl *dl)
{
	int rcvbuf = 16384, sndbuf = 4 << 20;
	struct tt_writer *w = tt_writers_map(1);
	static char buf[65536];
	struct tt_pair p;
	pid_t pid = 0;
	long r, i, off;
	char rate[64];

	snprintf(rate, sizeof(rate), "rate %s limit 1000", dl->rate);
	tt_netem(t, 1, rate);
	tt_pair_open(t, v, &p);
	ASSERT_EQ(0, setsockopt(p.cli, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	ASSERT_EQ(0, setsockopt(p.srv, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
				sizeof(sndbuf)));
	if (dl->policy >= 0)
		tt_set_policy(p.srv, dl->policy);
	if (dl->limit_ms) {
		tt_set_int(p.srv, TCPTERM_DRAIN_TIME_MS, dl->limit_ms);
		tt_set_int(p.srv, TCPTERM_DRAIN_IDLE_MS, dl->limit_ms);
	}
	if (dl->grace_ms)
		tt_set_int(p.srv, TCPTERM_GRACE_MS, dl->grace_ms);
	dl->srv_rsts = tt_snmp(t->srv_ns, "Tcp", "OutRsts");
	dl->cli_rsts = tt_snmp(t->cli_ns, "Tcp", "OutRsts");

	tt_send(p.cli, dl->nreq * tt_req);
	tt_wait_inq(p.srv, dl->nreq * tt_req);
	ASSERT_EQ(tt_req, recv(p.srv, buf, tt_req, 0));
	for (off = 0; off < tt_resp; off += sizeof(buf)) {
		for (i = 0; i < (long)sizeof(buf); i++)
			buf[i] = tt_resp_byte(off + i);
		ASSERT_EQ(sizeof(buf), send(p.srv, buf, sizeof(buf), 0));
	}
	if (dl->writer)
		pid = tt_writer_start(p.cli, w, 2);
	close(p.srv);

	dl->got = 0;
	while ((r = tt_recv(p.cli, buf, sizeof(buf), 5000)) > 0) {
		for (i = 0; i < r; i++)
			if (buf[i] != tt_resp_byte(dl->got + i))
				TT_FAIL("byte %ld of the response is wrong",
					dl->got + i);
		dl->got += r;
	}
	TT_LOG("client read %ld of %d bytes, then %ld", dl->got, tt_resp, r);
	/* A writer runs until the server resets (or its alarm). */
	if (pid)
		tt_writer_wait(_metadata, pid);
	close(p.cli);
	close(p.lsn);
	return r;
}

/*
 * DRAIN with nothing unread at close: the connection is stock.  A slow
 * download that outlasts both drain limits gets every byte and a FIN,
 * and nobody sends an RST.
 */
TEST_F_TIMEOUT(net, drain_nothing_unread, 60)
{
	const struct tt_variant *v = variant->net;
	struct tt_dl dl = { .policy = TCPTERM_POLICY_DRAIN, .nreq = 1,
			    .limit_ms = tt_scaled(300), .rate = "4mbit" };
	struct tt_topo t = self->t;
	long r;

	r = tt_download(_metadata, v, &t, &dl);
	ASSERT_EQ(0, r);
	ASSERT_EQ(tt_resp, dl.got);
	ASSERT_EQ(0, tt_stat(t.srv_ns, "Drains"));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "DrainsForced"));
	ASSERT_EQ(dl.srv_rsts, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	ASSERT_EQ(dl.cli_rsts, tt_snmp(t.cli_ns, "Tcp", "OutRsts"));
}

/*
 * DRAIN, nothing unread, a peer that acknowledges our FIN and stays quiet
 * past both limits: stock stays silent in FIN_WAIT2, and so do we; the
 * peer's close much later ends the connection with FINs.
 */
TEST_F_TIMEOUT(net46, drain_quiet_fin_wait2, 60)
{
	const struct tt_variant *v = variant->net;
	int limit = tt_scaled(300);
	long long srv_rsts, cli_rsts;
	struct tt_topo t = self->t;
	struct tt_pair p;
	char c;

	tt_drain_pair(v, &t, &p, TCPTERM_POLICY_DRAIN);
	tt_set_int(p.srv, TCPTERM_DRAIN_TIME_MS, limit);
	tt_set_int(p.srv, TCPTERM_DRAIN_IDLE_MS, limit);
	srv_rsts = tt_snmp(t.srv_ns, "Tcp", "OutRsts");
	cli_rsts = tt_snmp(t.cli_ns, "Tcp", "OutRsts");
	close(p.srv);
	ASSERT_EQ(0, tt_recv(p.cli, &c, 1, 2000));
	tt_msleep(3 * limit);
	ASSERT_EQ(TCP_CLOSE_WAIT, tt_tcp_state(p.cli));
	ASSERT_EQ(0, tt_so_error(p.cli));
	close(p.cli);
	tt_msleep(tt_scaled(200));
	ASSERT_EQ(srv_rsts, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	ASSERT_EQ(cli_rsts, tt_snmp(t.cli_ns, "Tcp", "OutRsts"));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "DrainsForced"));
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "TrackedSockets", 0, 2000));
}

/*
 * DRAIN, a request unread and a peer that sends for ever while it still
 * downloads a response that outlasts the drain limit: the reset waits
 * until the peer has everything we sent, then comes (forced).
 */
TEST_F_TIMEOUT(net46, drain_busy_peer_acking, 60)
{
	const struct tt_variant *v = variant->net;
	struct tt_dl dl = { .policy = TCPTERM_POLICY_DRAIN, .nreq = 2,
			    .limit_ms = tt_scaled(300), .rate = "4mbit",
			    .writer = true };
	struct tt_topo t = self->t;
	long r;

	r = tt_download(_metadata, v, &t, &dl);
	ASSERT_TRUE(r == 0 || r == -ECONNRESET);
	ASSERT_EQ(tt_resp, dl.got);
	ASSERT_EQ(1, tt_stat(t.srv_ns, "Drains"));
	ASSERT_EQ(1, tt_stat_wait(t.srv_ns, "DrainsForced", 1, 5000));
}

/*
 * GRACE_MS shorter than a slow download: the reader keeps acknowledging,
 * so it is never cut; it gets every byte and the FIN.
 */
TEST_F_TIMEOUT(net46, grace_slow_reader, 60)
{
	const struct tt_variant *v = variant->net;
	struct tt_dl dl = { .policy = -1, .nreq = 1, .rate = "4mbit",
			    .grace_ms = tt_scaled(300) };
	struct tt_topo t = self->t;
	long r;

	r = tt_download(_metadata, v, &t, &dl);
	ASSERT_EQ(0, r);
	ASSERT_EQ(tt_resp, dl.got);
}

/*
 * GRACE_MS and a reader that stops reading (zero window): reset once it
 * made no progress for GRACE_MS (progress is sampled every GRACE_MS/4).
 */
TEST_F_TIMEOUT(net46, grace_stalled_reader, 60)
{
	const struct tt_variant *v = variant->net;
	int grace = tt_scaled(500), rcvbuf = 16384, sndbuf = 4 << 20, evfd;
	static char buf[65536];
	struct tt_topo t = self->t;
	struct tt_pair p;
	long long t0;
	int i;

	tt_drain_pair(v, &t, &p, -1);
	ASSERT_EQ(0, setsockopt(p.cli, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	/* All of it must fit in the send queue: the reader never reads. */
	ASSERT_EQ(0, setsockopt(p.srv, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
				sizeof(sndbuf)));
	tt_set_int(p.srv, TCPTERM_GRACE_MS, grace);
	evfd = tt_events_open(t.srv_ns);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(sizeof(buf), send(p.srv, buf, sizeof(buf), 0));
	t0 = tt_now_ms();
	close(p.srv);
	ASSERT_EQ(TCP_CLOSE, tt_wait_closed(p.cli, 10000));
	TT_LOG("stalled reader reset %lld ms after close", tt_now_ms() - t0);
	ASSERT_LE(grace, tt_now_ms() - t0);
	ASSERT_TRUE(tt_now_ms() - t0 <= 2 * grace);
	ASSERT_EQ(1, tt_stat(t.srv_ns, "GraceForced"));
	tt_expect_forced(_metadata, evfd, TCPTERM_RST_GRACE);
}

static int tt_linger2(struct __test_metadata *_metadata, int fd)
{
	socklen_t len = sizeof(int);
	int val = -1;

	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &val, &len));
	return val;
}

/*
 * The application's TCP_LINGER2 is its own: a pending deadline neither
 * changes it nor, once over, overwrites a value set meanwhile.
 */
TEST_F_TIMEOUT(net46, linger2_kept, 60)
{
	const struct tt_variant *v = variant->net;
	int seven = 7, nine = 9;
	struct tt_topo t = self->t;
	struct tt_pair p;
	char c;

	tt_drain_pair(v, &t, &p, TCPTERM_POLICY_DRAIN);
	tt_set_int(p.srv, TCPTERM_GRACE_MS, tt_scaled(400));
	ASSERT_EQ(0, setsockopt(p.srv, IPPROTO_TCP, TCP_LINGER2, &seven,
				sizeof(seven)));
	ASSERT_EQ(0, shutdown(p.srv, SHUT_WR));
	ASSERT_EQ(1, tt_stat_wait(t.srv_ns, "Deadlines", 1, 2000));
	ASSERT_EQ(7, tt_linger2(_metadata, p.srv));
	ASSERT_EQ(0, setsockopt(p.srv, IPPROTO_TCP, TCP_LINGER2, &nine,
				sizeof(nine)));
	ASSERT_EQ(-ETIMEDOUT, tt_recv(p.srv, &c, 1, 5000));
	ASSERT_EQ(0, tt_stat_wait(t.srv_ns, "Deadlines", 0, 2000));
	ASSERT_EQ(9, tt_linger2(_metadata, p.srv));
}

enum { tt_many = 32 };

/*
 * Many orphans draining writers at once hold (almost) no receive memory:
 * before close() each server socket holds a full receive buffer of
 * unread input, while draining nothing is ever queued.
 */
TEST_F_TIMEOUT(net46, drain_many, 60)
{
	const struct tt_variant *v = variant->net;
	struct tt_writer *w = tt_writers_map(tt_many);
	long long before, during, discarded;
	struct tt_pair p[tt_many];
	pid_t pid[tt_many];
	struct tt_topo t = self->t;
	int i, n;

	for (i = 0; i < tt_many; i++) {
		tt_pair_open(&t, v, &p[i]);
		tt_set_policy(p[i].srv, TCPTERM_POLICY_DRAIN);
		/* Not a test of the limits: a slow kernel must not reach them. */
		tt_set_int(p[i].srv, TCPTERM_DRAIN_TIME_MS, 600000);
		tt_set_int(p[i].srv, TCPTERM_DRAIN_IDLE_MS, 600000);
		pid[i] = tt_writer_start(p[i].cli, &w[i], 1);
	}
	for (i = 0; i < tt_many; i++)
		tt_wait_inq(p[i].srv, 16384);
	before = tt_rmem(t.srv_ns, v->family, &n);
	TT_LOG("%d server sockets hold %lld bytes before close", n, before);

	for (i = 0; i < tt_many; i++)
		close(p[i].srv);
	ASSERT_EQ(tt_many, tt_stat(t.srv_ns, "Deadlines"));
	discarded = tt_stat(t.srv_ns, "BytesDiscarded");
	for (i = 0; i < tt_scaled(10000) / 20; i++) {
		if (tt_stat(t.srv_ns, "BytesDiscarded") >= discarded + 2 * before)
			break;
		tt_msleep(20);
	}
	ASSERT_LE(discarded + 2 * before, tt_stat(t.srv_ns, "BytesDiscarded"));
	during = tt_rmem(t.srv_ns, v->family, &n);
	TT_LOG("%d draining sockets hold %lld bytes", n, during);
	ASSERT_EQ(tt_many, n);
	ASSERT_TRUE(during * 8 < before);

	for (i = 0; i < tt_many; i++)
		ASSERT_EQ(0, shutdown(p[i].cli, SHUT_RDWR));
	for (i = 0; i < tt_many; i++)
		tt_writer_wait(_metadata, pid[i]);
	if (tt_stat_wait(t.srv_ns, "Deadlines", 0, 5000)) {
		TT_LOG("forced %lld, tracked %lld, abort-on-data %lld, resets out %lld",
		       tt_stat(t.srv_ns, "DrainsForced"),
		       tt_stat(t.srv_ns, "TrackedSockets"),
		       tt_snmp(t.srv_ns, "TcpExt", "TCPAbortOnData"),
		       tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
		tt_dump(&t);
	}
	ASSERT_EQ(0, tt_stat(t.srv_ns, "Deadlines"));
	ASSERT_EQ(0, tt_stat(t.srv_ns, "DrainsForced"));
}

/*
 * rmmod while orphans drain: the module waits for nothing, hands the
 * sockets back, and the stock code resets them at the next data.
 */
TEST_F_TIMEOUT(net46, unload_draining, 60)
{
	const struct tt_variant *v = variant->net;
	struct tt_writer *w = tt_writers_map(4);
	const char *ko = getenv("TCPTERM_KO");
	struct tt_pair p[4];
	struct tt_topo t = self->t;
	char cmd[256];
	pid_t pid[4];
	int i;

	if (!ko)
		SKIP(return, "TCPTERM_KO not set");
	for (i = 0; i < 4; i++) {
		tt_pair_open(&t, v, &p[i]);
		tt_set_policy(p[i].srv, TCPTERM_POLICY_DRAIN);
		tt_set_int(p[i].srv, TCPTERM_GRACE_MS, 60000);
		pid[i] = tt_writer_start(p[i].cli, &w[i], 5);
		tt_wait_inq(p[i].srv, 1);
		close(p[i].srv);
	}
	ASSERT_EQ(4, tt_stat(t.srv_ns, "Deadlines"));
	tt_msleep(tt_scaled(200));
	ASSERT_EQ(0, system("rmmod tcpterm"));
	for (i = 0; i < 4; i++) {
		tt_writer_wait(_metadata, pid[i]);
		ASSERT_TRUE(w[i].err == ECONNRESET || w[i].err == EPIPE);
	}
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	ASSERT_EQ(0, system(cmd));
}

/* The millisecond options: defaults, bounds, inheritance. */
TEST_F_TIMEOUT(net46, drain_options, 60)
{
	const struct tt_variant *v = variant->net;
	int fd = socket(v->family, SOCK_STREAM, 0), val;
	struct tt_topo t = self->t;
	int lsn, cli, srv;

	ASSERT_EQ(TCPTERM_DRAIN_TIME_DEFAULT_MS,
		  tt_get_int(_metadata, fd, TCPTERM_DRAIN_TIME_MS));
	ASSERT_EQ(TCPTERM_DRAIN_IDLE_DEFAULT_MS,
		  tt_get_int(_metadata, fd, TCPTERM_DRAIN_IDLE_MS));
	ASSERT_EQ(0, tt_get_int(_metadata, fd, TCPTERM_GRACE_MS));

	val = 0;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_DRAIN_TIME_MS,
					&val, 4));
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_DRAIN_IDLE_MS,
					&val, 4));
	val = -1;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_GRACE_MS,
					&val, 4));
	val = TCPTERM_MS_MAX + 1;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_GRACE_MS,
					&val, 4));
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_DRAIN_TIME_MS,
					&val, 2));
	val = 3;
	ASSERT_ERRNO(EINVAL, setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY,
					&val, 4));
	ASSERT_EQ(0, tt_get_int(_metadata, fd, TCPTERM_GRACE_MS));
	tt_set_int(fd, TCPTERM_GRACE_MS, TCPTERM_MS_MAX);
	ASSERT_EQ(TCPTERM_MS_MAX, tt_get_int(_metadata, fd, TCPTERM_GRACE_MS));
	close(fd);

	lsn = tt_listen(&t, v, TCPTERM_POLICY_DRAIN);
	tt_set_int(lsn, TCPTERM_DRAIN_TIME_MS, 1234);
	tt_set_int(lsn, TCPTERM_DRAIN_IDLE_MS, 567);
	tt_set_int(lsn, TCPTERM_GRACE_MS, 890);
	cli = tt_connect(&t, v, lsn);
	srv = tt_accept(&t, lsn);
	ASSERT_EQ(TCPTERM_POLICY_DRAIN, tt_get_int(_metadata, srv, TCPTERM_POLICY));
	ASSERT_EQ(1234, tt_get_int(_metadata, srv, TCPTERM_DRAIN_TIME_MS));
	ASSERT_EQ(567, tt_get_int(_metadata, srv, TCPTERM_DRAIN_IDLE_MS));
	ASSERT_EQ(890, tt_get_int(_metadata, srv, TCPTERM_GRACE_MS));
	close(cli);
	close(srv);
}

TT_HARNESS_MAIN
