// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile segments: a policy acts only on segments the TCP stack itself
 * accepts as in-window, timestamp-valid data.  Everything else must get
 * exactly the stock answer: a duplicate ACK, a challenge ACK or silence,
 * never the policy's RST and never an acknowledgment of the bytes.
 *
 * A real connection runs between the client and the victim (the server's
 * accepted socket).  A tap in the client namespace, an AF_PACKET socket
 * on veth0, sees both directions of it, so it knows the victim's rcv_nxt
 * (the client's snd_nxt), its snd_nxt, both ends' last TSval and the
 * victim's window and scale.  With them it writes one crafted segment to
 * the victim, as if from the client:
 *
 *   paws    in-window data at rcv_nxt, TSval far before ts_recent
 *   oldack  data at rcv_nxt whose ACK is before snd_una - max_window
 *           (RFC 5961 5.2)
 *   noack   data at rcv_nxt without the ACK flag
 *   edge    data starting exactly at the right edge of the window
 *   rst     an RST inside the window but not at rcv_nxt (RFC 5961 3.2)
 *
 * to a victim in one of three setups:
 *
 *   stock   no policy, shutdown(SHUT_RD) done: the reference
 *   hd      TCPTERM_POLICY_HALF_DUPLEX, shutdown(SHUT_RD) done
 *   drain   TCPTERM_POLICY_DRAIN, closed with input unread: an orphan
 *           draining in FIN_WAIT2, limits far away
 *
 * Then it records what the victim sends back and asserts: no RST, every
 * answer acknowledges rcv_nxt exactly, as many answers as stock sends
 * (one pure ACK without SACK, or none for noack), the stock counter of
 * the rejection moved (PAWSEstab, TCPChallengeACK), no byte counted as
 * discarded.  Last, a real segment from the client socket must still be
 * handled as the setup handles data: stock queues it (and the server
 * reads the client's bytes, not the crafted ones), hd resets with
 * TCPTERM_RST_DATA_AFTER_SHUTDOWN, drain acknowledges and discards it.
 *
 * The stock setup checks that these are stock's answers on the kernel
 * at hand; the policies must give the same, with one exception: stock
 * resets an orphan in FIN_WAIT2 on an edge segment (tcp_sequence() lets
 * seq == rcv_nxt + window pass, then data after close() aborts).  The
 * segment is out of the window (RFC 9293 3.10.7.4) and a draining socket
 * does not reset for input before its limits, so drain must answer it as
 * ESTABLISHED answers out-of-window data (tcp_data_queue()): one ACK.
 *
 *   netns tt-cli                              netns tt-srv
 *   +--------------------------+              +-------------------+
 *   | client socket            |              | victim: accepted  |
 *   | tap: AF_PACKET on veth0, | veth0  veth1 | socket, stock, hd |
 *   |   reads both ways,       |<------------>| or drain orphan   |
 *   |   writes crafted segment |              |                   |
 *   +--------------------------+              +-------------------+
 *
 * On kselftest_harness.h: FIXTURE(hostile) brings the namespaces up; its
 * variants are the setups times the families (stock_ipv4 ... drain_ipv6),
 * one TEST_F per kind of segment: hostile.hd_ipv6.paws and so on.
 */
#define _GNU_SOURCE
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"

/* TCP header flags. */
#define TT_FIN	0x01
#define TT_SYN	0x02
#define TT_RST	0x04
#define TT_PSH	0x08
#define TT_ACK	0x10

/* The tap's own segments carry this TTL (hop limit), the stack's 64. */
#define TT_TAP_TTL	255

/* Bytes of a crafted segment, and of the real ones. */
static const int tt_len = 100;
/* The wire is quiet when nothing came for this long. */
static const int tt_quiet_ms = 300;
/* How far before ts_recent the stale TSval is, in its units (ms). */
static const __u32 tt_paws_back = 1000000;
/* How far before snd_una the impossible ACK is. */
static const __u32 tt_ack_back = 0x40000000;

/* One TCP segment of the connection, as seen on veth0. */
struct tt_seg {
	bool in;		/* sent by the victim */
	__u8 flags;
	__u16 win;		/* as on the wire, unscaled */
	__u32 seq, ack;
	int len;		/* payload */
	bool ts, sack;
	__u32 tsval, tsecr;
	int wscale;		/* -1: no option */
};

struct tt_tap {
	int fd, ifindex, alen;
	__u8 mac[6];		/* the victim's */
	__u8 cli[16], srv[16];	/* addresses, network order */
	__u16 cport, sport;	/* ports, network order */
	bool cli_seen, srv_seen, edge_seen;
	/* What the client sent: its snd_nxt is the victim's rcv_nxt. */
	__u32 cli_nxt, cli_ack, cli_tsval;
	__u16 cli_win;
	/* What the victim sent. */
	__u32 srv_nxt, srv_ack, srv_tsval, srv_edge;
	int srv_wscale;
};

static bool tt_after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

static long long tt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void tt_tap_open(const struct tt_topo *t, struct tt_tap *tap)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};

	memset(tap, 0, sizeof(*tap));
	tt_enter(t->cli_ns);
	tap->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 htons(ETH_P_ALL));
	if (tap->fd < 0)
		TT_FAIL("AF_PACKET socket");
	tap->ifindex = if_nametoindex("veth0");
	if (!tap->ifindex)
		TT_FAIL("no veth0");
	sll.sll_ifindex = tap->ifindex;
	if (bind(tap->fd, (struct sockaddr *)&sll, sizeof(sll)))
		TT_FAIL("bind AF_PACKET to veth0");
	tap->srv_wscale = -1;
}

