// SPDX-License-Identifier: GPL-2.0
/*
 * tcpterm_genl_req plain|attr|reserved|dump: send one TCPTERM_CMD_GET_STATS
 * request, well formed or not, and print how the kernel answered, on one
 * line:
 *
 *   error=ERRNO msg="EXTACK MESSAGE" offset=N
 *
 * ERRNO is 0 for a reply with counters; N is the offset of the attribute
 * the kernel blamed (NLMSGERR_ATTR_OFFS), -1 when it named none.
 *
 *   plain     the request as tcpterm(8) sends it
 *   attr      with a TCPTERM_A_KIND attribute (at offset 20)
 *   reserved  with genlmsghdr.reserved set
 *   dump      with NLM_F_DUMP (the command has no dump)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "../uapi/linux/tcpterm.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct msg {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char buf[4096];
};

static struct nlattr *attr_find(void *data, int len, int type)
{
	struct nlattr *a = data;

	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		len -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

static int family_id(int fd)
{
	struct msg req = { 0 }, resp;
	struct nlattr *a;
	int len;

	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.genl.cmd = CTRL_CMD_GETFAMILY;
	req.genl.version = 1;
	a = (struct nlattr *)req.buf;
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + sizeof(TCPTERM_GENL_NAME);
	memcpy((char *)a + NLA_HDRLEN, TCPTERM_GENL_NAME,
	       sizeof(TCPTERM_GENL_NAME));
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0)
		return -1;
	len = recv(fd, &resp, sizeof(resp), 0);
	if (len < (int)NLMSG_LENGTH(GENL_HDRLEN) ||
	    resp.nlh.nlmsg_type == NLMSG_ERROR)
		return -1;
	a = attr_find(resp.buf, resp.nlh.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
		      CTRL_ATTR_FAMILY_ID);
	return a ? *(__u16 *)((char *)a + NLA_HDRLEN) : -1;
}

int main(int argc, char **argv)
{
	int fd, id, one = 1, len, off = -1;
	struct msg req = { 0 }, resp;
	const char *mode = argc == 2 ? argv[1] : "";
	const char *text = "";
	struct nlmsgerr *e;
	struct nlattr *a;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
				 sizeof(one))) {
		perror("netlink");
		return 1;
	}
	id = family_id(fd);
	if (id < 0) {
		fprintf(stderr, "no family %s\n", TCPTERM_GENL_NAME);
		return 1;
	}
	req.nlh.nlmsg_type = id;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nlh.nlmsg_seq = 1;
	req.genl.cmd = TCPTERM_CMD_GET_STATS;
	req.genl.version = TCPTERM_GENL_VERSION;
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	if (!strcmp(mode, "attr")) {
		a = (struct nlattr *)req.buf;
		a->nla_type = TCPTERM_A_KIND;
		a->nla_len = NLA_HDRLEN + 1;
		req.nlh.nlmsg_len += NLA_ALIGN(a->nla_len);
	} else if (!strcmp(mode, "reserved")) {
		req.genl.reserved = 1;
	} else if (!strcmp(mode, "dump")) {
		req.nlh.nlmsg_flags |= NLM_F_DUMP;
	} else if (strcmp(mode, "plain")) {
		fprintf(stderr, "usage: %s plain|attr|reserved|dump\n", argv[0]);
		return 2;
	}
	if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0) {
		perror("send");
		return 1;
	}
	len = recv(fd, &resp, sizeof(resp), 0);
	if (len < (int)NLMSG_HDRLEN) {
		perror("recv");
		return 1;
	}
	if (resp.nlh.nlmsg_type != NLMSG_ERROR) {
		a = attr_find(resp.buf, resp.nlh.nlmsg_len -
			      NLMSG_LENGTH(GENL_HDRLEN), TCPTERM_A_STATS);
		printf("error=0 msg=\"%s\" offset=-1\n",
		       a ? "" : "reply without TCPTERM_A_STATS");
		return 0;
	}
	e = NLMSG_DATA(&resp.nlh);
	if (resp.nlh.nlmsg_flags & NLM_F_ACK_TLVS) {
		int skip = sizeof(*e);
		void *tlv;

		if (!(resp.nlh.nlmsg_flags & NLM_F_CAPPED))
			skip += e->msg.nlmsg_len - sizeof(e->msg);
		tlv = (char *)e + skip;
		len = resp.nlh.nlmsg_len - NLMSG_HDRLEN - skip;
		a = attr_find(tlv, len, NLMSGERR_ATTR_MSG);
		if (a)
			text = (char *)a + NLA_HDRLEN;
		a = attr_find(tlv, len, NLMSGERR_ATTR_OFFS);
		if (a)
			off = *(__u32 *)((char *)a + NLA_HDRLEN);
	}
	printf("error=%d msg=\"%s\" offset=%d\n", -e->error, text, off);
	return 0;
}
