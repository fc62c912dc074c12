// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm_probe present|absent: exit 0 when SOL_TCPTERM is (or is not)
 * answered on a TCP socket, as an application would probe for it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "../uapi/linux/tcpterm.h"

int main(int argc, char **argv)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), val = 0;
	socklen_t len = sizeof(val);
	int rc = getsockopt(fd, SOL_TCPTERM, TCPTERM_POLICY, &val, &len);

	if (argc != 2)
		return 2;
	if (!strcmp(argv[1], "present"))
		return rc == 0 && val == TCPTERM_POLICY_DEFAULT ? 0 : 1;
	/* Stock answers: ENOPROTOOPT (IPv6), EOPNOTSUPP (IPv4 getsockopt). */
	return rc == -1 && (errno == ENOPROTOOPT || errno == EOPNOTSUPP) ? 0 : 1;
}
