// SPDX-License-Identifier: GPL-2.0
/*
 * A narrated tour of tcpterm, run by "make demo" inside the test VM.
 * Each scene is played twice: with the stock behaviour, then with the
 * tcpterm option, and says what each application saw.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "lib.h"

static const struct tt_variant v4 = { "ipv4", AF_INET, "10.77.0.2", "0.0.0.0" };

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *outcome(long r)
{
	static char buf[64];

	if (r >= 0)
		snprintf(buf, sizeof(buf), "%ld bytes%s", r, r ? "" : " (EOF)");
	else
		snprintf(buf, sizeof(buf), "error %s", strerrorname_np(-r));
	return buf;
}

static void scene_shut_rd(const struct tt_topo *t, int policy)
{
	struct tt_pair p;
	char buf[256];
	long r;

	tt_pair_open(t, &v4, &p);
	tt_set_policy(p.srv, policy);
	say("  server: shutdown(SHUT_RD)   -- it will read nothing more");
	shutdown(p.srv, SHUT_RD);
	say("  client: send(\"late request\")");
	send(p.cli, "late request", 12, MSG_NOSIGNAL);
	tt_msleep(200);
	r = tt_recv(p.cli, buf, sizeof(buf), 300);
	say("  client: next recv() -> %s", r == -EAGAIN ? "nothing: it believes the request was delivered" : outcome(r));
	r = tt_recv(p.srv, buf, sizeof(buf), 0);
	say("  server: recv() -> %s", outcome(r));
	close(p.cli);
	close(p.srv);
	close(p.lsn);
}

static void scene_crossing(int crossing_error)
{
	struct tcpterm_info info;
	struct tt_topo t;
	struct tt_pair p;
	char buf[64];
	long r;

	tt_topo_up(&t, 50);
	tt_pair_open(&t, &v4, &p);
	tt_set_policy(p.cli, TCPTERM_POLICY_DEFAULT);
	setsockopt(p.cli, SOL_TCPTERM, TCPTERM_CROSSING_ERROR,
		   &crossing_error, sizeof(crossing_error));
	say("  client: send(\"REQUEST\"); shutdown(SHUT_WR)   -- last request, now waits for answers");
	say("  server: shutdown(SHUT_WR)                     -- at the same moment, it shuts down too");
	send(p.cli, "REQUEST", 7, 0);
	shutdown(p.cli, SHUT_WR);
	shutdown(p.srv, SHUT_WR);
	tt_poll(p.cli, POLLIN, 2000);
	tt_msleep(50);
	r = tt_recv(p.cli, buf, sizeof(buf), 0);
	say("  client: recv() -> %s", outcome(r));
	tt_get_info(p.cli, &info);
	say("  client: TCPTERM_INFO flags:%s%s",
	    info.tti_flags & TCPTERM_F_CROSSED ? " CROSSED" : "",
	    info.tti_flags & TCPTERM_F_LATE_DATA ? " LATE_DATA" : "");
	r = tt_recv(p.srv, buf, sizeof(buf), 500);
	say("  server: received %s it can no longer answer", outcome(r));
}

static void scene_pipeline(int policy)
{
	int rcvbuf = 16384, sndbuf = 4 << 20, i;
	static char buf[65536];
	long r, got = 0;
	struct tt_topo t;
	struct tt_pair p;

	tt_topo_up(&t, 0);
	tt_netem(&t, 1, "rate 20mbit limit 1000");
	tt_pair_open(&t, &v4, &p);
	setsockopt(p.cli, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(p.srv, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	tt_set_policy(p.srv, policy);
	say("  client: send(\"GET /a\" \"GET /b\")          -- two pipelined requests");
	send(p.cli, "GET /a\nGET /b\n", 14, 0);
	tt_wait_inq(p.srv, 14);
	recv(p.srv, buf, 7, 0);
	say("  server: reads \"GET /a\", writes a 1 MiB answer, close()");
	memset(buf, 'a', sizeof(buf));
	for (i = 0; i < 16; i++)
		send(p.srv, buf, sizeof(buf), 0);
	close(p.srv);
	while ((r = tt_recv(p.cli, buf, sizeof(buf), 5000)) > 0)
		got += r;
	say("  client: received %ld of 1048576 bytes, then %s", got, outcome(r));
	say("  server: RSTs sent (Tcp OutRsts): %lld",
	    tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	close(p.cli);
	close(p.lsn);
}

/*
 * An HTTP-like keep-alive connection: the server answers a request, then
 * closes the connection for idleness; the client reuses it.  Twice: the
 * client writes just after the server's FIN arrived (its pool did not
 * look yet), and while the FIN is still on the wire (50 ms each way).
 */