/* The connection of the client socket @fd is the one to watch. */
static void tt_tap_conn(struct tt_tap *tap, int fd)
{
	struct sockaddr_storage a, b;
	socklen_t al = sizeof(a), bl = sizeof(b);

	if (getsockname(fd, (struct sockaddr *)&a, &al) ||
	    getpeername(fd, (struct sockaddr *)&b, &bl))
		TT_FAIL("getsockname/getpeername");
	if (a.ss_family == AF_INET) {
		struct sockaddr_in *ca = (void *)&a, *sa = (void *)&b;

		tap->alen = 4;
		memcpy(tap->cli, &ca->sin_addr, 4);
		memcpy(tap->srv, &sa->sin_addr, 4);
		tap->cport = ca->sin_port;
		tap->sport = sa->sin_port;
	} else {
		struct sockaddr_in6 *ca = (void *)&a, *sa = (void *)&b;

		if (IN6_IS_ADDR_V4MAPPED(&ca->sin6_addr))
			TT_FAIL("the tap does not follow mapped addresses");
		tap->alen = 16;
		memcpy(tap->cli, &ca->sin6_addr, 16);
		memcpy(tap->srv, &sa->sin6_addr, 16);
		tap->cport = ca->sin6_port;
		tap->sport = sa->sin6_port;
	}
}

static void tt_parse_options(const __u8 *o, int n, struct tt_seg *s)
{
	int i = 0;

	while (i < n && o[i] != 0) {
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return;
		if (o[i] == 8 && o[i + 1] == 10) {
			s->ts = true;
			s->tsval = tt_get32(o + i + 2);
			s->tsecr = tt_get32(o + i + 6);
		} else if (o[i] == 3 && o[i + 1] == 3) {
			s->wscale = o[i + 2];
		} else if (o[i] == 5) {
			s->sack = true;
		}
		i += o[i + 1];
	}
}

/*
 * A segment of the connection in @p (an IP packet of @n bytes)?  The
 * tap's own packets (TTL 255) are not the client's.
 */
static bool tt_tap_parse(const struct tt_tap *tap, const __u8 *p, int n,
			 struct tt_seg *s)
{
	const __u8 *src, *dst, *th;
	int hlen, plen, ttl, doff;

