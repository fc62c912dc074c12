/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tcpterm selftests run on the kernel's own kselftest_harness.h
 * (FIXTURE, FIXTURE_VARIANT, TEST_F, ASSERT_EQ(expected, seen), ...).
 * The header is not in this tree: the selftests Makefile takes it, with
 * kselftest.h, out of Debian's linux-source-6.1 tarball at build time
 * (build/kselftest/).  Every test runs in a child process of its own, and
 * FIXTURE_SETUP runs in that child.
 *
 * What this file adds around it, and only that:
 *
 * - TT_HARNESS_MAIN instead of TEST_HARNESS_MAIN.  The 6.1 harness runs
 *   every test and ignores its arguments; this main() selects cases the
 *   way later harnesses do (-f FIXTURE, -v VARIANT, -t TEST, -r
 *   FIXTURE.VARIANT.TEST, -l to list) and also takes bare words, each a
 *   substring of FIXTURE.VARIANT.TEST (what TCPTERM_ONLY=PROGRAM:FILTER
 *   passes).  It then runs the selected cases with the harness's own
 *   __run_test(), so the output (KTAP, "# Totals") is the harness's.
 * - Each test's timeout (TEST_F_TIMEOUT, default 30 s) is multiplied by
 *   TCPTERM_TIME_SCALE, as every scaled wait in lib.c is.
 * - A lib.c helper that fails (TT_FAIL) ends the test as a failed ASSERT
 *   would: FIXTURE_TEARDOWN runs, then the harness reports the case.
 *
 * Address-family variants: a fixture over the network declares
 * FIXTURE_VARIANT(f) { const struct tt_variant *net; ... } and adds
 * ipv4, ipv6 and, where the case means something there, mapped
 * (an IPv6 socket talking to an IPv4 address).
 */
#ifndef TCPTERM_HARNESS_H
#define TCPTERM_HARNESS_H

#include "lib.h"
#include "kselftest_harness.h"

/*
 * A call that must fail with errno @err (ours, not the harness's: the
 * kernel's argument order, expected first).
 */
#define ASSERT_ERRNO(err, call) do {					\
	errno = 0;							\
	ASSERT_EQ(-1, (long)(call));					\
	ASSERT_EQ(err, errno);						\
} while (0)

/* The case running in this process (set before the harness forks). */
static struct __test_metadata *tt_current;

/*
 * TT_FAIL from a lib.c helper.  In the test's own process: a failed
 * assertion (longjmp to the harness, which runs the teardown).  In a
 * process the test forked, or when the teardown itself failed: exit, as
 * a failed child always did.
 */
static void tt_harness_fail(void)
{
	struct __test_metadata *t = tt_current;

	if (!t || t->aborted || getpid() != getpgrp())
		_exit(KSFT_FAIL);
	t->passed = 0;
	__bail(1, t);
}

static bool tt_word_in(const char *word, int argc, char **argv,
		       const char *opt)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], opt) && i + 1 < argc &&
		    !strcmp(argv[i + 1], word))
			return true;
	return false;
}

static bool tt_has_opt(int argc, char **argv, const char *opt)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

/* No selection at all runs everything; otherwise any matching one. */
static bool tt_selected(int argc, char **argv,
			const struct __fixture_metadata *f,
			const struct __fixture_variant_metadata *v,
			const struct __test_metadata *t)
{
	char name[256];
	bool any = false;
	int i;

	snprintf(name, sizeof(name), "%s%s%s.%s", f->name,
		 v->name[0] ? "." : "", v->name, t->name);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-l"))
			continue;
		if (a[0] == '-' && i + 1 < argc) {
			i++;
			any = true;
			continue;
		}
		any = true;
		if (strstr(name, a))
			return true;
	}
	if (!any)
		return true;
	return tt_word_in(f->name, argc, argv, "-f") ||
	       tt_word_in(v->name, argc, argv, "-v") ||
	       tt_word_in(t->name, argc, argv, "-t") ||
	       tt_word_in(name, argc, argv, "-r");
}

static int tt_harness_run(int argc, char **argv)
{
	struct __fixture_variant_metadata no_variant = { .name = "", };
	struct __fixture_variant_metadata *v;
	struct __fixture_metadata *f;
	struct __test_results *results;
	struct __test_metadata *t;
	unsigned int count = 0, pass_count = 0, selected = 0;
	bool list = tt_has_opt(argc, argv, "-l");
	int ret = 0, scale = tt_scaled(1);

	setvbuf(stdout, NULL, _IOLBF, 0);
	tt_fail_hook = tt_harness_fail;
	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ?: &no_variant; v; v = v->next)
			for (t = f->tests; t; t = t->next) {
				if (!tt_selected(argc, argv, f, v, t))
					continue;
				selected++;
				if (list)
					printf("%s%s%s.%s\n", f->name,
					       v->name[0] ? "." : "", v->name,
					       t->name);
			}
	if (list)
		return KSFT_PASS;

	results = mmap(NULL, sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (results == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	/* KTAP, as the rest of the run (6.1's harness says "TAP version 13"). */
	printf("KTAP version 1\n");
	if (!selected)
		ksft_exit_skip("no case matches the selection\n");
	ksft_set_plan(selected);
	ksft_print_msg("Starting %u tests (time scale %d)\n", selected, scale);
	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ?: &no_variant; v; v = v->next)
			for (t = f->tests; t; t = t->next) {
				if (!tt_selected(argc, argv, f, v, t))
					continue;
				count++;
				t->results = results;
				t->timeout *= scale;
				tt_current = t;
				__run_test(f, v, t);
				tt_current = NULL;
				t->timeout /= scale;
				t->results = NULL;
				if (t->passed)
					pass_count++;
				else
					ret = 1;
			}
	munmap(results, sizeof(*results));
	ksft_print_msg("%s: %u / %u tests passed.\n", ret ? "FAILED" : "PASSED",
		       pass_count, count);
	ksft_exit(ret == 0);
	return KSFT_FAIL;
}

/* The harness's own runner, which tt_harness_run() stands in for. */
static int (*const tt_stock_run)(int, char **) __attribute__((unused)) =
	test_harness_run;

/*
 * At the end of a test file, in place of TEST_HARNESS_MAIN; a program
 * with a main() of its own (that calls tt_harness_run()) puts
 * TT_HARNESS_ORDER there instead: the cases then run in file order.
 */
#define TT_HARNESS_ORDER						\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}

#define TT_HARNESS_MAIN							\
	TT_HARNESS_ORDER						\
	int main(int argc, char **argv)					\
	{								\
		return tt_harness_run(argc, argv);			\
	}

#endif /* TCPTERM_HARNESS_H */
