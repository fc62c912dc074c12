// SPDX-License-Identifier: GPL-2.0
/*
 * Random calls at SOL_TCPTERM: random option names, lengths (0, odd,
 * huge, negative), pointers (NULL, unmapped, read-only, kernel) and
 * sockets of every type and state.  Only clean errnos may come back, a
 * successful set must read back, and the kernel log must stay clean (the
 * runner checks it).  The seed is printed, so a failure can be replayed
 * with TCPTERM_FUZZ_SEED.
 *
 * Two cases per family (kselftest_harness.h): fuzz.ipv4.options and
 * fuzz.ipv6.options, 300 s each (times TCPTERM_TIME_SCALE), and
 * fuzz.*.table: every row of module/options.h, the table the module is
 * built from, at and around its bounds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

enum { NSOCK = 12 };

static const int tt_iterations = 20000;

static unsigned long long tt_rng;

static unsigned int rnd(unsigned int n)
{
	tt_rng = tt_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(tt_rng >> 33) % n;
}

/* Sockets in many types and states, in one namespace. */
static void make_sockets(const struct tt_topo *t, const struct tt_variant *v,
			 int *fds)
{
	struct tt_pair p, q;
	int i = 0;

	tt_pair_open(t, v, &p);
	tt_pair_open(t, v, &q);
	shutdown(q.srv, SHUT_RDWR);
	shutdown(q.cli, SHUT_WR);
	fds[i++] = p.cli;
	fds[i++] = p.srv;
	fds[i++] = p.lsn;
	fds[i++] = q.cli;
	fds[i++] = q.srv;
	fds[i++] = socket(v->family, SOCK_STREAM, 0);		/* fresh */
	fds[i++] = socket(v->family, SOCK_DGRAM, 0);
	fds[i++] = socket(v->family, SOCK_STREAM, IPPROTO_MPTCP);
	fds[i++] = socket(v->family, SOCK_RAW, IPPROTO_TCP);
	fds[i++] = socket(AF_UNIX, SOCK_STREAM, 0);
	fds[i++] = socket(v->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(fds[i - 1], (struct sockaddr *)&(struct sockaddr_in){
		.sin_family = AF_INET, .sin_port = htons(9) }, 16);
	fds[i++] = open("/dev/null", O_RDONLY);			/* not a socket */
}

static bool clean_errno(int e)
{
	return e == EINVAL || e == EFAULT || e == ENOPROTOOPT ||
	       e == EOPNOTSUPP || e == ENOTSOCK || e == ENOMEM;
}

FIXTURE(fuzz) {
	struct tt_topo t;
};

FIXTURE_VARIANT(fuzz) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(fuzz, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(fuzz, ipv6) { .net = &tt_ipv6 };

FIXTURE_SETUP(fuzz)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(fuzz)
{
	tt_topo_down();
}

TEST_F_TIMEOUT(fuzz, options, 300)
{
	const struct tt_variant *v = variant->net;
	static const int lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 40, 48,
				    64, 4096, 1 << 20, 0x7fffffff, -1, -4 };
	long page = sysconf(_SC_PAGESIZE);
	char *buf, *ro, *gone, *kern = (char *)0xffffffff81000000UL;
	const char *seed_env = getenv("TCPTERM_FUZZ_SEED");
	int fds[NSOCK], i, ok = 0, errs = 0;

	tt_rng = seed_env ? strtoull(seed_env, NULL, 0) : (unsigned long long)getpid() * 2654435761ULL;
	TT_LOG("seed %llu", tt_rng);
	make_sockets(&self->t, v, fds);

	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gone = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, gone);
	munmap(gone, page);

	for (i = 0; i < tt_iterations; i++) {
		int fd = fds[rnd(NSOCK)];
		int name = rnd(8) ? (int)rnd(8) : (int)(rnd(0xffff) - 0x8000);
		int len = lens[rnd(sizeof(lens) / sizeof(lens[0]))];
		char *ptrs[] = { buf, NULL, gone, ro, kern, buf + page - 2 };
		char *ptr = ptrs[rnd(6)];
		int rc, val;

		if (ptr == buf)
			memcpy(buf, &(int){ (int)rnd(4) - 1 }, sizeof(int));
		if (rnd(2)) {
			rc = setsockopt(fd, SOL_TCPTERM, name, ptr, len);
		} else {
			socklen_t sl = len;
			socklen_t *slp = rnd(10) ? &sl : (socklen_t *)ptrs[rnd(6)];

			rc = getsockopt(fd, SOL_TCPTERM, name, ptr, slp);
		}
		if (rc == 0) {
			ok++;
			continue;
		}
		if (rc != -1 || !clean_errno(errno))
			TT_FAIL("fd %d opt %d len %d ptr %p: rc %d errno %d (%s)",
				fd, name, len, ptr, rc, errno, strerror(errno));
		errs++;

		/* A set that succeeded must read back. */
		val = (int)rnd(2);
		if (!setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, 4)) {
			socklen_t sl = sizeof(int);
			int got = -1;

			ASSERT_EQ(0, getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY,
						&got, &sl));
			ASSERT_EQ(val, got);
		}
	}
	TT_LOG("%d calls: %d succeeded, %d clean errors", tt_iterations, ok, errs);
	ASSERT_LT(0, ok);
	ASSERT_LT(0, errs);
}

