// SPDX-License-Identifier: GPL-2.0
/* The runner half of ktap.h. */
#include <signal.h>
#include <sys/wait.h>

#include "ktap.h"

static const struct tt_variant *const tt_variants[] = {
	&tt_ipv4, &tt_ipv6, &tt_mapped,
};

static const unsigned int tt_default_timeout_s = 60;

static int tt_run_one(const struct tt_test *t, const struct tt_variant *v)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return KSFT_FAIL;
	if (pid == 0) {
		alarm(tt_scaled(t->timeout_s ? t->timeout_s :
					  tt_default_timeout_s));
		t->fn(v);
		fflush(stdout);
		_exit(KSFT_PASS);
	}
	if (waitpid(pid, &status, 0) != pid)
		return KSFT_FAIL;
	if (WIFSIGNALED(status)) {
		printf("# killed by signal %d%s\n", WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return KSFT_FAIL;
	}
	return WEXITSTATUS(status);
}

static bool tt_selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

int tt_main(int argc, char **argv, const struct tt_test *tests, int n)
{
	int i, j, total = 0, num = 0, failed = 0, passed = 0;
	char name[128];

	for (i = 0; i < n; i++)
		for (j = 0; j < 3; j++) {
			snprintf(name, sizeof(name), "%s.%s", tests[i].name,
				 tt_variants[j]->name);
			if ((tests[i].variants & (1U << j)) &&
			    tt_selected(argc, argv, name))
				total++;
		}

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..%d\n", total);
	for (i = 0; i < n; i++) {
		for (j = 0; j < 3; j++) {
			int rc;

			snprintf(name, sizeof(name), "%s.%s", tests[i].name,
				 tt_variants[j]->name);
			if (!(tests[i].variants & (1U << j)) ||
			    !tt_selected(argc, argv, name))
				continue;
			printf("# RUN %s\n", name);
			rc = tt_run_one(&tests[i], tt_variants[j]);
			num++;
			if (rc == KSFT_PASS) {
				passed++;
				printf("ok %d %s\n", num, name);
			} else if (rc == KSFT_SKIP) {
				printf("ok %d %s # SKIP\n", num, name);
			} else {
				failed++;
				printf("not ok %d %s\n", num, name);
			}
		}
	}
	printf("# totals: pass:%d fail:%d skip:%d\n", passed, failed,
	       num - passed - failed);
	if (failed)
		return KSFT_FAIL;
	return passed ? KSFT_PASS : KSFT_SKIP;
}
