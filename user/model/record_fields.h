/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * record_fields.h - the fields of a record, in the order of its JSON object (schema v1):
 * the one list of them. Not a header to include for declarations: a fragment of a function
 * body, included where the record is rendered field by field (format.c: the JSON line, and
 * the journal's fields), which first defines
 *   F_NUM(key, v)    an unsigned number
 *   F_BOOL(key, b)   true or false
 *   F_NAME(key, s)   a string from closetrace's own tables (no escaping needed)
 *   F_STR(key, s)    a string from outside (an interface or file name)
 *   F_TIME(key, ns)  a time, RFC 3339 UTC with microseconds
 *   F_ADDR(key, ep)  the address of endpoint @ep of the record's key
 *   F_IP(key, a)     an address in key form (__u32[4], IPv4-mapped or IPv6)
 *   F_HIST(key)      the Zeek history letters
 *   F_DUR(key)       the duration in seconds
 *   F_NULL(key)      nothing known
 *   F_SECS(key, ns)  a number of seconds, to the millisecond
 *   F_BEGIN(key)     an object: the fields up to F_END() are its
 * with @r the record (const struct ct_record *). Keys are string literals. The fragment
 * undefines them at its end, ready for the next includer.
 */
{
	const struct ct_flow *rf_f = &r->flow;
	int rf_c = ct_rec_clt(r), rf_s = ct_rec_srv(r);

	F_NUM("v", 1);
	F_NAME("type", ct_rec_type_name(r->type));
	F_TIME("ts", r->ts_ns);
	if (r->type == CT_REC_LOSS) {
		F_NUM("evicted_embryonic", r->loss.evicted_embryonic);
		F_NUM("evicted_established", r->loss.evicted_established);
		F_NUM("untracked", r->loss.untracked);
		F_NUM("events_lost", r->loss.events_lost);
	} else if (r->type == CT_REC_SUMMARY) {
		F_STR("iface", r->iface ? r->iface : "");
		F_NAME("close", ct_close_name(r->close));
		F_NAME("rst_by", ct_rst_by_name(r->rst_by));
		if (r->unkeyed) {
			F_NULL("srv_ip");
			F_NULL("srv_port");
		} else {
			F_ADDR("srv_ip", rf_s);
			F_NUM("srv_port", r->key.port[rf_s]);
		}
		F_NUM("count", r->count);
		F_TIME("first", r->start_ns);
		F_TIME("last", r->ts_ns);
		if (r->key.tun_type) {
			F_BEGIN("tunnel");
			F_NAME("type", ct_tunnel_name(r->key.tun_type));
			if (ct_tunnel_has_id(r->key.tun_type) && r->key.tun_type != CT_TUN_GTPU)
				F_NUM("id", r->key.tun_id);
			F_END();
		}
	} else {
		F_STR("iface", r->iface ? r->iface : "");
		F_NAME("close", ct_close_name(r->close));
		F_NAME("zeek", ct_zeek_state(rf_f));
		F_NAME("rst_by", ct_rst_by_name(r->rst_by));
		F_HIST("history");
		F_ADDR("clt_ip", rf_c);
		F_NUM("clt_port", r->key.port[rf_c]);
		F_ADDR("srv_ip", rf_s);
		F_NUM("srv_port", r->key.port[rf_s]);
		if (r->zones) {
			char rf_z[CT_ZONE_TEXT_MAX];
			__u32 rf_net[4];
			__u8 rf_plen;

			ct_zone_of(r->zones, r->key.addr[rf_c], rf_z, sizeof(rf_z), rf_net, &rf_plen);
			F_NAME("clt_zone", rf_z);
			ct_zone_of(r->zones, r->key.addr[rf_s], rf_z, sizeof(rf_z), rf_net, &rf_plen);
			F_NAME("srv_zone", rf_z);
		}
		/* the sums as unsigned int, wrapping where printf's %u of them did */
		F_NUM("syn", (__u32)(rf_f->syn[rf_c] + rf_f->syn[rf_s]));
		F_NUM("synack", (__u32)(rf_f->synack[rf_c] + rf_f->synack[rf_s]));
		F_NUM("ct", !!(rf_f->state & CT_ST_CT));
		F_BOOL("midstream", ct_flow_midstream(rf_f));
		F_NUM("fin_clt", rf_f->fin[rf_c]);
		F_NUM("fin_srv", rf_f->fin[rf_s]);
		F_NUM("rst_clt", rf_f->rst[rf_c]);
		F_NUM("rst_srv", rf_f->rst[rf_s]);
		F_NUM("pkts_clt", rf_f->pkts[rf_c]);
		F_NUM("pkts_srv", rf_f->pkts[rf_s]);
		F_NUM("bytes_clt", rf_f->bytes[rf_c]);
		F_NUM("bytes_srv", rf_f->bytes[rf_s]);
		F_NUM("vlan", CT_IFVLAN_VLAN(r->key.ifvlan));
		/* the tunnel the flow came in: the id of the client's packets (the server's
		 * too where it differs: GTP-U), the outer source and destination of them */
		if (r->key.tun_type) {
			F_BEGIN("tunnel");
			F_NAME("type", ct_tunnel_name(r->key.tun_type));
			if (ct_tunnel_has_id(r->key.tun_type)) {
				F_NUM("id", ct_rec_tun_id(r, rf_c));
				if (ct_rec_tun_id(r, rf_s) &&
				    ct_rec_tun_id(r, rf_s) != ct_rec_tun_id(r, rf_c))
					F_NUM("id_srv", ct_rec_tun_id(r, rf_s));
			}
			F_IP("src", rf_f->outer[rf_c]);
			F_IP("dst", rf_f->outer[rf_s]);
			F_END();
		}
		F_TIME("start", r->start_ns);
		F_DUR("dur");
		F_NAME("rst_reason", ct_rst_reason_name(rf_f->rst_reason));
		F_NAME("rst_reason_kernel", ct_rst_reason_kernel(rf_f->rst_reason));
		F_NAME("rst_state", ct_rst_state_name(rf_f->rst_state));
		F_BOOL("rst_accepted", rf_f->rst_accepted);
		/* the local socket's owner; for a refusal, its port's listener: only what
		 * is known */
		if (ct_rec_has_app(r) || ct_rec_nosock(r)) {
			struct ct_app_names rf_n;
			char rf_comm[sizeof(rf_f->own.comm) + 1];
			int rf_nosock = ct_rec_nosock(r);

			memcpy(rf_comm, rf_f->own.comm, sizeof(rf_f->own.comm));
			rf_comm[sizeof(rf_f->own.comm)] = '\0';
			ct_app_names(r->cgroup, &rf_n);
			if (rf_nosock) {
				F_BEGIN("listener");
				F_NUM("port", r->key.port[rf_s]);
				F_BOOL("seen", !!(rf_f->own_flags & CT_OWN_LISTENER));
				if (rf_f->own_flags & CT_OWN_LISTENER)
					F_BOOL("listening", !!(rf_f->own_flags & CT_OWN_LISTENING));
				if ((rf_f->own_flags & CT_OWN_LISTENER) &&
				    !(rf_f->own_flags & CT_OWN_LISTENING))
					F_SECS("closed_ago", (__u64)rf_f->own.closed_ms * 1000000);
			} else {
				F_BEGIN("app");
			}
			if (r->cgroup)
				F_STR("cgroup", r->cgroup);
			if (rf_n.unit[0])
				F_STR("unit", rf_n.unit);
			if (rf_n.container[0])
				F_NAME("container", rf_n.container);
			if (rf_n.runtime)
				F_NAME("runtime", rf_n.runtime);
			if (rf_n.pod[0])
				F_NAME("pod", rf_n.pod);
			if (rf_f->own_flags & CT_OWN_PID) {
				F_NUM("pid", rf_f->own.pid);
				F_STR("comm", rf_comm);
				if (!rf_nosock)
					F_NAME("pid_role", ct_rec_pid_role(r));
			}
			if (rf_f->own.cgroup)
				F_NUM("cgroup_id", rf_f->own.cgroup);
			if (rf_f->own.cookie && !rf_nosock)
				F_NUM("cookie", rf_f->own.cookie);
			F_END();
		}
	}
}
#undef F_NUM
#undef F_BOOL
#undef F_NAME
#undef F_STR
#undef F_TIME
#undef F_ADDR
#undef F_HIST
#undef F_DUR
#undef F_NULL
#undef F_BEGIN
#undef F_END
#undef F_SECS
#undef F_IP
