// SPDX-License-Identifier: GPL-2.0
/*
 * What tcpterm costs, in one boot.  A benchmark, not a test: it reports
 * numbers and asserts nothing about time.
 *
 *   tcpterm_bench            the benchmark; the table ends the output
 *   tcpterm_bench zerocost   the workload of tcpterm_zerocost.sh, its
 *                            phases written to the trace_marker; with
 *                            SNAP_SRC SNAP_DST, a copy of SNAP_SRC made
 *                            while its one policied socket is open
 *
 * Configurations, run in rounds whose order rotates by one each round so
 * that drift in the (emulated) machine spreads over all of them:
 *
 *   unloaded     no tcpterm at all
 *   loaded       tcpterm loaded, no socket has a policy
 *   half_duplex  every socket has TCPTERM_POLICY_HALF_DUPLEX
 *   drain        every socket has TCPTERM_POLICY_DRAIN
 *   notice_other no socket measured has anything, but another namespace
 *                uses closing notices (net.tcpterm.notice=1): what
 *                notices cost the sockets that do not use them
 *   notice       both namespaces give notices (net.tcpterm.notice=1):
 *                every connection agrees on them in its handshake
 *
 * Workloads, each over the veth pair between two namespaces (lib.h),
 * both ends driven by one thread so that a measurement is the stack's
 * own work, without scheduler wakeups:
 *
 *   churn  connect, accept, 64 bytes each way, close both: connections/s
 *   rr     64-byte request, 64-byte response on one connection:
 *          transactions/s, p50 and p99 latency of a transaction
 *   bulk   one connection, 64 KiB writes, reads as data arrives: MB/s
 *
 * Then memory, module loaded, for each socket count: per established
 * connection (both ends, no policy), per policied socket (what setting
 * TCPTERM_POLICY_DRAIN on the server end adds) and per draining socket
 * (what a DRAIN socket, kept by tcpterm after close() with input unread,
 * holds, where the stock close resets and frees the socket), from
 * /proc/slabinfo (the objects in use) and from MemTotal - MemFree (not
 * for the draining socket: frees leave slab pages partly used, invisible
 * to MemFree).
 *
 * Times are the guest's CLOCK_MONOTONIC.  make bench runs the guest
 * under TCG with -icount (scripts/vm.sh), where that clock counts the
 * instructions executed: the host's load does not enter the numbers.
 *
 * Environment: TCPTERM_KO (the module), TCPTERM_BENCH_ROUNDS (10),
 * TCPTERM_BENCH_SECONDS (per workload and run, 2), TCPTERM_BENCH_MEM_SOCKETS
 * ("10000 100000"; "none": no memory part), TCPTERM_BENCH_SMOKE=1 (2
 * rounds of 0.1 s, 100 and 300 sockets: checks that the table is whole,
 * measures nothing).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include "lib.h"

enum { UNLOADED, LOADED, HALF_DUPLEX, DRAIN, NOTICE_OTHER, NOTICE, NCONF };

static const char * const conf_names[NCONF] = {
	"unloaded", "loaded", "half_duplex", "drain", "notice_other", "notice",
};

static const int conf_policy[NCONF] = {
	-1, -1, TCPTERM_POLICY_HALF_DUPLEX, TCPTERM_POLICY_DRAIN, -1, -1,
};

/* The namespace that uses notices in notice_other. */
static const char bench_other_ns[] = "tt-bench-other";

/*
 * Notices on (@on) or off for configuration @c: in both namespaces of
 * the measured sockets (notice), or in a third one (notice_other).
 */
static void notice_set(const struct tt_topo *t, int c, bool on)
{
	const char *v = on ? "1" : "0";
	char cmd[256];

	if (c == NOTICE) {
		tt_sysctl(t->cli_ns, "/proc/sys/net/tcpterm/notice", v);
		tt_sysctl(t->srv_ns, "/proc/sys/net/tcpterm/notice", v);
	} else if (c == NOTICE_OTHER) {
		snprintf(cmd, sizeof(cmd),
			 "/sbin/ip netns list | grep -qw %s || /sbin/ip netns add %s; "
			 "/sbin/ip netns exec %s sh -c 'echo %s >/proc/sys/net/tcpterm/notice'",
			 bench_other_ns, bench_other_ns, bench_other_ns, v);
		if (system(cmd))
			TT_FAIL("net.tcpterm.notice=%s in %s", v, bench_other_ns);
	}
}

enum { M_CHURN, M_RR, M_P50, M_P99, M_BULK, NMETRIC };

static const char * const metric_names[NMETRIC] = {
	"churn_conn_per_s", "rr_trans_per_s", "rr_p50_us", "rr_p99_us",
	"bulk_MB_per_s",
};

static const struct tt_variant bench_v4 = {
	"ipv4", AF_INET, "10.77.0.2", "0.0.0.0"
};

