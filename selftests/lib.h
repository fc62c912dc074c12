/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the tcpterm selftests: a fresh two-namespace topology
 * per test case, socket pairs across it, and the counters that show what
 * crossed the wire.  iproute2 is called by full path: busybox's shell
 * prefers its own applets to PATH.
 *
 *   netns tt-cli-PID                     netns tt-srv-PID
 *   +-------------------+               +-------------------+
 *   | veth0 10.77.0.1   |<------------->| veth1 10.77.0.2   |
 *   |       fd77::1     |  (netem opt.) |       fd77::2     |
 *   +-------------------+               +-------------------+
 */
#ifndef TCPTERM_LIB_H
#define TCPTERM_LIB_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../uapi/linux/tcpterm.h"

/* kselftest exit codes (kselftest.h has the same). */
#ifndef KSFT_PASS
#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4
#endif

/* How a socket pair is addressed: one per address family tested. */
struct tt_variant {
	const char *name;
	int family;		/* socket family of both ends */
	const char *srv_addr;	/* what the client connects to */
	const char *srv_bind;	/* what the server binds */
};

extern const struct tt_variant tt_ipv4, tt_ipv6, tt_mapped;

/*
 * Scale a wait by TCPTERM_TIME_SCALE (default 1): slow kernels (KASAN
 * and lockdep under emulation) get longer upper bounds.  Only waits that
 * end as soon as the awaited event happens are scaled.
 */
int tt_scaled(int ms);

/*
 * A helper that cannot go on fails the test: TT_FAIL prints where and
 * why, deletes the namespaces this process made, then calls the hook
 * the test harness installed (which ends the test as a failed
 * assertion, teardown included), or without one exits with KSFT_FAIL.
 * The tools (bench, demo) have no harness: TT_SKIP and TT_LOG are for
 * them; a test skips with the harness's SKIP().
 */
extern void (*tt_fail_hook)(void);
void __attribute__((noreturn)) tt_fail_now(void);

#define TT_FAIL(fmt, ...) do {						\
	printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);	\
	fflush(stdout);							\
	tt_fail_now();							\
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

struct tt_topo {
	int cli_ns;
	int srv_ns;
	char cli[32];
	char srv[32];
};

struct tt_pair {
	int cli;	/* client socket, netns cli */
	int srv;	/* accepted socket, netns srv */
	int lsn;	/* listener, netns srv */
};

/* Build the topology; delay_ms > 0 adds netem delay on both veths. */
void tt_topo_up(struct tt_topo *t, int delay_ms);
/*
 * Delete every namespace this process made (at exit too; a process
 * forked from it deletes none of them).
 */
void tt_topo_down(void);
void tt_enter(int ns);
/* Print both namespaces' TCP sockets (ss) as KTAP diagnostics. */
void tt_dump(const struct tt_topo *t);
/* netem with @args (e.g. "rate 20mbit") on the egress of srv or cli. */
void tt_netem(const struct tt_topo *t, int srv, const char *args);

/* Listener in srv (policy < 0: leave the listener untracked). */
int tt_listen(const struct tt_topo *t, const struct tt_variant *v,
	      int policy);
int tt_connect(const struct tt_topo *t, const struct tt_variant *v, int lsn);
int tt_accept(const struct tt_topo *t, int lsn);
/* The local port of @fd, host order. */
int tt_port(int fd);
/* The address a client of listener @lsn connects to. */
socklen_t tt_server_addr(const struct tt_variant *v, int lsn,
			 struct sockaddr_storage *ss);
/* Write @val to the sysctl file @path inside namespace @ns. */
void tt_sysctl(int ns, const char *path, const char *val);
void tt_pair_open(const struct tt_topo *t, const struct tt_variant *v,
		  struct tt_pair *p);

/* setsockopt(SOL_TCPTERM) of an int option; fails the test on error. */
void tt_set_int(int fd, int opt, int val);
void tt_set_policy(int fd, int policy);
void tt_get_info(int fd, struct tcpterm_info *info);

