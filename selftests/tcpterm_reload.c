// SPDX-License-Identifier: GPL-2.0
/*
 * Attach and detach a hook on the TCP receive path many times while
 * connections of every policy send and receive on both CPUs.
 *
 *   tcpterm_reload [HOOK[,CYCLES]]
 *
 * HOOK is what comes and goes:
 *   tcpterm   rmmod/insmod of the module (the default)
 *   kprobe    a kprobe event on tcp_v4_do_rcv and tcp_v6_do_rcv (an
 *             ftrace op with SAVE_REGS and IPMODIFY, as tcpterm's own,
 *             registered by the kernel without tcpterm)
 *   function  the function tracer on the same two functions
 *   event     the sock:inet_sock_set_state trace event (the tracepoint
 *             tcpterm attaches to: its static key is patched the same way)
 * kprobe, function and event are the controls: they patch the same code
 * with the same text-poke machinery and no tcpterm code at all, so a
 * crash they also cause is not tcpterm's.
 *
 * Every new connection must report the default policy and an empty
 * TCPTERM_INFO: a socket whose memory held a tracked one before never
 * inherits its state.  The test passes when every cycle completed, the
 * traffic flowed and no socket was born with state; a crash stops the
 * guest, and the runner reports the guest's death and the splat.
 *
 * On kselftest_harness.h: FIXTURE(reload) has a variant per hook, one
 * case each (reload.tcpterm.cycles, reload.kprobe.cycles, ...).  Without
 * an argument only the tcpterm variant runs, as before; HOOK[,CYCLES]
 * selects that hook's variant (what TCPTERM_ONLY=tcpterm_reload:HOOK,N
 * passes); any other argument goes to the harness's selection.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "harness.h"

/* Per connection: bytes each way, so segments also go through the backlog. */
static const int tt_bytes_each_way = 64 * 1024;
static const int tt_workers_per_cpu = 1;
static int tt_cycles = 5;

static const char tt_tracefs[] = "/sys/kernel/tracing";

static volatile sig_atomic_t tt_stop;

static void tt_on_term(int sig)
{
	tt_stop = 1;
}

static int tt_write(const char *file, const char *val, int append)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", tt_tracefs, file);
	fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static int tt_attach(const char *hook, const char *ko, int on)
{
	char cmd[256];

	if (!strcmp(hook, "tcpterm")) {
		snprintf(cmd, sizeof(cmd), on ? "insmod %s" : "rmmod tcpterm", ko);
		return system(cmd) ? -1 : 0;
	}
	if (!strcmp(hook, "kprobe"))
		return tt_write("events/kprobes/enable", on ? "1" : "0", 0);
	if (!strcmp(hook, "event"))
		return tt_write("events/sock/inet_sock_set_state/enable",
				on ? "1" : "0", 0);
	return tt_write("current_tracer", on ? "function" : "nop", 0);
}

static int tt_hook_setup(const char *hook)
{
	if (!strcmp(hook, "tcpterm") || !strcmp(hook, "event"))
		return 0;
	if (!strcmp(hook, "kprobe"))
		return tt_write("kprobe_events", "p:tt_rcv4 tcp_v4_do_rcv\n", 1) ||
		       tt_write("kprobe_events", "p:tt_rcv6 tcp_v6_do_rcv\n", 1);
	if (!strcmp(hook, "function"))
		return tt_write("set_ftrace_filter",
				"tcp_v4_do_rcv\ntcp_v6_do_rcv\n", 0);
	return -1;
}

static void tt_hook_teardown(const char *hook)
{
	if (!strcmp(hook, "kprobe"))
		tt_write("kprobe_events", "", 0);
	else if (!strcmp(hook, "function"))
		tt_write("set_ftrace_filter", "", 0);
}