static const struct tt_variant bench_v6 = {
	"ipv6", AF_INET6, "fd77::2", "::"
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BENCH_MSG	64
#define BENCH_CHUNK	65536
#define BENCH_MAX_SIZES	4
#define BENCH_BOOT	2000
#define BENCH_MAX_ROUNDS 1000

static int rounds = 10;
static double seconds = 2.0;
static long mem_sizes[BENCH_MAX_SIZES];
static int nmem_sizes;
static bool smoke;

static double *samples[NMETRIC][NCONF];	/* [round] */
static double *lat;			/* rr latencies of one run, us */
static long lat_cap;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		TT_FAIL("write %s to %s", val, path);
	close(fd);
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		TT_FAIL("open %s", path);
	r = read(fd, buf, len - 1);
	if (r < 0)
		TT_FAIL("read %s", path);
	buf[r] = 0;
	close(fd);
}

/*
 * Global sysctls the memory part raises, restored at exit.  The backlog:
 * 100,000 sockets closing at once must not overflow the queue between
 * the veths, or their retransmission timers keep a single CPU in softirq
 * until the RCU stall detector fires.
 */
static const char * const saved_paths[] = {
	"/proc/sys/fs/file-max",
	"/proc/sys/net/ipv4/tcp_max_orphans",
	"/proc/sys/net/ipv4/tcp_mem",
	"/proc/sys/net/core/netdev_max_backlog",
};

static char saved_vals[ARRAY_SIZE(saved_paths)][128];
static int init_ns = -1;

static void sysctl_restore(void)
{
	int i;

	tt_enter(init_ns);	/* they exist in the initial namespace only */
	for (i = 0; i < (int)ARRAY_SIZE(saved_paths); i++)
		if (saved_vals[i][0])
			write_file(saved_paths[i], saved_vals[i]);
}

/* Enough of everything for the largest socket count (init namespace). */
static void sysctl_raise(long socks)
{
	struct rlimit rl = { 2 * socks + 1024, 2 * socks + 1024 };
	static const char * const vals[] = {
		"4000000", "1000000", "100000000 100000000 100000000",
		"1000000",
	};
	int i;

	init_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (init_ns < 0)
		TT_FAIL("open /proc/self/ns/net");
	for (i = 0; i < (int)ARRAY_SIZE(saved_paths); i++) {
		read_file(saved_paths[i], saved_vals[i], sizeof(saved_vals[i]));
		write_file(saved_paths[i], vals[i]);
	}
	atexit(sysctl_restore);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		TT_FAIL("RLIMIT_NOFILE %ld", (long)rl.rlim_max);
}

/*
 * Per-namespace settings of a topology made for the benchmark.  The
 * memory part (@mem) keeps no TIME_WAIT sockets, and replaces fq_codel
 * on the veths by a long FIFO: when 100,000 sockets close, softirq work
 * backs up on one CPU, CoDel drops FINs for their queueing delay, and
 * the peers retransmit in a storm until some give up, leaving their
 * draining sockets waiting for a FIN that never comes.
 */
static void topo_tune(const struct tt_topo *t, bool mem)
{
	char cmd[256];
	int i;

	tt_enter(t->cli_ns);
	write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
	write_file("/proc/sys/net/ipv4/tcp_tw_reuse", "1");
	if (!mem)
		return;
	write_file("/proc/sys/net/ipv4/tcp_max_tw_buckets", "0");
	tt_enter(t->srv_ns);
	write_file("/proc/sys/net/ipv4/tcp_max_tw_buckets", "0");
	for (i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "/sbin/tc -n %s qdisc replace dev veth%d root pfifo limit 1000000",
			 i ? t->srv : t->cli, i);
		if (system(cmd))
			TT_FAIL("%s", cmd);
	}
}

static bool module_loaded(void)
{
	char buf[65536];

	read_file("/proc/modules", buf, sizeof(buf));
	return !strncmp(buf, "tcpterm ", 8) || strstr(buf, "\ntcpterm ");
}

static void module_set(bool load)
{
	char cmd[512];
	int i;

	if (load == module_loaded())
		return;
	snprintf(cmd, sizeof(cmd), load ? "insmod %s" : "rmmod tcpterm",
		 getenv("TCPTERM_KO"));
	/* rmmod refuses while a redirected call is in flight: retry. */
	for (i = 0; system(cmd); i++) {
		if (i == 10)
			TT_FAIL("%s", cmd);
		tt_msleep(500);
	}
}

static bool initially_loaded;

static void module_restore(void)
{
	module_set(initially_loaded);
}

/* Sockets: the listener in srv, clients in cli, one policy for all. */

static socklen_t bench_addr(const struct tt_variant *v, int port,
			    struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (v->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, v->srv_addr, &sin->sin_addr);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, v->srv_addr, &sin6->sin6_addr);
	return sizeof(*sin6);
}

