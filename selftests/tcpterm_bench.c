// SPDX-License-Identifier: GPL-2.0
/*
 * Connection churn, module unloaded vs loaded, in one boot.  A benchmark,
 * not a test: it reports rates and ratios and asserts nothing about time.
 *
 * Each connection: connect, accept, 64 bytes each way, close both ends,
 * over the veth pair between two namespaces.  Rounds alternate the
 * configurations so that drift in the (emulated) machine spreads evenly:
 *
 *   unloaded    no tcpterm at all
 *   loaded      tcpterm loaded, no socket tracked (every hook returns
 *               after one atomic read)
 *   tracked     tcpterm loaded and one unrelated socket tracked, so every
 *               hook also does its hash lookup
 *   policied    every server socket sets TCPTERM_POLICY_HALF_DUPLEX
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "lib.h"

static const int tt_conns = 1000;
static const int tt_rounds = 3;

enum { UNLOADED, LOADED, TRACKED, POLICIED, NCONF };
static const char * const tt_conf_names[NCONF] = {
	"unloaded", "loaded", "tracked", "policied",
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double churn(const struct tt_topo *t, const struct tt_variant *v,
		    int lsn, bool policy)
{
	char buf[64] = { 0 };
	double start = now_s();
	int i, cli, srv, hd = TCPTERM_POLICY_HALF_DUPLEX;

	for (i = 0; i < tt_conns; i++) {
		cli = tt_connect(t, v, lsn);
		srv = tt_accept(t, lsn);
		if (policy)
			tt_set_policy(srv, hd);
		if (send(cli, buf, sizeof(buf), 0) != sizeof(buf) ||
		    recv(srv, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf) ||
		    send(srv, buf, sizeof(buf), 0) != sizeof(buf) ||
		    recv(cli, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf))
			TT_FAIL("exchange");
		close(cli);
		close(srv);
	}
	return tt_conns / (now_s() - start);
}

/* Load or unload tcpterm; the VM starts the benchmark without it. */
static void module(bool load)
{
	static bool loaded;
	char cmd[256];

	if (load == loaded)
		return;
	snprintf(cmd, sizeof(cmd), load ? "insmod %s" : "rmmod tcpterm",
		 getenv("TCPTERM_KO"));
	if (system(cmd))
		TT_FAIL("%s", cmd);
	loaded = load;
}

int main(void)
{
	static const struct tt_variant v4 = { "ipv4", AF_INET, "10.77.0.2", "0.0.0.0" };
	double rate[NCONF] = { 0 };
	struct tt_topo t;
	int lsn, round, c, keep = -1;

	if (!getenv("TCPTERM_KO"))
		TT_SKIP("TCPTERM_KO not set");
	setvbuf(stdout, NULL, _IOLBF, 0);
	tt_topo_up(&t, 0);
	printf("# connection churn: %d connections per run, %d rounds\n",
	       tt_conns, tt_rounds);
	for (round = 0; round < tt_rounds; round++) {
		for (c = 0; c < NCONF; c++) {
			double r;

			module(c != UNLOADED);
			lsn = tt_listen(&t, &v4, -1);
			if (c == TRACKED || c == POLICIED) {
				keep = socket(AF_INET, SOCK_STREAM, 0);
				tt_set_policy(keep, TCPTERM_POLICY_DEFAULT);
			}
			r = churn(&t, &v4, lsn, c == POLICIED);
			printf("# round %d %-9s %8.0f conn/s\n", round,
			       tt_conf_names[c], r);
			rate[c] += r / tt_rounds;
			close(lsn);
			if (keep >= 0)
				close(keep);
			keep = -1;
		}
	}
	printf("# mean rates and ratios to unloaded:\n");
	for (c = 0; c < NCONF; c++)
		printf("#   %-9s %8.0f conn/s  %.3f\n", tt_conf_names[c], rate[c],
		       rate[c] / rate[UNLOADED]);
	return 0;
}
