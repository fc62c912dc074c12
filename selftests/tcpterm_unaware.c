// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm_unaware: a TCP server and client that know nothing of tcpterm
 * (no SOL_TCPTERM anywhere), dynamically linked, for "tcpterm run".
 *
 *   tcpterm_unaware server PORT shut|close [inet6]
 *	accept one connection on 0.0.0.0:PORT (or [::]:PORT, IPv6 only)
 *	and wait for its first input;
 *	"shut": shutdown(SHUT_RD) with that input unread, wait 300 ms,
 *	write "reply\n", read what is left, close;
 *	"close": write "reply\n" and close() with the input unread.
 *	Prints "write ok" or "write error ERRNO".
 *   tcpterm_unaware server PORT pipeline
 *	accept one connection, read its first request ("GET /a\n"),
 *	write a 256 KiB answer and close() with the second request
 *	("GET /b\n") unread, as an HTTP/1.1 server that does not serve
 *	pipelined requests does.
 *   tcpterm_unaware client ADDR PORT
 *	connect to ADDR (IPv4 or IPv6) (retrying for 10 s while refused), write "hello", read to
 *	the end.  Prints "read N eof" or "read N error ERRNO".
 *   tcpterm_unaware client ADDR PORT pipeline
 *	the same with a 16 KiB receive buffer, writing two pipelined
 *	requests and starting to read one second later (a slow reader).
 *
 * "shut": stock, the client reads the reply and a clean EOF; under
 * "tcpterm run -p half-duplex" the SHUT_RD with input unread resets the
 * connection: the server's write fails, the client reads ECONNRESET.
 * "close": stock, the close() with input unread resets the connection
 * (the client reads ECONNRESET); under "tcpterm run -p drain" the
 * client reads the reply and a clean EOF.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MODE_CLOSE, MODE_SHUT, MODE_PIPELINE };

#define ANSWER_BYTES	(256 * 1024)

/* The first request, then the answer: the second request stays unread. */
static int serve_pipelined(int c)
{
	static char answer[ANSWER_BYTES];
	int sndbuf = 2 * ANSWER_BYTES;
	char req[7];
	long off = 0;
	ssize_t n;

	if (recv(c, req, sizeof(req), MSG_WAITALL) != sizeof(req)) {
		perror("server: read");
		return 1;
	}
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(answer, 'a', sizeof(answer));
	while (off < ANSWER_BYTES) {
		n = write(c, answer + off, ANSWER_BYTES - off);
		if (n <= 0)
			break;
		off += n;
	}
	printf("read one request, wrote %ld bytes, close()\n", off);
	return 0;
}

static int server(int port, int mode, int inet6)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct pollfd p = { .events = POLLIN };
	struct sockaddr *sa = (struct sockaddr *)&a;
	socklen_t salen = sizeof(a);
	int one = 1, l, c;
	char buf[256];

	a.sin_port = htons(port);
	a6.sin6_port = htons(port);
	if (inet6) {
		sa = (struct sockaddr *)&a6;
		salen = sizeof(a6);
	}
	l = socket(sa->sa_family, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (inet6 && setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(l, sa, salen) || listen(l, 8)) {
		perror("server: listen");
		return 1;
	}
	c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("server: accept");
		return 1;
	}
	p.fd = c;
	if (poll(&p, 1, 10000) != 1) {
		fprintf(stderr, "server: no input\n");
		return 1;
	}
	if (mode == MODE_PIPELINE) {
		if (serve_pipelined(c))
			return 1;
		close(c);
		close(l);
		return 0;
	}
	if (mode == MODE_SHUT) {
		shutdown(c, SHUT_RD);
		usleep(300000);
	}
	if (write(c, "reply\n", 6) == 6)
		printf("write ok\n");
	else
		printf("write error %s\n", strerror(errno));
	/* Stock, a read after SHUT_RD still returns what was queued. */
	while (mode == MODE_SHUT && read(c, buf, sizeof(buf)) > 0)
		;
	close(c);
	close(l);
	return 0;
}

static int client(const char *addr, int port, int pipeline)
{
	static const char reqs[] = "GET /a\nGET /b\n";
	int rcvbuf = 16384;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr *sa = (struct sockaddr *)&a;
	socklen_t salen = sizeof(a);
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd, i;

	a.sin_port = htons(port);
	a6.sin6_port = htons(port);
	if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&a6;
		salen = sizeof(a6);
	} else if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		return 2;
	}
	for (i = 0; ; i++) {
		fd = socket(sa->sa_family, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		if (pipeline)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				   sizeof(rcvbuf));
		if (!connect(fd, sa, salen))
			break;
		if (errno != ECONNREFUSED || i == 100) {
			perror("client: connect");
			return 1;
		}
		close(fd);
		usleep(100000);
	}
	if (pipeline) {
		if (write(fd, reqs, sizeof(reqs) - 1) != sizeof(reqs) - 1) {
			perror("client: write");
			return 1;
		}
		sleep(1);
	} else if (write(fd, "hello", 5) != 5) {
		perror("client: write");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n == 0)
		printf("read %ld eof\n", total);
	else
		printf("read %ld error %s\n", total, strerror(errno));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int mode = MODE_CLOSE;

	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "server")) {
		if (!strcmp(argv[3], "shut"))
			mode = MODE_SHUT;
		else if (!strcmp(argv[3], "pipeline"))
			mode = MODE_PIPELINE;
		return server(atoi(argv[2]), mode,
			      argc == 5 && !strcmp(argv[4], "inet6"));
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]),
			      argc == 5 && !strcmp(argv[4], "pipeline"));
	fprintf(stderr, "usage: %s server PORT shut|close|pipeline [inet6] | client ADDR PORT [pipeline]\n", argv[0]);
	return 2;
}