struct bench_lsn {
	int fd;
	struct sockaddr_storage addr;
	socklen_t len;
};

static void bench_listen(const struct tt_topo *t, const struct tt_variant *v,
			 int policy, struct bench_lsn *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	l->fd = tt_listen(t, v, policy);
	if (listen(l->fd, 4096) || getsockname(l->fd, (void *)&ss, &len))
		TT_FAIL("listen");
	l->len = bench_addr(v, ntohs(((struct sockaddr_in *)&ss)->sin_port),
			    &l->addr);
}

/* Connect from the current namespace (cli); accept needs none. */
static void bench_pair(const struct bench_lsn *l, int family, int policy,
		       int *cli, int *srv)
{
	*cli = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cli < 0)
		TT_FAIL("socket");
	if (policy >= 0)
		tt_set_policy(*cli, policy);
	if (connect(*cli, (const void *)&l->addr, l->len))
		TT_FAIL("connect");
	*srv = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	if (*srv < 0)
		TT_FAIL("accept");
}

static void xfer(int from, int to, char *buf, size_t n)
{
	if (send(from, buf, n, 0) != (ssize_t)n ||
	    recv(to, buf, n, MSG_WAITALL) != (ssize_t)n)
		TT_FAIL("exchange");
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		TT_FAIL("TCP_NODELAY");
}

/* The workloads: each runs for @secs and returns its rate. */

