// SPDX-License-Identifier: GPL-2.0
/*
 * Random calls at SOL_TCPTERM: random option names, lengths (0, odd,
 * huge, negative), pointers (NULL, unmapped, read-only, kernel) and
 * sockets of every type and state.  Only clean errnos may come back, a
 * successful set must read back, and the kernel log must stay clean (the
 * runner checks it).  The seed is printed, so a failure can be replayed
 * with TCPTERM_FUZZ_SEED.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "ktap.h"	/* until converted to the kernel harness */

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

static void fuzz(const struct tt_variant *v)
{
	static const int lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 40, 48,
				    64, 4096, 1 << 20, 0x7fffffff, -1, -4 };
	long page = sysconf(_SC_PAGESIZE);
	char *buf, *ro, *gone, *kern = (char *)0xffffffff81000000UL;
	const char *seed_env = getenv("TCPTERM_FUZZ_SEED");
	int fds[NSOCK], i, ok = 0, errs = 0;
	struct tt_topo t;

	tt_rng = seed_env ? strtoull(seed_env, NULL, 0) : (unsigned long long)getpid() * 2654435761ULL;
	TT_LOG("seed %llu", tt_rng);
	tt_topo_up(&t, 0);
	make_sockets(&t, v, fds);

	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gone = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(buf != MAP_FAILED && ro != MAP_FAILED && gone != MAP_FAILED);
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
	ASSERT_TRUE(ok > 0 && errs > 0);
}

static const struct tt_test tests[] = {
	{ "fuzz_options", fuzz, TT_V4V6, 300 },
};

int main(int argc, char **argv)
{
	return tt_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