	if (n < 1 || (tap->alen == 4 && p[0] >> 4 != 4) ||
	    (tap->alen == 16 && p[0] >> 4 != 6))
		return false;
	if (tap->alen == 4) {
		hlen = (p[0] & 15) * 4;
		if (n < 20 || hlen < 20 || p[9] != IPPROTO_TCP)
			return false;
		plen = tt_get16(p + 2) - hlen;
		ttl = p[8];
		src = p + 12;
		dst = p + 16;
	} else {
		hlen = 40;
		if (n < 40 || p[6] != IPPROTO_TCP)
			return false;
		plen = tt_get16(p + 4);
		ttl = p[7];
		src = p + 8;
		dst = p + 24;
	}
	if (plen < 20 || hlen + plen > n)
		return false;
	th = p + hlen;
	memset(s, 0, sizeof(*s));
	s->wscale = -1;
	if (!memcmp(src, tap->cli, tap->alen) &&
	    !memcmp(dst, tap->srv, tap->alen) &&
	    !memcmp(th, &tap->cport, 2) && !memcmp(th + 2, &tap->sport, 2)) {
		if (ttl == TT_TAP_TTL)
			return false;
		s->in = false;
	} else if (!memcmp(src, tap->srv, tap->alen) &&
		   !memcmp(dst, tap->cli, tap->alen) &&
		   !memcmp(th, &tap->sport, 2) &&
		   !memcmp(th + 2, &tap->cport, 2)) {
		s->in = true;
	} else {
		return false;
	}
	doff = (th[12] >> 4) * 4;
	if (doff < 20 || doff > plen)
		return false;
	s->seq = tt_get32(th + 4);
	s->ack = tt_get32(th + 8);
	s->flags = th[13];
	s->win = tt_get16(th + 14);
	s->len = plen - doff;
	tt_parse_options(th + 20, doff - 20, s);
	return true;
}

/* What @s tells about the two ends. */
static void tt_tap_note(struct tt_tap *tap, const struct tt_seg *s)
{
	__u32 end = s->seq + s->len + !!(s->flags & TT_SYN) +
		    !!(s->flags & TT_FIN);

	if (!s->in) {
		if (!tap->cli_seen || tt_after(end, tap->cli_nxt))
			tap->cli_nxt = end;
		tap->cli_seen = true;
		if (s->flags & TT_ACK)
			tap->cli_ack = s->ack;
		if (!(s->flags & TT_SYN))
			tap->cli_win = s->win;
		if (s->ts)
			tap->cli_tsval = s->tsval;
		return;
	}
	if (s->flags & TT_RST)
		return;
	if (!tap->srv_seen || tt_after(end, tap->srv_nxt))
		tap->srv_nxt = end;
	tap->srv_seen = true;
	if (s->ts)
		tap->srv_tsval = s->tsval;
	if (s->flags & TT_SYN) {
		tap->srv_wscale = s->wscale < 0 ? 0 : s->wscale;
		return;
	}
	tap->srv_ack = s->ack;
	/* The victim never shrinks its window: the last edge is the largest. */
	end = s->ack + ((__u32)s->win << tap->srv_wscale);
	if (!tap->edge_seen || tt_after(end, tap->srv_edge))
		tap->srv_edge = end;
	tap->edge_seen = true;
}

/* The next segment of the connection within @timeout_ms, if any. */
static bool tt_tap_next(struct tt_tap *tap, struct tt_seg *s, int timeout_ms)
{
	static __u8 buf[70000];
	long long end = tt_now_ms() + timeout_ms, left;
	struct sockaddr_ll sll;
	socklen_t sl;
	ssize_t n;

	for (;;) {
		sl = sizeof(sll);
		n = recvfrom(tap->fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&sll, &sl);
		if (n < 0 && errno != EAGAIN)
			TT_FAIL("tap recvfrom");
		if (n > 0 && tt_tap_parse(tap, buf, n, s)) {
			if (s->in && sll.sll_halen == 6)
				memcpy(tap->mac, sll.sll_addr, 6);
			tt_tap_note(tap, s);
			return true;
		}
		if (n > 0)
			continue;
		left = end - tt_now_ms();
		if (left <= 0)
			return false;
		tt_poll(tap->fd, POLLIN, (int)left);
	}
}

/*
 * Read the wire until nothing is in flight: each end has acknowledged all
 * the other sent, and nothing came for a while.
 */
static void tt_tap_settle(struct tt_tap *tap)
{
	long long end = tt_now_ms() + tt_scaled(5000);
	struct tt_seg s;

	for (;;) {
		if (tt_tap_next(tap, &s, 100))
			continue;
		if (tap->cli_seen && tap->srv_seen && tap->edge_seen &&
		    tap->srv_ack == tap->cli_nxt && tap->cli_ack == tap->srv_nxt)
			return;
		if (tt_now_ms() > end)
			TT_FAIL("not settled: client sent %u acked %u, victim sent %u acked %u",
				tap->cli_nxt, tap->cli_ack, tap->srv_nxt,
				tap->srv_ack);
	}
}