static double churn(const struct bench_lsn *l, int policy, double secs)
{
	double start = now_s(), t;
	char buf[BENCH_MSG] = { 0 };
	long n = 0;
	int cli, srv;

	do {
		bench_pair(l, AF_INET, policy, &cli, &srv);
		xfer(cli, srv, buf, sizeof(buf));
		xfer(srv, cli, buf, sizeof(buf));
		close(cli);
		close(srv);
		n++;
		t = now_s() - start;
	} while (t < secs);
	return n / t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double pct(const double *v, long n, double p)
{
	long k = (long)(p / 100 * n + 0.999999);

	return v[k < 1 ? 0 : k > n ? n - 1 : k - 1];
}

static double rr(const struct bench_lsn *l, int policy, double secs,
		 double *p50, double *p99)
{
	double start = now_s(), t0, t;
	char buf[BENCH_MSG] = { 0 };
	int cli, srv;
	long n = 0;

	bench_pair(l, AF_INET, policy, &cli, &srv);
	nodelay(cli);
	nodelay(srv);
	do {
		t0 = now_s();
		xfer(cli, srv, buf, sizeof(buf));
		xfer(srv, cli, buf, sizeof(buf));
		t = now_s();
		if (n == lat_cap) {
			lat_cap = lat_cap ? 2 * lat_cap : 65536;
			lat = realloc(lat, lat_cap * sizeof(*lat));
			if (!lat)
				TT_FAIL("realloc");
		}
		lat[n++] = (t - t0) * 1e6;
		t -= start;
	} while (t < secs);
	close(cli);
	close(srv);
	qsort(lat, n, sizeof(*lat), cmp_double);
	*p50 = pct(lat, n, 50);
	*p99 = pct(lat, n, 99);
	return n / t;
}

static double bulk(const struct bench_lsn *l, int policy, double secs)
{
	static char buf[4 * BENCH_CHUNK];
	double start = now_s(), t;
	long long got = 0;
	int cli, srv;
	ssize_t r;

	bench_pair(l, AF_INET, policy, &cli, &srv);
	do {
		while (send(cli, buf, BENCH_CHUNK, MSG_DONTWAIT) > 0)
			;
		if (errno != EAGAIN)
			TT_FAIL("%s: send", __func__);
		while ((r = recv(srv, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			got += r;
		if (r == 0 || errno != EAGAIN)
			TT_FAIL("%s: recv", __func__);
		t = now_s() - start;
	} while (t < secs);
	close(cli);
	close(srv);
	return got / 1e6 / t;
}

/*
 * tcpterm keeps its hooks on shared paths for a second after the last
 * tracked socket went (module/gate.c): a "loaded" run right after a
 * policy's would measure them.  Wait until enabled_functions no longer
 * lists tcp_reset (5 s at most), or sleep 2 s without tracefs.
 */
static void gate_settle(void)
{
	int i;

	if (tt_gate_open() < 0) {
		tt_msleep(2000);
		return;
	}
	for (i = 0; i < 50 && tt_gate_open(); i++)
		tt_msleep(100);
	if (i == 50)
		printf("# tcpterm's hooks still attached after 5 s: this round's loaded run measures them\n");
}

/* One run of every workload in configuration @c, round @r. */
static void run_conf(const struct tt_topo *t, int c, int r)
{
	int policy = conf_policy[c];
	double p50, p99, warm = seconds / 10;
	struct bench_lsn l;

	module_set(c != UNLOADED);
	if (c == LOADED)
		gate_settle();
	notice_set(t, c, true);
	bench_listen(t, &bench_v4, policy, &l);
	tt_enter(t->cli_ns);
	/* A short run first, to warm what the last configuration left. */
	churn(&l, policy, warm);
	samples[M_CHURN][c][r] = churn(&l, policy, seconds);
	rr(&l, policy, warm, &p50, &p99);
	samples[M_RR][c][r] = rr(&l, policy, seconds, &p50, &p99);
	samples[M_P50][c][r] = p50;
	samples[M_P99][c][r] = p99;
	bulk(&l, policy, warm);
	samples[M_BULK][c][r] = bulk(&l, policy, seconds);
	close(l.fd);
	notice_set(t, c, false);
	printf("# round %2d %-11s churn %8.0f/s  rr %8.0f/s", r, conf_names[c],
	       samples[M_CHURN][c][r], samples[M_RR][c][r]);
	printf(" p50 %7.1f us p99 %7.1f us  bulk %8.1f MB/s\n", p50, p99,
	       samples[M_BULK][c][r]);
}

/* Statistics: medians, order-statistics CIs, bootstrap ratio CIs. */

static double median(const double *v, int n)
{
	double s[BENCH_MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * The distribution-free CI of a median: [x(l), x(n+1-l)] of the sorted
 * sample covers it with probability 1 - 2 P(B <= l-1), B ~ Bin(n, 1/2).
 * The largest l with P(B <= l-1) <= 2.5 %, or 1 for small n (the whole
 * range, with what coverage it has).
 */
static int ci_rank(int n, double *coverage)
{
	double p = 1, cdf, best;
	int k, l = 1;

	for (k = 0; k < n; k++)
		p /= 2;			/* P(B = 0) */
	cdf = p;
	best = p;
	for (k = 1; k <= n / 2; k++) {
		p = p * (n - k + 1) / k;	/* P(B = k) */
		cdf += p;
		if (cdf > 0.025)
			break;
		l = k + 1;
		best = cdf;
	}
	*coverage = 1 - 2 * best;
	return l;
}

static void median_ci(const double *v, int n, double *lo, double *hi)
{
	double s[BENCH_MAX_ROUNDS], cov;
	int l = ci_rank(n, &cov);

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*lo = s[l - 1];
	*hi = s[n - l];
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned int rng(unsigned int n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned int)(rng_state >> 33) % n;
}

#define BENCH_BOOT_LO	(BENCH_BOOT * 25 / 1000)
#define BENCH_BOOT_HI	(BENCH_BOOT - 1 - BENCH_BOOT_LO)

/*
 * 95 % CI of median(a) / median(b) by the percentile bootstrap over
 * rounds: a resample draws rounds, keeping each round's two runs
 * together, since they ran side by side.
 */
static void ratio_ci(const double *a, const double *b, int n, double *lo,
		     double *hi)
{
	static double q[BENCH_BOOT];
	double ra[BENCH_MAX_ROUNDS], rb[BENCH_MAX_ROUNDS];
	int i, j, k;

	for (i = 0; i < BENCH_BOOT; i++) {
		for (j = 0; j < n; j++) {
			k = rng(n);
			ra[j] = a[k];
			rb[j] = b[k];
		}
		q[i] = median(ra, n) / median(rb, n);
	}
	qsort(q, BENCH_BOOT, sizeof(*q), cmp_double);
	*lo = q[BENCH_BOOT_LO];
	*hi = q[BENCH_BOOT_HI];
}

/* Memory. */

struct mem {
	double slab;	/* bytes of slab objects in use */
	double used;	/* MemTotal - MemFree */
};

static double slab_bytes(void)
{
	char line[512], name[128];
	unsigned long act, num, size;
	double sum = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		TT_FAIL("open /proc/slabinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lu %lu %lu", name, &act, &num,
			   &size) == 4)
			sum += (double)act * size;
	fclose(f);
	return sum;
}

static double meminfo_bytes(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");
	long kb = -1;

	if (!f)
		TT_FAIL("open /proc/meminfo");
	while (kb < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			kb = atol(line + kl + 1);
	fclose(f);
	if (kb < 0)
		TT_FAIL("%s missing from /proc/meminfo", key);
	return kb * 1024.0;
}

/* Empty slabs back to the page allocator, so that MemFree sees frees. */
static void slab_shrink(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir("/sys/kernel/slab");
	int fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 d->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) != 1)
			TT_LOG("cannot shrink %s", d->d_name);
		close(fd);
	}
	closedir(dir);
}

/* Memory once it stopped moving: frees wait for RCU grace periods. */
static struct mem mem_settled(void)
{
	double prev = -1, cur;
	struct mem m;
	int i;

	for (i = 0; i < 40; i++) {
		tt_msleep(smoke ? 100 : 500);
		cur = slab_bytes();
		if (prev >= 0 && (cur - prev < 65536 && prev - cur < 65536))
			break;
		prev = cur;
	}
	m.slab = cur;
	slab_shrink();
	m.used = meminfo_bytes("MemTotal") - meminfo_bytes("MemFree");
	return m;
}

static long sockstat_tcp(const char *key)
{
	char buf[1024], *p;

	read_file("/proc/net/sockstat", buf, sizeof(buf));
	p = strstr(buf, "TCP:");
	p = p ? strstr(p, key) : NULL;
	if (!p)
		TT_FAIL("sockstat %s", key);
	return atol(p + strlen(key));
}

/* A counter of /proc/net/tcpterm in @ns, or -1. */
static long long tcpterm_counter(int ns, const char *name)
{
	long long val, found = -1;
	char key[64];
	FILE *f;

	tt_enter(ns);
	f = fopen("/proc/self/net/tcpterm", "r");
	while (f && found < 0 && fscanf(f, "%63s %lld", key, &val) == 2)
		if (!strcmp(key, name))
			found = val;
	if (f)
		fclose(f);
	return found;
}

/* Why sockets stay: states, a few of them in full, TcpExt counters. */
static void ns_dump(const struct tt_topo *t)
{
	static const char fmt[] =
		"for n in %s %s; do echo \"== $n\"; "
		"/sbin/ip netns exec $n /sbin/ss -tan | awk 'NR > 1 { print $1 }' | sort | uniq -c; "
		"/sbin/ip netns exec $n /sbin/ss -tanoi | head -n 7; "
		"/sbin/tc -n $n -s qdisc show; /sbin/ip -n $n -s link show; "
		"/sbin/ip netns exec $n grep '^Tcp:' /proc/net/snmp; "
		"/sbin/ip netns exec $n cat /proc/net/netstat | awk '/^TcpExt/ { if (!h) { split($0, k); h = 1 } else for (i = 2; i <= NF; i++) if ($i != 0) printf \"%%s=%%s \", k[i], $i } END { print \"\" }'; "
		"done 2>&1 | sed 's/^/# /'";
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), fmt, t->cli, t->srv);
	fflush(stdout);
	if (system(cmd))
		printf("# ss failed\n");
	fflush(stdout);
}

/*
 * Every full TCP socket allocated since @base is gone again, so that
 * the next part starts from the same state; a draining socket is held
 * by its deadline work until that ran.  Progress every 10 s; after 300 s a
 * warning, and the benchmark goes on.
 */
static void wait_sockets(const struct tt_topo *t, long base)
{
	long left;
	int i;

	for (i = 1; (left = sockstat_tcp(" alloc ") - base) > 0; i++) {
		if (i % 100 == 0)
			printf("# %ld TCP sockets left after %d s, %lld deadlines armed\n",
			       left, i / 10,
			       tcpterm_counter(t->srv_ns, "Deadlines"));
		if (i == 3000) {
			printf("# warning: going on with %ld TCP sockets left\n",
			       left);
			ns_dump(t);
			return;
		}
		tt_msleep(100);
	}
}

struct conns {
	long n;
	int *cli, *srv;
};

/*
 * A listener per 8000 connections: connect() picks its port by a linear
 * search over the range (ports of one parity first, 1024-65535 here) for
 * one not yet used towards that destination, which slows down
 * quadratically as the range fills up.
 */
#define BENCH_PER_LISTENER	8000

static void conns_open(const struct tt_topo *t, long n, struct conns *c)
{
	struct bench_lsn l[64];
	int nl = n / BENCH_PER_LISTENER + 1;
	long i;
	int j;

	if (nl > (int)ARRAY_SIZE(l))
		TT_FAIL("%ld sockets: too many", n);
	c->n = n;
	c->cli = calloc(n, sizeof(int));
	c->srv = calloc(n, sizeof(int));
	if (!c->cli || !c->srv)
		TT_FAIL("calloc");
	for (j = 0; j < nl; j++)
		bench_listen(t, &bench_v4, -1, &l[j]);
	tt_enter(t->cli_ns);
	for (i = 0; i < n; i++)
		bench_pair(&l[i % nl], AF_INET, -1, &c->cli[i], &c->srv[i]);
	for (j = 0; j < nl; j++)
		close(l[j].fd);
}

/* One unread byte in every server socket. */
static void conns_unread(struct conns *c)
{
	long i;
	int inq;

	for (i = 0; i < c->n; i++)
		if (send(c->cli[i], "x", 1, 0) != 1)
			TT_FAIL("send");
	for (i = 0; i < c->n; i++) {
		int tries = 0;

		while (!ioctl(c->srv[i], SIOCINQ, &inq) && inq < 1)
			if (++tries > 1000)
				TT_FAIL("byte %ld not arrived", i);
			else
				tt_msleep(1);
	}
}

/*
 * The clients read what the server's close() sent them, the stock RST or
 * the FIN of a DRAIN close (a FIN left unread holds an skb).
 */
static void conns_read_end(struct conns *c)
{
	char b;
	long i;

	for (i = 0; i < c->n; i++)
		if (tt_recv(c->cli[i], &b, 1, 1000) > 0)
			TT_FAIL("data from a closed server socket");
}

/*
 * Closed a hundred at a time, letting softirq processing (ksoftirqd, on
 * the one CPU) catch up: in a longer burst the FINs wait in the queues
 * past their retransmission timeout, and a storm of retransmissions
 * follows.
 */
static void conns_close(int *fds, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		close(fds[i]);
		if (i % 100 == 99)
			tt_msleep(5);
	}
}

