// SPDX-License-Identifier: BSD-3-Clause
/*
 * tunnel.c - tunnel names, the decapsulation switches and their option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel.h"
#include "numbers.h"

static const char *const names[CT_TUN_MAX] = {
	[CT_TUN_NONE] = "none",	    [CT_TUN_VXLAN] = "vxlan", [CT_TUN_GENEVE] = "geneve",
	[CT_TUN_GTPU] = "gtpu",	    [CT_TUN_TEREDO] = "teredo", [CT_TUN_GRE] = "gre",
	[CT_TUN_ERSPAN] = "erspan",
};

void ct_tunnels_default(struct ct_tunnels *t)
{
	memset(t, 0, sizeof(*t));
	t->decap = CT_TUN_ALL;
	t->port[CT_TUN_VXLAN - 1][0] = 4789;
	t->port[CT_TUN_VXLAN - 1][1] = 8472;
	t->port[CT_TUN_GENEVE - 1][0] = 6081;
	t->port[CT_TUN_GTPU - 1][0] = 2152;
	t->port[CT_TUN_TEREDO - 1][0] = 3544;
}

int ct_tunnels_is_default(const struct ct_tunnels *t)
{
	struct ct_tunnels d;

	ct_tunnels_default(&d);
	return !t->none && t->decap == d.decap && !memcmp(t->port, d.port, sizeof(d.port));
}

const char *ct_tunnel_name(__u8 type)
{
	return type < CT_TUN_MAX ? names[type] : "?";
}

int ct_tunnel_by_name(const char *name)
{
	if (!strcmp(name, "gtp-u"))
		return CT_TUN_GTPU;
	for (int i = 0; i < CT_TUN_MAX; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

int ct_tunnel_has_id(__u8 type)
{
	return type && type != CT_TUN_TEREDO;
}

char *ct_tunnel_str(__u8 type, __u32 id, char *buf, size_t len)
{
	if (!type)
		snprintf(buf, len, "%s", "");
	else if (ct_tunnel_has_id(type))
		snprintf(buf, len, "%s:%u", ct_tunnel_name(type), id);
	else
		snprintf(buf, len, "%s", ct_tunnel_name(type));
	return buf;
}

/* One TYPE=VALUE entry of --tunnel-port. */
static int parse_entry(struct ct_tunnels *t, const char *e, size_t n, char *err, size_t errlen)
{
	char buf[64], *eq;
	long port;
	int type, bit;

	if (n >= sizeof(buf) || !n) {
		snprintf(err, errlen, "takes TYPE=PORT entries, comma-separated (vxlan=8472)");
		return -1;
	}
	memcpy(buf, e, n);
	buf[n] = '\0';
	eq = strchr(buf, '=');
	if (!eq) {
		snprintf(err, errlen, "%s: takes TYPE=PORT (vxlan=8472) or TYPE=off", buf);
		return -1;
	}
	*eq = '\0';
	type = ct_tunnel_by_name(buf);
	if (type <= 0) {
		snprintf(err, errlen, "unknown tunnel type %s; one of vxlan, geneve, gtpu, teredo, "
			 "gre, erspan", buf);
		return -1;
	}
	bit = 1 << type;
	if (!strcmp(eq + 1, "off") || !strcmp(eq + 1, "on")) {
		if (!strcmp(eq + 1, "on"))
			t->decap |= (__u8)bit;
		else
			t->decap &= (__u8)~bit;
		t->given |= (__u8)bit;
		return 0;
	}
	if (type > CT_TUN_UDP) {
		snprintf(err, errlen, "%s has no port (it is not carried in UDP): %s=off or %s=on",
			 buf, buf, buf);
		return -1;
	}
	if (ct_parse_long(eq + 1, 1, 65535, &port)) {
		snprintf(err, errlen, "%s=%s: a port is 1 to 65535", buf, eq + 1);
		return -1;
	}
	__u16 *ports = t->port[type - 1];

	if (!(t->given & bit))
		memset(t->port[type - 1], 0, sizeof(t->port[type - 1]));
	t->given |= (__u8)bit;
	t->decap |= (__u8)bit;
	for (int i = 0; i < CT_TUN_PORTS; i++) {
		if (ports[i] == port)
			return 0;
		if (!ports[i]) {
			ports[i] = (__u16)port;
			return 0;
		}
	}
	snprintf(err, errlen, "%s: at most %d ports", buf, CT_TUN_PORTS);
	return -1;
}

int ct_tunnels_parse(struct ct_tunnels *t, const char *arg, char *err, size_t errlen)
{
	const char *p = arg, *c;

	do {
		c = strchr(p, ',');
		if (parse_entry(t, p, c ? (size_t)(c - p) : strlen(p), err, errlen))
			return -1;
		p = c + 1;
	} while (c);
	return 0;
}
