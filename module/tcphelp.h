/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_TCPHELP_H
#define _TCPTERM_TCPHELP_H

#include <linux/types.h>

struct sk_buff;
struct sock;
struct tcpterm_sock;

bool tcpterm_peer_fin(const struct sock *sk);
u32 tcpterm_unread(const struct sock *sk);
u32 tcpterm_skb_new_data(const struct sock *sk, const struct sk_buff *skb);
bool tcpterm_abort_resets(int state);
u32 tcpterm_discard_unread(struct sock *sk, struct tcpterm_sock *ts);

#endif /* _TCPTERM_TCPHELP_H */