static void conns_free(struct conns *c)
{
	free(c->cli);
	free(c->srv);
}

enum { R_CONN, R_POLICIED, R_ORPHAN, NMEMROW };
static const char * const mem_rows[NMEMROW] = {
	"connection", "policied_socket", "draining_socket",
};

static struct mem mem_res[NMEMROW][BENCH_MAX_SIZES];

static struct mem mem_per(struct mem a, struct mem b, long n)
{
	struct mem d = { (a.slab - b.slab) / n, (a.used - b.used) / n };

	return d;
}

/*
 * What the stock close of a socket with input unread frees (it resets):
 * the socket, its file, the unread skb.  Negative, per socket.
 */
static struct mem stock_close(long n, long base)
{
	struct mem before, after;
	struct tt_topo t;
	struct conns c;

	tt_topo_up(&t, 0);
	topo_tune(&t, true);
	conns_open(&t, n, &c);
	conns_unread(&c);
	before = mem_settled();
	conns_close(c.srv, n);
	conns_read_end(&c);
	after = mem_settled();
	conns_close(c.cli, n);
	conns_free(&c);
	wait_sockets(&t, base);
	return mem_per(after, before, n);
}

static void set_drain(int fd)
{
	tt_set_policy(fd, TCPTERM_POLICY_DRAIN);
	tt_set_int(fd, TCPTERM_DRAIN_TIME_MS, TCPTERM_MS_MAX);
	tt_set_int(fd, TCPTERM_DRAIN_IDLE_MS, TCPTERM_MS_MAX);
}

