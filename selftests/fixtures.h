/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixtures more than one selftest uses (kselftest_harness.h): the two
 * namespaces of lib.h, fresh for each case, with a variant per address
 * family.
 *   net	ipv4, ipv6, and IPv4-mapped IPv6
 *   net46	ipv4 and ipv6 (cases where a mapped address adds nothing)
 * Include after harness.h.
 */
#ifndef _TT_FIXTURES_H
#define _TT_FIXTURES_H

FIXTURE(net) {
	struct tt_topo t;
};

FIXTURE_VARIANT(net) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(net, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(net, ipv6) { .net = &tt_ipv6 };
FIXTURE_VARIANT_ADD(net, mapped) { .net = &tt_mapped };

FIXTURE_SETUP(net)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(net)
{
	tt_topo_down();
}

FIXTURE(net46) {
	struct tt_topo t;
};

FIXTURE_VARIANT(net46) {
	const struct tt_variant *net;
};

FIXTURE_VARIANT_ADD(net46, ipv4) { .net = &tt_ipv4 };
FIXTURE_VARIANT_ADD(net46, ipv6) { .net = &tt_ipv6 };

FIXTURE_SETUP(net46)
{
	tt_topo_up(&self->t, 0);
}

FIXTURE_TEARDOWN(net46)
{
	tt_topo_down();
}

#endif /* _TT_FIXTURES_H */