/*
 * Write one segment to the victim as if from the client: @flags, @seq,
 * @ack, the timestamps @tsval/@tsecr, the client's last window, and
 * @len bytes of 'E'.
 */
static void tt_tap_send(struct tt_tap *tap, __u8 flags, __u32 seq,
			__u32 ack, __u32 tsval, __u32 tsecr, int len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = tap->ifindex,
		.sll_halen = 6,
	};
	int hlen = tap->alen == 4 ? 20 : 40, tlen = 32 + len;
	__u8 pkt[40 + 32 + 1500] = { 0 }, *th = pkt + hlen;

	if (len > 1500)
		TT_FAIL("segment too long");
	/* IP header, TTL (hop limit) 255: the tap's own, not the client's. */
	if (tap->alen == 4) {
		pkt[0] = 0x45;
		tt_put16(pkt + 2, hlen + tlen);
		tt_put16(pkt + 6, 0x4000);	/* DF */
		pkt[8] = TT_TAP_TTL;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, tap->cli, 4);
		memcpy(pkt + 16, tap->srv, 4);
		tt_put16(pkt + 10, tt_csum_fold(tt_csum_add(0, pkt, 20)));
		sll.sll_protocol = htons(ETH_P_IP);
	} else {
		pkt[0] = 0x60;
		tt_put16(pkt + 4, tlen);
		pkt[6] = IPPROTO_TCP;
		pkt[7] = TT_TAP_TTL;
		memcpy(pkt + 8, tap->cli, 16);
		memcpy(pkt + 24, tap->srv, 16);
		sll.sll_protocol = htons(ETH_P_IPV6);
	}
	/* TCP header, NOP NOP TS, payload. */
	memcpy(th, &tap->cport, 2);
	memcpy(th + 2, &tap->sport, 2);
	tt_put32(th + 4, seq);
	tt_put32(th + 8, ack);
	th[12] = (32 / 4) << 4;
	th[13] = flags;
	tt_put16(th + 14, tap->cli_win);
	th[20] = 1;
	th[21] = 1;
	th[22] = 8;
	th[23] = 10;
	tt_put32(th + 24, tsval);
	tt_put32(th + 28, tsecr);
	memset(th + 32, 'E', len);
	tt_put16(th + 16, tt_tcp_csum(tap->cli, tap->srv, tap->alen, th, tlen));

	memcpy(sll.sll_addr, tap->mac, 6);
	if (sendto(tap->fd, pkt, hlen + tlen, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) != hlen + tlen)
		TT_FAIL("tap sendto");
}

/*
 * What the victim sends back: the first answer is awaited (scaled) when
 * one is expected, then anything else until the wire is quiet.  Stock
 * answers from the softirq that received the segment, the policy RST
 * from a work item: either is there within milliseconds.
 */
static int tt_tap_answers(struct tt_tap *tap, struct tt_seg *ans, int max,
			  bool expected)
{
	int n = 0, wait = expected ? tt_scaled(1000) : tt_quiet_ms;
	struct tt_seg s;

	while (tt_tap_next(tap, &s, wait)) {
		if (!s.in)
			continue;
		if (n == max)
			TT_FAIL("more than %d answers", max);
		ans[n++] = s;
		wait = tt_quiet_ms;
	}
	return n;
}

enum tt_setup { TT_STOCK, TT_HD, TT_DRAIN };

enum tt_kind { TT_PAWS, TT_OLD_ACK, TT_NO_ACK, TT_EDGE, TT_RST_OOO };

static const char * const tt_setup_name[] = {
	[TT_STOCK] = "stock", [TT_HD] = "half-duplex", [TT_DRAIN] = "drain",
};

/*
 * Stock's answer to each kind, from ESTABLISHED and FIN_WAIT2 alike
 * (but edge, see above): @acks pure ACKs of rcv_nxt, and the TcpExt
 * counter that counts the rejection (NULL: none does).
 */