/* Packets dropped for a full backlog queue, all CPUs. */
static unsigned long softnet_drops(void)
{
	unsigned long processed, dropped, sum = 0;
	char line[512];
	FILE *f = fopen("/proc/net/softnet_stat", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %lx", &processed, &dropped) == 2)
			sum += dropped;
	fclose(f);
	return sum;
}

static char laps[256];

/* Note the seconds since *@t0 as step @what; restart the clock. */
static void lap(double *t0, const char *what)
{
	double t = now_s();
	size_t l = strlen(laps);

	snprintf(laps + l, sizeof(laps) - l, "%s%s %.0f s", l ? ", " : "",
		 what, t - *t0);
	*t0 = t;
}

static void mem_size(int s, struct mem stock, long base)
{
	long n = mem_sizes[s], i, orphans;
	unsigned long drops = softnet_drops();
	struct mem m0, m1, m2, m3, m4;
	struct tt_topo t;
	struct conns c;
	double t0 = now_s();

	tt_topo_up(&t, 0);
	topo_tune(&t, true);
	m0 = mem_settled();
	conns_open(&t, n, &c);
	lap(&t0, "open");
	m1 = mem_settled();
	for (i = 0; i < n; i++)
		set_drain(c.srv[i]);
	lap(&t0, "policy");
	m2 = mem_settled();
	conns_unread(&c);
	m3 = mem_settled();
	conns_close(c.srv, n);
	conns_read_end(&c);
	lap(&t0, "close");
	m4 = mem_settled();
	/* Kept by tcpterm after close(), each with its drain deadline. */
	orphans = tt_stat(t.srv_ns, "Deadlines");
	if (orphans < n)
		TT_FAIL("%ld draining sockets of %ld", orphans, n);
	mem_res[R_CONN][s] = mem_per(m1, m0, n);
	mem_res[R_POLICIED][s] = mem_per(m2, m1, n);
	/*
	 * Left by a DRAIN close = freed by it - freed by the stock close,
	 * plus the state the socket had before (its policy).
	 */
	mem_res[R_ORPHAN][s] = mem_per(m4, m3, n);
	mem_res[R_ORPHAN][s].slab += mem_res[R_POLICIED][s].slab - stock.slab;
	conns_close(c.cli, n);
	conns_free(&c);
	lap(&t0, "end");
	wait_sockets(&t, base);
	lap(&t0, "gone");
	printf("# memory %ld sockets: %ld draining, %lu backlog drops, %s\n", n,
	       orphans, softnet_drops() - drops, laps);
	laps[0] = 0;
}

static void memory(void)
{
	long base = sockstat_tcp(" alloc ");
	struct mem stock;
	int s;

	module_set(true);
	stock = stock_close(mem_sizes[0], base);
	for (s = 0; s < nmem_sizes; s++)
		mem_size(s, stock, base);
}

static void mem_table(void)
{
	int i, s;

	printf("# memory, module loaded, bytes per socket\n");
	printf("#   slab: objects in use (/proc/slabinfo)\n");
	printf("#   pages: MemTotal - MemFree (blind to frees: freed objects\n");
	printf("#   leave their slab pages partly used)\n");
	printf("# connection: both ends, no policy\n");
	printf("# policied_socket: what TCPTERM_POLICY_DRAIN adds to one end\n");
	printf("# draining_socket: what one holds after close() with input\n");
	printf("#   unread, where the stock close resets and frees it all\n");
	printf("%-17s %9s %-6s %11s\n", "memory", "sockets", "source", "bytes");
	for (i = 0; i < NMEMROW; i++)
		for (s = 0; s < nmem_sizes; s++) {
			printf("%-17s %9ld %-6s %11.1f\n", mem_rows[i],
			       mem_sizes[s], "slab", mem_res[i][s].slab);
			if (i != R_ORPHAN)
				printf("%-17s %9ld %-6s %11.1f\n", mem_rows[i],
				       mem_sizes[s], "pages", mem_res[i][s].used);
		}
}

static void table(void)
{
	double cov, lo, hi, rlo, rhi, m, m0;
	struct utsname u;
	int i, c, l;

	uname(&u);
	l = ci_rank(rounds, &cov);
	printf("==== tcpterm bench ====\n");
	printf("# kernel %s, %d rounds, %.2f s per workload and run%s\n",
	       u.release, rounds, seconds, smoke ? " (smoke: no meaning)" : "");
	printf("# median: of the rounds; median_lo, median_hi: its 95 %% CI,\n");
	printf("#   order statistics x(%d), x(%d) of %d (coverage %.1f %%)\n",
	       l, rounds + 1 - l, rounds, cov * 100);
	printf("# ratio: median / median unloaded (for latencies > 1 is\n");
	printf("#   slower, for rates < 1); ratio_lo, ratio_hi: its 95 %% CI,\n");
	printf("#   bootstrap over rounds, %d resamples\n", BENCH_BOOT);
	printf("%-17s %-11s %3s %11s %11s %11s %7s %8s %8s\n", "metric",
	       "config", "n", "median", "median_lo", "median_hi", "ratio",
	       "ratio_lo", "ratio_hi");
	for (i = 0; i < NMETRIC; i++)
		for (c = 0; c < NCONF; c++) {
			m = median(samples[i][c], rounds);
			m0 = median(samples[i][UNLOADED], rounds);
			median_ci(samples[i][c], rounds, &lo, &hi);
			ratio_ci(samples[i][c], samples[i][UNLOADED], rounds,
				 &rlo, &rhi);
			printf("%-17s %-11s %3d %11.1f %11.1f %11.1f %7.3f %8.3f %8.3f\n",
			       metric_names[i], conf_names[c], rounds, m, lo,
			       hi, m / m0, rlo, rhi);
		}
	if (nmem_sizes)
		mem_table();
	printf("==== end ====\n");
}

static void config(void)
{
	const char *env = getenv("TCPTERM_BENCH_SMOKE");
	char sizes[256], *tok, *save;

	smoke = env && atoi(env);
	if (smoke) {
		rounds = 2;
		seconds = 0.1;
	}
	env = getenv("TCPTERM_BENCH_ROUNDS");
	if (env && atoi(env) >= 2 && atoi(env) <= BENCH_MAX_ROUNDS)
		rounds = atoi(env);
	env = getenv("TCPTERM_BENCH_SECONDS");
	if (env && atof(env) > 0)
		seconds = atof(env);
	env = getenv("TCPTERM_BENCH_MEM_SOCKETS");
	snprintf(sizes, sizeof(sizes), "%s",
		 env ? env : smoke ? "100 300" : "10000 100000");
	if (!strcmp(sizes, "none"))
		return;
	for (tok = strtok_r(sizes, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (nmem_sizes == BENCH_MAX_SIZES || atol(tok) < 1)
			TT_FAIL("TCPTERM_BENCH_MEM_SOCKETS: up to %d counts",
				BENCH_MAX_SIZES);
		mem_sizes[nmem_sizes++] = atol(tok);
	}
}

/* The zero-cost workload: phases marked in the trace, no SOL_TCPTERM. */

static int marker = -1;

static void mark(const char *phase)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "tcpterm-zc %s\n", phase);

	if (write(marker, msg, n) != n)
		TT_FAIL("trace_marker");
	printf("# phase %s\n", phase);
}