static void tt_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Send @n bytes and read @n bytes on @fd, interleaved; false on error. */
static bool tt_exchange(int fd, int n)
{
	static char buf[16384];
	int sent = 0, got = 0;
	ssize_t r;

	while (sent < n || got < n) {
		bool progress = false;

		if (sent < n) {
			r = send(fd, buf, n - sent < (int)sizeof(buf) ?
				 n - sent : (int)sizeof(buf),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r < 0 && errno != EAGAIN)
				return false;
			if (r > 0) {
				sent += r;
				progress = true;
			}
		}
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return false;
		if (r > 0) {
			got += r;
			progress = true;
		}
		/* Wait instead of spinning: the CPUs belong to the stack. */
		if (!progress) {
			struct pollfd pfd = {
				.fd = fd,
				.events = POLLIN | (sent < n ? POLLOUT : 0),
			};

			if (tt_stop || poll(&pfd, 1, 1000) <= 0)
				return false;
		}
	}
	return true;
}

/*
 * A new connection owes nothing to the sockets that lived at the same
 * address before it: with the module loaded it reports the default
 * policy and an empty TCPTERM_INFO; without it the level is unknown.
 */
static void tt_expect_fresh(int fd)
{
	struct tcpterm_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0xff, sizeof(info));
	if (getsockopt(fd, SOL_TCPTERM, TCPTERM_INFO, &info, &len)) {
		if (errno != ENOPROTOOPT && errno != EOPNOTSUPP)
			TT_FAIL("TCPTERM_INFO: %s", strerror(errno));
		return;
	}
	if (info.tti_policy != TCPTERM_POLICY_DEFAULT || info.tti_flags ||
	    info.tti_rst_reason || info.tti_bytes_discarded ||
	    info.tti_rst_time_ns || info.tti_crossed_time_ns)
		TT_FAIL("a new socket inherited state: policy %u flags 0x%x reason %u discarded %llu",
			info.tti_policy, info.tti_flags, info.tti_rst_reason,
			(unsigned long long)info.tti_bytes_discarded);
}

static void tt_policy(int fd, int policy)
{
	/* The module comes and goes: ENOPROTOOPT is expected. */
	setsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &policy, sizeof(policy));
}

/* One connection: both sides exchange data, then close in a random way. */
static long tt_one(const struct tt_topo *t, const struct tt_variant *v, int lsn)
{
	int cli = tt_connect(t, v, lsn), srv = tt_accept(t, lsn);
	int policy = random() % 3;
	struct timeval tv = { .tv_sec = 5 };
	pid_t pid;
	bool ok;

	setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tt_expect_fresh(cli);
	tt_expect_fresh(srv);
	tt_policy(cli, policy);
	tt_policy(srv, policy);
	pid = fork();
	if (pid == 0) {
		ok = tt_exchange(srv, tt_bytes_each_way);
		if (random() & 1)
			shutdown(srv, SHUT_RD);
		close(srv);
		_exit(ok ? 0 : 1);
	}
	ok = tt_exchange(cli, tt_bytes_each_way);
	close(srv);
	if (random() & 1)
		shutdown(cli, SHUT_WR);
	close(cli);
	waitpid(pid, NULL, 0);
	/* A reset from a policy is a legitimate end: count bytes, not errors. */
	return ok ? 2L * tt_bytes_each_way : 0;
}