static const struct {
	const char *what;
	int acks;
	const char *mib;
} tt_kinds[] = {
	[TT_PAWS]	= { "data with a stale timestamp", 1, "PAWSEstab" },
	[TT_OLD_ACK]	= { "data with an impossibly old ACK", 1,
			    "TCPChallengeACK" },
	[TT_NO_ACK]	= { "data without ACK", 0, NULL },
	[TT_EDGE]	= { "data at the right edge of the window", 1, NULL },
	[TT_RST_OOO]	= { "an in-window RST not at rcv_nxt", 1,
			    "TCPChallengeACK" },
};

struct tt_counts {
	long long mib, skipped, out_rsts, policy_rsts, discarded;
};

static void tt_counts(const struct tt_topo *t, enum tt_kind kind,
		      bool module, struct tt_counts *c)
{
	const char *mib = tt_kinds[kind].mib;

	c->mib = mib ? tt_snmp(t->srv_ns, "TcpExt", mib) : 0;
	c->skipped = tt_snmp(t->srv_ns, "TcpExt", "TCPACKSkippedChallenge") +
		     tt_snmp(t->srv_ns, "TcpExt", "TCPACKSkippedPAWS");
	c->out_rsts = tt_snmp(t->srv_ns, "Tcp", "OutRsts");
	c->policy_rsts = module ? tt_stat(t->srv_ns, "PolicyRsts") : 0;
	c->discarded = module ? tt_stat(t->srv_ns, "BytesDiscarded") : 0;
}

/* Is the module loaded (its counters there)?  Stock runs without it. */
static bool tt_module(const struct tt_topo *t)
{
	tt_enter(t->srv_ns);
	return !access("/proc/self/net/tcpterm", R_OK);
}

static void tt_log_seg(const char *who, const struct tt_seg *s,
		       __u32 rcv_nxt)
{
	TT_LOG("%s: %s%s%s%s%s len %d ack rcv_nxt%+d%s", who,
	       s->flags & TT_SYN ? "SYN " : "", s->flags & TT_FIN ? "FIN " : "",
	       s->flags & TT_RST ? "RST " : "", s->flags & TT_PSH ? "PSH " : "",
	       s->flags & TT_ACK ? "ACK" : "", s->len,
	       (__s32)(s->ack - rcv_nxt), s->sack ? " SACK" : "");
}

/*
 * The victim after its setup: p->srv is -1 for the drain orphan.  Data
 * went both ways first, so timestamps are in use and the victim's
 * bytes_acked bounds the ACKs it accepts.
 */
static void tt_victim(struct __test_metadata *_metadata,
		      const struct tt_topo *t, enum tt_setup setup,
		      struct tt_pair *p)
{
	char buf[256];

	tt_send(p->cli, tt_len);
	tt_wait_inq(p->srv, tt_len);
	ASSERT_EQ(tt_len, recv(p->srv, buf, sizeof(buf), 0));
	tt_send(p->srv, tt_len);
	tt_wait_inq(p->cli, tt_len);
	ASSERT_EQ(tt_len, recv(p->cli, buf, sizeof(buf), 0));

	switch (setup) {
	case TT_STOCK:
		ASSERT_EQ(0, shutdown(p->srv, SHUT_RD));
		break;
	case TT_HD:
		tt_set_policy(p->srv, TCPTERM_POLICY_HALF_DUPLEX);
		ASSERT_EQ(0, shutdown(p->srv, SHUT_RD));
		break;
	case TT_DRAIN:
		tt_set_policy(p->srv, TCPTERM_POLICY_DRAIN);
		tt_set_int(p->srv, TCPTERM_DRAIN_TIME_MS, TCPTERM_MS_MAX);
		tt_set_int(p->srv, TCPTERM_DRAIN_IDLE_MS, TCPTERM_MS_MAX);
		tt_send(p->cli, tt_len);
		tt_wait_inq(p->srv, tt_len);
		close(p->srv);
		p->srv = -1;
		ASSERT_EQ(0, tt_recv(p->cli, buf, sizeof(buf), 2000));
		ASSERT_EQ(1, tt_stat(t->srv_ns, "Drains"));
		break;
	}
}

