/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_GATE_H
#define _TCPTERM_GATE_H

#include <linux/types.h>

/*
 * What opens and closes the gate: the hook layer's attach and detach of
 * its hooks on shared paths.  open() may sleep and may fail.
 */
struct tcpterm_gate_ops {
	int	(*open)(void);
	void	(*close)(void);
};

int tcpterm_gate_get(void);
bool tcpterm_gate_tryget(void);
void tcpterm_gate_put(void);

int tcpterm_gate_attach(const struct tcpterm_gate_ops *ops);
void tcpterm_gate_detach(void);

int tcpterm_gate_init(void);
void tcpterm_gate_exit(void);

#endif /* _TCPTERM_GATE_H */
