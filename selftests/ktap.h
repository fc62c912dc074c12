/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small KTAP test harness for the tcpterm selftests.
 *
 * A test is a function run once per variant (address family), each run
 * in a child process of its own so that a failed assertion, a crash or a
 * hang (alarm) fails that case only.  Results are KTAP; the exit status
 * follows kselftest (0 pass, 1 fail, 4 skip).
 */
#ifndef TCPTERM_KTAP_H
#define TCPTERM_KTAP_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

struct tt_variant {
	const char *name;
	int family;		/* socket family of both ends */
	const char *srv_addr;	/* what the client connects to */
	const char *srv_bind;	/* what the server binds */
};

/* Which variants a test runs for. */
#define TT_V4		(1U << 0)
#define TT_V6		(1U << 1)
#define TT_MAPPED	(1U << 2)
#define TT_ALL		(TT_V4 | TT_V6 | TT_MAPPED)
#define TT_V4V6		(TT_V4 | TT_V6)

struct tt_test {
	const char *name;
	void (*fn)(const struct tt_variant *v);
	unsigned int variants;
	unsigned int timeout_s;	/* 0: default */
};

int tt_main(int argc, char **argv, const struct tt_test *tests, int n);

/*
 * Scale a wait by TCPTERM_TIME_SCALE (default 1): slow kernels (KASAN
 * and lockdep under emulation) get longer upper bounds.  Only waits that
 * end as soon as the awaited event happens are scaled.
 */
int tt_scaled(int ms);

#define TT_FAIL(fmt, ...) do {						\
	printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);	\
	fflush(stdout);							\
	_exit(KSFT_FAIL);						\
} while (0)

#define TT_SKIP(fmt, ...) do {						\
	printf("# SKIP: " fmt "\n", ##__VA_ARGS__);			\
	fflush(stdout);							\
	_exit(KSFT_SKIP);						\
} while (0)

#define TT_LOG(fmt, ...) do {						\
	printf("# " fmt "\n", ##__VA_ARGS__);				\
	fflush(stdout);							\
} while (0)

#define ASSERT_EQ(exp, got) do {					\
	long long __e = (long long)(exp), __g = (long long)(got);	\
	if (__e != __g)							\
		TT_FAIL("%s == %s: expected %lld, got %lld (errno %d %s)", \
			#exp, #got, __e, __g, errno, strerror(errno));	\
} while (0)

#define ASSERT_GE(min, got) do {					\
	long long __m = (long long)(min), __g = (long long)(got);	\
	if (__g < __m)							\
		TT_FAIL("%s >= %s: got %lld, want at least %lld",	\
			#got, #min, __g, __m);				\
} while (0)

#define ASSERT_TRUE(cond) do {						\
	if (!(cond))							\
		TT_FAIL("%s is false (errno %d %s)", #cond, errno,	\
			strerror(errno));				\
} while (0)

/* A call that must fail with a given errno. */
#define ASSERT_ERRNO(err, call) do {					\
	errno = 0;							\
	long __r = (long)(call);					\
	if (__r != -1 || errno != (err))				\
		TT_FAIL("%s: expected -1/%s, got %ld/%s", #call,	\
			strerror(err), __r, strerror(errno));		\
} while (0)

#endif /* TCPTERM_KTAP_H */