/* Send the crafted segment of @kind; returns its sequence number. */
static __u32 tt_craft(struct tt_tap *tap, enum tt_kind kind)
{
	__u32 seq = tap->cli_nxt, ack = tap->cli_ack;
	__u32 tsval = tap->cli_tsval, tsecr = tap->srv_tsval;
	__u8 flags = TT_ACK | TT_PSH;
	int len = tt_len;

	switch (kind) {
	case TT_PAWS:
		tsval -= tt_paws_back;
		break;
	case TT_OLD_ACK:
		ack -= tt_ack_back;
		break;
	case TT_NO_ACK:
		flags = TT_PSH;
		break;
	case TT_EDGE:
		seq = tap->srv_edge;
		break;
	case TT_RST_OOO:
		seq += 1000;
		flags = TT_RST | TT_ACK;
		len = 0;
		break;
	}
	tt_tap_send(tap, flags, seq, ack, tsval, tsecr, len);
	return seq;
}

static void hostile(struct __test_metadata *_metadata,
		    const struct tt_variant *v, const struct tt_topo *tp,
		    enum tt_setup setup, enum tt_kind kind)
{
	const char *what = tt_kinds[kind].what, *name = tt_setup_name[setup];
	struct tcpterm_info info0, info;
	struct tt_counts c0, c;
	struct tt_seg ans[8];
	struct tt_topo t = *tp;
	struct tt_pair p;
	struct tt_tap tap;
	__u32 rcv_nxt;
	char buf[512];
	bool module;
	int i, n;

	tt_tap_open(&t, &tap);
	tt_pair_open(&t, v, &p);
	tt_tap_conn(&tap, p.cli);
	module = setup != TT_STOCK || tt_module(&t);
	tt_victim(_metadata, &t, setup, &p);
	tt_tap_settle(&tap);
	if (!tap.cli_tsval || !tap.srv_tsval || !tap.cli_win)
		TT_FAIL("no timestamps or window on the wire");
	rcv_nxt = tap.cli_nxt;
	TT_LOG("victim: rcv_nxt %u, window %u (scale %d), snd_nxt %u",
	       rcv_nxt, tap.srv_edge - rcv_nxt, tap.srv_wscale, tap.srv_nxt);
	if (tap.srv_edge - rcv_nxt < 4 * 1000)
		TT_FAIL("window of %u bytes too small", tap.srv_edge - rcv_nxt);
	if (setup == TT_HD)
		tt_get_info(p.srv, &info0);
	tt_counts(&t, kind, module, &c0);

	TT_LOG("%s victim, sending %s (seq rcv_nxt%+d)", name, what,
	       (__s32)(tt_craft(&tap, kind) - rcv_nxt));
	n = tt_tap_answers(&tap, ans, 8, tt_kinds[kind].acks);
	for (i = 0; i < n; i++)
		tt_log_seg("answer", &ans[i], rcv_nxt);
	if (!n)
		TT_LOG("answer: none");
	tt_counts(&t, kind, module, &c);

	for (i = 0; i < n; i++)
		if (ans[i].flags & TT_RST)
			TT_FAIL("%s: the victim answered %s with RST; stock answers %s",
				name, what, tt_kinds[kind].acks ?
				"with a pure ACK of rcv_nxt" : "nothing");
	for (i = 0; i < n; i++)
		if (ans[i].ack != rcv_nxt)
			TT_FAIL("%s: the victim acknowledged %d bytes of %s",
				name, (__s32)(ans[i].ack - rcv_nxt), what);
	for (i = 0; i < n; i++)
		if (ans[i].len || (ans[i].flags & (TT_SYN | TT_FIN)) ||
		    ans[i].sack)
			TT_FAIL("%s: the answer to %s is not a pure ACK",
				name, what);
	if (n != tt_kinds[kind].acks)
		TT_FAIL("%s: the victim answered %s with %d ACKs; stock sends %d",
			name, what, n, tt_kinds[kind].acks);
	if (tt_kinds[kind].mib && c.mib != c0.mib + 1)
		TT_FAIL("%s: TcpExt %s moved by %lld, not 1: the stack did not reject %s",
			name, tt_kinds[kind].mib, c.mib - c0.mib, what);
	ASSERT_EQ(c0.skipped, c.skipped);
	ASSERT_EQ(c0.out_rsts, c.out_rsts);
	ASSERT_EQ(c0.policy_rsts, c.policy_rsts);
	ASSERT_EQ(c0.discarded, c.discarded);
	if (setup == TT_HD) {
		tt_get_info(p.srv, &info);
		ASSERT_EQ(info0.tti_bytes_discarded, info.tti_bytes_discarded);
		ASSERT_EQ(0, info.tti_flags & TCPTERM_F_RST_SENT);
	}
	ASSERT_EQ(0, tt_so_error(p.cli));
	ASSERT_EQ(setup == TT_DRAIN ? TCP_CLOSE_WAIT : TCP_ESTABLISHED,
		  tt_tcp_state(p.cli));

