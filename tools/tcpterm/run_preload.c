// SPDX-License-Identifier: GPL-2.0
/*
 * libtcpterm-run.so: loaded with LD_PRELOAD by "tcpterm run", it gives
 * every TCP socket the program creates with socket(2) (AF_INET or
 * AF_INET6, SOCK_STREAM, protocol 0 or IPPROTO_TCP) the options named in
 * the environment:
 *
 *   TCPTERM_RUN_POLICY          TCPTERM_POLICY, a number
 *   TCPTERM_RUN_DRAIN_TIME_MS   TCPTERM_DRAIN_TIME_MS
 *   TCPTERM_RUN_DRAIN_IDLE_MS   TCPTERM_DRAIN_IDLE_MS
 *   TCPTERM_RUN_GRACE_MS        TCPTERM_GRACE_MS
 *   TCPTERM_RUN_CROSSING_ERROR  TCPTERM_CROSSING_ERROR
 *
 * Sockets accepted from a listener inherit the listener's options in the
 * kernel, so socket() is the one call to wrap.  A failed setsockopt()
 * (the module unloaded since) leaves the socket as it was; socket()
 * returns what it returned without the library, errno included.  Nothing
 * is ever printed: the program's descriptor 2 may be anything.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <linux/tcpterm.h>

/* The socket type without SOCK_NONBLOCK and SOCK_CLOEXEC. */
#define TCPTERM_SOCK_TYPE_MASK	0xf

static int (*real_socket)(int domain, int type, int protocol);

static const struct {
	const char *env;
	int optname;
} run_opts[] = {
	/* The policy first: it is what makes the socket tracked. */
	{ "TCPTERM_RUN_POLICY",		TCPTERM_POLICY },
	{ "TCPTERM_RUN_DRAIN_TIME_MS",	TCPTERM_DRAIN_TIME_MS },
	{ "TCPTERM_RUN_DRAIN_IDLE_MS",	TCPTERM_DRAIN_IDLE_MS },
	{ "TCPTERM_RUN_GRACE_MS",	TCPTERM_GRACE_MS },
	{ "TCPTERM_RUN_CROSSING_ERROR",	TCPTERM_CROSSING_ERROR },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define RUN_NOPTS	ARRAY_SIZE(run_opts)

static int run_val[RUN_NOPTS];
static int run_set[RUN_NOPTS];

static void tcpterm_run_init(void) __attribute__((constructor));

static void tcpterm_run_init(void)
{
	unsigned int i;

	real_socket = dlsym(RTLD_NEXT, "socket");
	for (i = 0; i < RUN_NOPTS; i++) {
		const char *s = getenv(run_opts[i].env);
		char *end;
		long v;

		if (!s || !*s)
			continue;
		errno = 0;
		v = strtol(s, &end, 10);
		/* tcpterm run wrote these: anything else is ignored. */
		if (errno || *end || v < 0 || v > INT_MAX)
			continue;
		run_val[i] = (int)v;
		run_set[i] = 1;
	}
}

static int tcpterm_run_wanted(int domain, int type, int protocol)
{
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type & TCPTERM_SOCK_TYPE_MASK) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

int socket(int domain, int type, int protocol)
{
	unsigned int i;
	int fd, saved;

	if (!real_socket) {
		real_socket = dlsym(RTLD_NEXT, "socket");
		if (!real_socket) {
			errno = EAFNOSUPPORT;
			return -1;
		}
	}
	fd = real_socket(domain, type, protocol);
	if (fd < 0 || !tcpterm_run_wanted(domain, type, protocol))
		return fd;

	saved = errno;
	for (i = 0; i < RUN_NOPTS; i++) {
		if (!run_set[i])
			continue;
		if (setsockopt(fd, SOL_TCPTERM, run_opts[i].optname,
			       &run_val[i], sizeof(run_val[i])) &&
		    errno == ENOPROTOOPT)
			break;	/* no module: nothing else will work */
	}
	errno = saved;
	return fd;
}