static void scene_keepalive(int notice, int cross)
{
	struct tcpterm_info info;
	struct tt_topo t;
	struct tt_pair p;
	char buf[64];
	long r;

	tt_topo_up(&t, 50);
	tt_sysctl(t.cli_ns, "/proc/sys/net/tcpterm/notice", notice ? "1" : "0");
	tt_sysctl(t.srv_ns, "/proc/sys/net/tcpterm/notice", notice ? "1" : "0");
	tt_pair_open(&t, &v4, &p);
	send(p.cli, "GET /1", 6, 0);
	tt_wait_inq(p.srv, 6);
	recv(p.srv, buf, 6, 0);
	send(p.srv, "200 OK", 6, 0);
	r = tt_recv(p.cli, buf, 6, 2000);
	say("  client: GET /1 -> %s; the connection goes back to the pool", outcome(r));
	say("  server: idle too long, close()");
	close(p.srv);
	tt_msleep(cross ? 10 : 200);
	say("  client: reuses it %s: send(\"GET /2\")",
	    cross ? "while the server's FIN is on the wire" :
		    "after the server's FIN arrived");
	r = send(p.cli, "GET /2", 6, MSG_NOSIGNAL);
	say("  client: send() -> %s", outcome(r < 0 ? -errno : r));
	if (r > 0) {
		r = tt_recv(p.cli, buf, sizeof(buf), 2000);
		say("  client: recv() -> %s%s", outcome(r),
		    r == -ESHUTDOWN ? ": not processed, send it again" :
		    r == -ECONNRESET || !r ? ": was GET /2 processed? it cannot know" : "");
	} else if (r == -1 && errno == ESHUTDOWN) {
		say("  client: nothing was sent: it resends GET /2 on a new connection");
	}
	tt_get_info(p.cli, &info);
	say("  client: TCPTERM_INFO flags:%s%s%s%s",
	    info.tti_flags & TCPTERM_F_NOTICE_OK ? " NOTICE_OK" : "",
	    info.tti_flags & TCPTERM_F_NOTICE_RCVD ? " NOTICE_RCVD" : "",
	    info.tti_flags & TCPTERM_F_NOTICE_UNREAD ? " NOTICE_UNREAD" : "",
	    info.tti_flags & ~TCPTERM_F_TRACKED ? "" : " (none)");
	tt_msleep(300);
	say("  server: RSTs sent (Tcp OutRsts): %lld",
	    tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
	close(p.cli);
	close(p.lsn);
}

static void show_counters(const char *who, int ns)
{
	static const char * const names[] = {
		"PolicyRsts", "BytesDiscarded", "Crossings", "LateData",
		"CrossingErrors",
	};
	unsigned int i;

	printf("  /proc/net/tcpterm in %s:", who);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf(" %s=%lld", names[i], tt_stat(ns, names[i]));
	printf("\n");
}

int main(void)
{
	struct tt_topo t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	say("tcpterm demo: two network namespaces joined by a veth pair,");
	say("client 10.77.0.1, server 10.77.0.2.\n");
	tt_topo_up(&t, 0);

	say("Scene 1: the server stops reading, the client keeps talking.");
	say("Stock Linux (TCPTERM_POLICY_DEFAULT):");
	scene_shut_rd(&t, TCPTERM_POLICY_DEFAULT);
	say("With TCPTERM_POLICY_HALF_DUPLEX (RFC 1122 4.2.2.13):");
	scene_shut_rd(&t, TCPTERM_POLICY_HALF_DUPLEX);
	show_counters("the server netns", t.srv_ns);

	say("\nScene 2: both ends half-close at once (50 ms each way, FINs cross).");
	say("Stock Linux: the client cannot tell this from a complete answer.");
	scene_crossing(0);
	say("With TCPTERM_CROSSING_ERROR=1 the client learns the truth:");
	scene_crossing(1);
	say("\nEvery crossing of a tracked socket (of every socket, with the");
	say("sysctl net.tcpterm.watch_all=1) is also counted per netns and");
	say("sent as a generic netlink event (family \"tcpterm\", group \"events\").");

	say("\nScene 3: the server closes with a pipelined request unread");
	say("(20 Mbit/s link, small client window: the answer is still queued).");
	say("Stock Linux: the unread request turns close() into an RST.");
	scene_pipeline(TCPTERM_POLICY_DEFAULT);
	say("With TCPTERM_POLICY_DRAIN the kernel lingers for the orphan:");
	scene_pipeline(TCPTERM_POLICY_DRAIN);

	say("\nScene 4: a keep-alive connection closed for idleness, reused by the");
	say("client at that moment (50 ms each way).  Stock Linux:");
	scene_keepalive(0, 0);
	scene_keepalive(0, 1);
	say("With the closing notice (net.tcpterm.notice=1 in both namespaces,");
	say("programs unchanged: the two kernels agree in the handshake):");
	scene_keepalive(1, 0);
	scene_keepalive(1, 1);
	return 0;
}