/* Wait until @fd has at least @n bytes queued to read. */
void tt_wait_inq(int fd, int n);
/* Wait for readability or error, then recv: bytes, or -errno. */
long tt_recv(int fd, void *buf, size_t len, int timeout_ms);
/* Send exactly @n bytes of filler. */
void tt_send(int fd, size_t n);
/* @fd's TCP state (tcpi_state of TCP_INFO). */
int tt_tcp_state(int fd);
/* Wait until the kernel has closed @fd's connection; its tcpi_state. */
int tt_wait_closed(int fd, int timeout_ms);
/*
 * @fd had read our FIN (CLOSE_WAIT) and must now be reset: tcp_reset()
 * reports EPIPE there and read() keeps returning EOF, so wait for the
 * state and check SO_ERROR.
 */
void tt_expect_reset_in_close_wait(int fd, int timeout_ms);
/* SO_ERROR of @fd (reading it clears it). */
int tt_so_error(int fd);
/* poll() events of @fd after up to @timeout_ms. */
short tt_poll(int fd, short events, int timeout_ms);
void tt_msleep(int ms);

/* Counters read inside namespace @ns. */
long long tt_snmp(int ns, const char *table, const char *field);
long long tt_stat(int ns, const char *name);	/* /proc/net/tcpterm */

/*
 * Are tcpterm's hooks on shared paths attached (module/gate.c)?  1 or
 * 0 by enabled_functions (tcp_reset listed), -1 without tracefs.
 */
int tt_gate_open(void);

/* Network byte order in packets the tests build and read. */
uint16_t tt_get16(const uint8_t *p);
uint32_t tt_get32(const uint8_t *p);
void tt_put16(uint8_t *p, uint16_t v);
void tt_put32(uint8_t *p, uint32_t v);
/* Internet checksum: add @n bytes at @p to @sum; fold and invert. */
uint32_t tt_csum_add(uint32_t sum, const uint8_t *p, int n);
uint16_t tt_csum_fold(uint32_t sum);
/* TCP checksum of @tlen bytes at @th, from @src to @dst (@alen 4 or 16). */
uint16_t tt_tcp_csum(const uint8_t *src, const uint8_t *dst, int alen,
		     const uint8_t *th, int tlen);

struct tt_event {
	int kind, family, reason;
	uint16_t sport, dport;	/* host order */
	uint8_t saddr[16], daddr[16];
	int alen;		/* 4 or 16 */
	uint32_t netns_ino;
	uint64_t cookie;	/* from TCPTERM_A_SOCK, as SO_COOKIE */
	int state;		/* from TCPTERM_A_SOCK: TCP_* */
};

struct nlattr;
/* The first attribute of @type in the @len bytes at @data, or NULL. */
struct nlattr *tt_nla_find(void *data, int len, int type);
/* Generic netlink: subscribe to tcpterm events in @ns. */
int tt_events_open(int ns);
/* The same in two steps: a socket in @ns, then joining the group. */
int tt_genl_events_socket(int ns);
/* The id of the tcpterm family, asked on the netlink socket @fd. */
int tt_genl_family(int fd);
int tt_genl_join_events(int fd);
/*
 * Next event of @kind within @timeout_ms: 0 and the event, or -1.  The
 * socket of every event is checked twice: TCPTERM_A_SOCK (typed, network
 * order) must say what the version 1 attributes say.
 */
int tt_events_next(int fd, int kind, struct tt_event *ev, int timeout_ms);
/* One counter of @ns, asked with TCPTERM_CMD_GET_STATS. */
long long tt_genl_stat(int ns, int stat);
/*
 * Receive memory (SK_MEMINFO_RMEM_ALLOC, sock_diag) summed over the TCP
 * sockets of @family in @ns, listeners left out; *nsocks counts them.
 */
long long tt_rmem(int ns, int family, int *nsocks);
/* Inode of the network namespace @ns. */
uint32_t tt_netns_ino(int ns);
/* SO_COOKIE of @fd, as ss -e prints it. */
uint64_t tt_sock_cookie(int fd);

#endif /* TCPTERM_LIB_H */