/* The option table the module is built from (module/options.h). */
static const struct tt_option {
	const char *name;
	int opt, min, max, def;
} tt_options[] = {
#define TCPTERM_OPTION(opt, field, lo, hi, def, users)	\
	{ #opt, opt, lo, hi, def },
#include "../module/options.h"
#undef TCPTERM_OPTION
};

static int tt_get(int fd, int opt)
{
	socklen_t sl = sizeof(int);
	int val = -12345;

	if (getsockopt(fd, SOL_TCPTERM, opt, &val, &sl) || sl != sizeof(int))
		return -12345;
	return val;
}

/*
 * Each row of the table, at and around its bounds: a fresh socket
 * reads the default, every value in [min, max] is taken and reads back,
 * min - 1 and max + 1 fail with EINVAL and change nothing.
 */
TEST_F(fuzz, table)
{
	const struct tt_variant *v = variant->net;
	unsigned int i;

	tt_rng = 1;
	for (i = 0; i < sizeof(tt_options) / sizeof(tt_options[0]); i++) {
		const struct tt_option *o = &tt_options[i];
		int vals[] = { o->min, o->max, o->min + (int)rnd(o->max - o->min + 1) };
		int fd = socket(v->family, SOCK_STREAM, 0);
		int bad, j;

		ASSERT_LE(0, fd);
		TT_LOG("%s: %d to %d, default %d", o->name, o->min, o->max, o->def);
		EXPECT_EQ(o->def, tt_get(fd, o->opt));
		/*
		 * TCPTERM_NOTICE needs a kernel with cgroup BPF; without,
		 * turning it on fails with EOPNOTSUPP and only 0 is taken.
		 */
		if (o->opt == TCPTERM_NOTICE &&
		    setsockopt(fd, SOL_TCPTERM, o->opt, &o->max, sizeof(int)) &&
		    errno == EOPNOTSUPP) {
			TT_LOG("%s: not in this kernel (no CONFIG_CGROUP_BPF)", o->name);
			vals[0] = vals[1] = vals[2] = o->min;
		}
		for (j = 0; j < 3; j++) {
			EXPECT_EQ(0, setsockopt(fd, SOL_TCPTERM, o->opt,
						&vals[j], sizeof(int)));
			EXPECT_EQ(vals[j], tt_get(fd, o->opt));
		}
		bad = o->min - 1;
		EXPECT_EQ(-1, setsockopt(fd, SOL_TCPTERM, o->opt, &bad, sizeof(int)));
		EXPECT_EQ(EINVAL, errno);
		bad = o->max + 1;
		EXPECT_EQ(-1, setsockopt(fd, SOL_TCPTERM, o->opt, &bad, sizeof(int)));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(vals[2], tt_get(fd, o->opt));
		close(fd);
	}
}

TT_HARNESS_MAIN
