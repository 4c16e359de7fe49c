/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * record.h - one close (or one flow's final state) as the outputs see it: a flow from
 * the kernel, with its close kind, who reset it, the client side, and wall-clock times.
 * Built from a ring-buffer event (decided in the kernel) or from a flow-map entry
 * (decided in user space, or the final state of a flow).
 */
#ifndef CT_RECORD_H
#define CT_RECORD_H

#include <stddef.h>
#include <linux/types.h>

#include "closetrace.h"

struct ct_zones;

enum ct_rec_type {
	CT_REC_CLOSE = 0,	/* the moment a flow's fate was known */
	CT_REC_FLOW,		/* a flow's final state, when it left the table */
	CT_REC_OPEN,		/* a flow still in the table, as a scan saw it (top) */
	CT_REC_SUMMARY,		/* closes of one kind to one server port in a storm, counted */
	CT_REC_LOSS,		/* what could not be reported since the last such record */
};

/* What a CT_REC_LOSS record counts (each since the previous one). */
struct ct_loss {
	__u64 evicted_embryonic;	/* flows removed from the full table, never established */
	__u64 evicted_established;	/* ... established: no embryonic one was left */
	__u64 untracked;		/* flows the full table had no room for */
	__u64 events_lost;		/* closes lost: the ring buffer was full */
};

struct ct_record {
	enum ct_rec_type type;
	struct ct_flow_key key;
	struct ct_flow flow;
	__u8 close;		/* enum ct_close */
	__u8 rst_by;		/* CT_BY_* */
	__u8 client_ep;		/* CT_EP_* */
	__u64 ts_ns;		/* wall clock (capture clock in replay), ns since the epoch */
	__u64 start_ns;		/* first packet, same clock */
	const char *iface;	/* interface name, or the capture's file name */
	const struct ct_zones *zones;	/* what clt_zone and srv_zone come from; NULL: none */
	const char *cgroup;	/* the path of flow.own.cgroup below the cgroup2 mount, NULL
				 * when not known (see user/io/cgroups.h) */
	/*
	 * CT_REC_SUMMARY: @count closes of kind @close to the server side of @key (the
	 * client's address and port are 0) between start_ns and ts_ns; @unkeyed: the
	 * server is not known (the summary table was full), only the interface.
	 */
	__u64 count;
	int unkeyed;
	struct ct_loss loss;	/* CT_REC_LOSS */
};

/* The record of a kernel event; @to_wall adds to kernel times to make wall-clock ns. */
void ct_record_from_event(struct ct_record *r, const struct ct_event *e, __s64 to_wall,
			  const char *iface);

/*
 * The record of a flow-map entry whose close is @close; @end_ns is its end (wall clock),
 * i.e. the kernel's decision time or the last packet for a user-space decision.
 */
void ct_record_from_flow(struct ct_record *r, enum ct_rec_type type,
			 const struct ct_flow_key *k, const struct ct_flow *f, __u8 close,
			 __u64 end_ns, __s64 to_wall, const char *iface);

typedef int (*ct_record_fn)(void *ctx, const struct ct_record *r);

/*
 * Where records go: the one bundle of callbacks that the session, its scans, replay and
 * the commands hand each other.
 */
struct ct_rec_out {
	ct_record_fn record;		/* every record; < 0: no more */
	ct_record_fn visit;		/* optional: a flow a scan leaves in the table */
	void (*flush)(void *ctx);	/* optional: the records so far make a batch */
	void *ctx;
};

/* The record's "type" in JSON: close (an open flow's record too), flow, summary, loss. */
static inline const char *ct_rec_type_name(enum ct_rec_type t)
{
	return t == CT_REC_FLOW ? "flow" : t == CT_REC_SUMMARY ? "summary" :
	       t == CT_REC_LOSS ? "loss" : "close";
}

/* Client-side / server-side views of the per-endpoint arrays. */
static inline int ct_rec_clt(const struct ct_record *r)
{
	return r->client_ep;
}

static inline int ct_rec_srv(const struct ct_record *r)
{
	return !r->client_ep;
}

/*
 * The tunnel id endpoint @ep's packets carry: the key's, but GTP-U's TEID of that direction
 * (0 when that side was not seen).
 */
static inline __u32 ct_rec_tun_id(const struct ct_record *r, int ep)
{
	return r->key.tun_type == CT_TUN_GTPU ? r->flow.tun_id[ep & 1] : r->key.tun_id;
}

/* CT_BY_* of the first RST in @f's history, @clt being the client's endpoint. */
__u8 ct_first_rst_by(const struct ct_flow *f, int clt);

/* Whether the key holds IPv4 (IPv4-mapped) addresses. */
int ct_key_is_v4(const struct ct_flow_key *k);
/* Whether one address in key form is IPv4 (IPv4-mapped). */
int ct_addr_is_v4(const __u32 addr[4]);
/* The address of endpoint @ep as text (INET6_ADDRSTRLEN bytes suffice). */
void ct_key_addr_str(const struct ct_flow_key *k, int ep, char *buf, size_t len);
/* An address in key form (IPv4 mapped when @v4) as text. */
void ct_addr_str(const __u32 addr[4], int v4, char *buf, size_t len);
/* An address and port as text: 192.0.2.1:80, [2001:db8::1]:80. */
void ct_endpoint_str(const __u32 addr[4], __u16 port, int v4, char *buf, size_t len);

#endif /* CT_RECORD_H */