	/* The connection lives on: real data is handled as the setup says. */
	tt_send(p.cli, tt_len);
	switch (setup) {
	case TT_STOCK:
		tt_wait_inq(p.srv, tt_len);
		ASSERT_EQ(tt_len, recv(p.srv, buf, sizeof(buf), MSG_DONTWAIT));
		for (i = 0; i < tt_len; i++)
			if (buf[i] != 'x')
				TT_FAIL("byte %d read is '%c', not the client's",
					i, buf[i]);
		tt_tap_settle(&tap);
		ASSERT_EQ(rcv_nxt + tt_len, tap.srv_ack);
		break;
	case TT_HD:
		ASSERT_EQ(-ECONNRESET, tt_recv(p.cli, buf, sizeof(buf), 2000));
		tt_get_info(p.srv, &info);
		ASSERT_TRUE(info.tti_flags & TCPTERM_F_RST_SENT);
		ASSERT_EQ(TCPTERM_RST_DATA_AFTER_SHUTDOWN, info.tti_rst_reason);
		ASSERT_EQ(info0.tti_bytes_discarded + tt_len,
			  info.tti_bytes_discarded);
		ASSERT_EQ(c0.policy_rsts + 1, tt_stat(t.srv_ns, "PolicyRsts"));
		break;
	case TT_DRAIN:
		tt_tap_settle(&tap);
		ASSERT_EQ(rcv_nxt + tt_len, tap.srv_ack);
		ASSERT_EQ(c0.discarded + tt_len,
			  tt_stat(t.srv_ns, "BytesDiscarded"));
		ASSERT_EQ(c0.out_rsts, tt_snmp(t.srv_ns, "Tcp", "OutRsts"));
		ASSERT_EQ(0, tt_so_error(p.cli));
		break;
	}
}

FIXTURE(hostile) {
	struct tt_topo t;
};

FIXTURE_VARIANT(hostile) {
	const struct tt_variant *net;
	enum tt_setup setup;
};

FIXTURE_VARIANT_ADD(hostile, stock_ipv4) {
	.net = &tt_ipv4, .setup = TT_STOCK,
};
FIXTURE_VARIANT_ADD(hostile, stock_ipv6) {
	.net = &tt_ipv6, .setup = TT_STOCK,
};
FIXTURE_VARIANT_ADD(hostile, hd_ipv4) {
	.net = &tt_ipv4, .setup = TT_HD,
};
FIXTURE_VARIANT_ADD(hostile, hd_ipv6) {
	.net = &tt_ipv6, .setup = TT_HD,
};
FIXTURE_VARIANT_ADD(hostile, drain_ipv4) {
	.net = &tt_ipv4, .setup = TT_DRAIN,
};
FIXTURE_VARIANT_ADD(hostile, drain_ipv6) {
	.net = &tt_ipv6, .setup = TT_DRAIN,
};

FIXTURE_SETUP(hostile)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(hostile)
{
	tt_topo_down();
}

TEST_F_TIMEOUT(hostile, paws, 60)
{
	hostile(_metadata, variant->net, &self->t, variant->setup, TT_PAWS);
}

TEST_F_TIMEOUT(hostile, oldack, 60)
{
	hostile(_metadata, variant->net, &self->t, variant->setup, TT_OLD_ACK);
}

TEST_F_TIMEOUT(hostile, noack, 60)
{
	hostile(_metadata, variant->net, &self->t, variant->setup, TT_NO_ACK);
}

TEST_F_TIMEOUT(hostile, edge, 60)
{
	hostile(_metadata, variant->net, &self->t, variant->setup, TT_EDGE);
}

TEST_F_TIMEOUT(hostile, rst, 60)
{
	hostile(_metadata, variant->net, &self->t, variant->setup, TT_RST_OOO);
}

TT_HARNESS_MAIN