static void wait_acked(int fd)
{
	int outq = 1, i;

	for (i = 0; i < tt_scaled(5000); i++) {
		if (ioctl(fd, SIOCOUTQ, &outq))
			TT_FAIL("SIOCOUTQ");
		if (!outq)
			return;
		tt_msleep(1);
	}
	TT_FAIL("%d bytes unacknowledged", outq);
}

/* Copy @src to @dst (a tracefs file has no size: read to the end). */
static void copy_file(const char *src, const char *dst)
{
	char buf[4096];
	int in, out;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		TT_FAIL("copy %s to %s", src, dst);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			TT_FAIL("write %s", dst);
	if (n < 0)
		TT_FAIL("read %s", src);
	close(in);
	close(out);
}

static int zerocost(const char *path, const char *snap_src,
		    const char *snap_dst)
{
	static const struct tt_variant *vs[] = { &bench_v4, &bench_v6 };
	static char buf[BENCH_CHUNK];
	int fds[2][4], i, j, fd, pol = 0;
	struct bench_lsn l[2];
	struct tt_topo t;
	long left;

	marker = open(path, O_WRONLY | O_CLOEXEC);
	if (marker < 0)
		TT_FAIL("open %s", path);
	mark("setup");
	tt_topo_up(&t, 0);
	for (i = 0; i < 2; i++)
		bench_listen(&t, vs[i], -1, &l[i]);
	tt_enter(t.cli_ns);
	for (i = 0; i < 2; i++) {
		bench_pair(&l[i], vs[i]->family, -1, &fds[i][0], &fds[i][1]);
		bench_pair(&l[i], vs[i]->family, -1, &fds[i][2], &fds[i][3]);
	}

	mark("data");
	for (i = 0; i < 2; i++) {
		/* bulk: 1 MiB, written as the receiver takes it */
		for (left = 1 << 20; left > 0;) {
			ssize_t w = send(fds[i][0], buf, BENCH_CHUNK,
					 MSG_DONTWAIT);

			if (w > 0)
				left -= w;
			while (recv(fds[i][1], buf, sizeof(buf),
				    MSG_DONTWAIT) > 0)
				;
		}
		while (tt_recv(fds[i][1], buf, sizeof(buf), 100) > 0)
			;
		/* request/response: 100 transactions */
		for (j = 0; j < 100; j++) {
			xfer(fds[i][2], fds[i][3], buf, BENCH_MSG);
			xfer(fds[i][3], fds[i][2], buf, BENCH_MSG);
		}
	}
	/* Every segment of the data phase handled inside it. */
	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++)
			wait_acked(fds[i][j]);
	tt_msleep(tt_scaled(300));

	mark("close");
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 4; j++)
			close(fds[i][j]);
		close(l[i].fd);
	}
	tt_msleep(tt_scaled(1000));

	/* Control: SOL_TCPTERM certainly runs tcpterm code. */
	mark("control");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &pol,
				 sizeof(pol)))
		TT_FAIL("setsockopt SOL_TCPTERM: is tcpterm loaded?");
	/*
	 * What is attached while a socket is tracked: after the setsockopt
	 * call's own hold has lingered out, so that only the socket's
	 * entry can be holding the gate.
	 */
	if (snap_src && snap_dst) {
		tt_msleep(tt_scaled(3000));
		copy_file(snap_src, snap_dst);
	}
	close(fd);
	mark("end");
	return 0;
}