static void tt_worker(const struct tt_topo *t, int cpu, int pipefd)
{
	int lsn4, lsn6, i;
	long bytes = 0;

	/* Never outlive the test, whatever way it ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	tt_pin(cpu);
	srandom(getpid());
	signal(SIGTERM, tt_on_term);
	lsn4 = tt_listen(t, &tt_ipv4, -1);
	lsn6 = tt_listen(t, &tt_ipv6, -1);
	for (i = 0; !tt_stop; i++)
		bytes += tt_one(t, (i & 1) ? &tt_ipv6 : &tt_ipv4,
				(i & 1) ? lsn6 : lsn4);
	if (write(pipefd, &bytes, sizeof(bytes)) != sizeof(bytes))
		_exit(1);
	_exit(0);
}

FIXTURE(reload) {
	struct tt_topo t;
};

FIXTURE_VARIANT(reload) {
	const char *hook;
};

FIXTURE_VARIANT_ADD(reload, tcpterm) { .hook = "tcpterm" };
FIXTURE_VARIANT_ADD(reload, kprobe) { .hook = "kprobe" };
FIXTURE_VARIANT_ADD(reload, function) { .hook = "function" };
FIXTURE_VARIANT_ADD(reload, event) { .hook = "event" };

FIXTURE_SETUP(reload)
{
}

FIXTURE_TEARDOWN(reload)
{
	tt_topo_down();
}

/* No bound of its own before: the guest's timeout was the bound. */
TEST_F_TIMEOUT(reload, cycles, 1200)
{
	const char *ko = getenv("TCPTERM_KO"), *hook = variant->hook;
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), nworkers, i, pfd[2];
	int cycles = tt_cycles;
	struct tt_topo t;
	pid_t pids[16];
	long total = 0, bytes;
	bool loaded;

	if (!strcmp(hook, "tcpterm") && !ko)
		SKIP(return, "TCPTERM_KO not set");
	if (tt_hook_setup(hook))
		SKIP(return, "hook %s not available here", hook);
	/* The module stays away during the control runs. */
	loaded = !system("grep -q '^tcpterm ' /proc/modules");
	if (strcmp(hook, "tcpterm") && loaded && system("rmmod tcpterm"))
		TT_FAIL("rmmod before the control run");
	if (!strcmp(hook, "tcpterm") && !loaded && tt_attach(hook, ko, 1))
		TT_FAIL("insmod");

	tt_topo_up(&self->t, 0);
	t = self->t;
	if (pipe(pfd))
		TT_FAIL("pipe");
	nworkers = (ncpu > 8 ? 8 : ncpu) * tt_workers_per_cpu;
	for (i = 0; i < nworkers; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(pfd[0]);
			tt_worker(&t, i % ncpu, pfd[1]);
		}
	}
	/* Only the workers write: a worker that dies makes a short read. */
	close(pfd[1]);
	TT_LOG("hook %s: %d cycles, %d workers on %d CPUs", hook, cycles,
	       nworkers, ncpu);
	for (i = 0; i < cycles; i++) {
		int on = !strcmp(hook, "tcpterm");

		/* tcpterm starts loaded: remove first, as the panic did. */
		tt_msleep(20 + random() % 130);
		if (tt_attach(hook, ko, !on))
			TT_FAIL("cycle %d: %s %s", i, hook, on ? "detach" : "attach");
		tt_msleep(20 + random() % 130);
		if (tt_attach(hook, ko, on))
			TT_FAIL("cycle %d: %s %s", i, hook, on ? "attach" : "detach");
	}
	for (i = 0; i < nworkers; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < nworkers; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			TT_FAIL("worker %d ended with status 0x%x", i, status);
	}
	/* Every worker exited: the pipe holds all it will ever hold. */
	while (read(pfd[0], &bytes, sizeof(bytes)) == sizeof(bytes))
		total += bytes;
	tt_hook_teardown(hook);
	TT_LOG("%d cycles done, %ld KiB exchanged", cycles, total / 1024);
	ASSERT_LT(0, total);
	if (strcmp(hook, "tcpterm") && loaded && tt_attach("tcpterm", ko, 1))
		TT_FAIL("insmod after the control run");
}

TT_HARNESS_ORDER

int main(int argc, char **argv)
{
	static const char * const hooks[] = {
		"tcpterm", "kprobe", "function", "event",
	};
	char hook[32] = "tcpterm", *comma, *args[16] = { argv[0], "-v", hook };
	int i, n = 3;

	if (argc > 1) {
		snprintf(hook, sizeof(hook), "%s", argv[1]);
		comma = strchr(hook, ',');
		if (comma) {
			*comma = 0;
			tt_cycles = atoi(comma + 1);
		}
		for (i = 0; i < (int)ARRAY_SIZE(hooks); i++)
			if (!strcmp(hook, hooks[i]))
				break;
		/* Not HOOK[,CYCLES]: the harness's own selection. */
		if (i == (int)ARRAY_SIZE(hooks))
			return tt_harness_run(argc, argv);
		/* What follows it (-l, say) still counts. */
		for (i = 2; i < argc && n < (int)ARRAY_SIZE(args); i++)
			args[n++] = argv[i];
	}
	return tt_harness_run(n, args);
}
