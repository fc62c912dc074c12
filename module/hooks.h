/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCPTERM_HOOKS_H
#define _TCPTERM_HOOKS_H

#include <linux/types.h>

int tcpterm_hooks_init(void);
void tcpterm_hooks_exit(void);

#endif /* _TCPTERM_HOOKS_H */
