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

#include "lib.h"

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
