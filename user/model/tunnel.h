/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tunnel.h - the tunnels the parser opens (enum ct_tunnel): their names, which ones are on
 * and on which UDP ports (--tunnel-port, --no-decap), and a flow's tunnel as text.
 */
#ifndef CT_TUNNEL_H
#define CT_TUNNEL_H

#include <stddef.h>
#include <linux/types.h>

#include "closetrace.h"

/* What the packet programs decapsulate: ct_cfg.decap and ct_cfg.tun_port. */
struct ct_tunnels {
	__u8 decap;				/* bit (1 << enum ct_tunnel) */
	__u16 port[CT_TUN_UDP][CT_TUN_PORTS];	/* UDP destination ports, 0 unused */
	__u8 given;				/* bits of the types --tunnel-port named */
	int none;				/* --no-decap: nothing at all */
};

/* The default: every type on; VXLAN on 4789 and 8472 (Linux's own), Geneve 6081, GTP-U
 * 2152, Teredo 3544 (and relays' datagrams on any port that hold Teredo's IPv6). */
void ct_tunnels_default(struct ct_tunnels *t);

/*
 * Add a --tunnel-port argument: TYPE=PORT entries, comma-separated. A type's first entry
 * replaces its default ports, later ones add to them; TYPE=off turns the type off (GRE and
 * ERSPAN take only off and on). Returns 0, or -1 with one sentence in @err.
 */
int ct_tunnels_parse(struct ct_tunnels *t, const char *arg, char *err, size_t errlen);

/* Whether @t is the default (a viewer of an agent sees what the agent decapsulates). */
int ct_tunnels_is_default(const struct ct_tunnels *t);

/* The name of a type: vxlan, geneve, gtpu, teredo, gre, erspan; "none" for 0. */
const char *ct_tunnel_name(__u8 type);
/* The type named @name (ct_tunnel_name's, gtp-u too), CT_TUN_NONE for "none", -1 unknown. */
int ct_tunnel_by_name(const char *name);

/* "vxlan:42", "teredo", "" outside tunnels: the type and its id, when the type has one. */
char *ct_tunnel_str(__u8 type, __u32 id, char *buf, size_t len);

/* Whether a tunnel type carries an id (VNI, TEID, key, session) worth showing. */
int ct_tunnel_has_id(__u8 type);

#endif /* CT_TUNNEL_H */