int main(int argc, char **argv)
{
	struct tt_topo t;
	int r, k, i, c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "zerocost"))
		return zerocost(argc > 2 ? argv[2] :
				"/sys/kernel/tracing/trace_marker",
				argc > 4 ? argv[3] : NULL,
				argc > 4 ? argv[4] : NULL);
	if (argc > 1)
		TT_FAIL("usage: %s [zerocost [TRACE_MARKER [SNAP_SRC SNAP_DST]]]",
			argv[0]);
	if (!getenv("TCPTERM_KO"))
		TT_SKIP("TCPTERM_KO not set");
	config();
	for (i = 0; i < NMETRIC; i++)
		for (c = 0; c < NCONF; c++) {
			samples[i][c] = calloc(rounds, sizeof(double));
			if (!samples[i][c])
				TT_FAIL("calloc");
		}
	initially_loaded = module_loaded();
	atexit(module_restore);
	if (nmem_sizes) {
		long most = 0;

		for (i = 0; i < nmem_sizes; i++)
			most = mem_sizes[i] > most ? mem_sizes[i] : most;
		sysctl_raise(most);
	}
	tt_topo_up(&t, 0);
	topo_tune(&t, false);
	printf("# %d rounds of %d configurations, %.2f s per workload\n",
	       rounds, NCONF, seconds);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < NCONF; k++)
			run_conf(&t, (k + r) % NCONF, r);
	if (nmem_sizes)
		memory();
	table();
	return 0;
}
