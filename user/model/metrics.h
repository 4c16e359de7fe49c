/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h - what `--metrics` exposes: a snapshot of a session's counters (per watched
 * interface: the kernel's counters, the closes user space decided, closes by server port)
 * and their rendering in the Prometheus text format 0.0.4. Pure: no I/O, no BPF; the
 * session fills snapshots, http.c serves them.
 */
#ifndef CT_METRICS_H
#define CT_METRICS_H

#include <stddef.h>
#include <linux/types.h>

#include "closetrace.h"

#define CT_METRICS_PORTS_MAX 256	/* --metrics-ports: at most this many */
#define CT_METRICS_NAME_MAX 64		/* an interface name, as a label value */

/* Closes by server port: [port index, nports for "other"][close kind]. */
typedef __u64 ct_port_closes[CT_CLOSE_MAX];

struct ct_metrics_iface {
	char name[CT_METRICS_NAME_MAX];
	struct ct_counters k;		/* the kernel's counters of its slot */
	__u64 user_closes[CT_CLOSE_MAX];	/* closes decided in user space (expiry) */
	ct_port_closes *ports;		/* nports + 1 rows, when ports are asked for */
	__u64 tun_closes[CT_TUN_MAX][CT_CLOSE_MAX];	/* closes in tunnels, by type (0 unused) */
};

/*
 * --metrics-by: closes by application, under a label named for what names it. Bounded:
 * N rows (--metrics-top), given to the busiest names while rows are free, each counting
 * from then on; every other close counts as "other". A row is never taken back, so that
 * every series only grows.
 */
enum ct_app_by {
	CT_APP_BY_NONE = 0,
	CT_APP_BY_UNIT,
	CT_APP_BY_CONTAINER,
	CT_APP_BY_POD,
	CT_APP_BY_COMM,
	CT_APP_BY_MAX,
};
#define CT_METRICS_APPS_MAX 1000	/* --metrics-top at most */
#define CT_METRICS_APPS_DEFAULT 20
#define CT_METRICS_APP_CANDS 1024	/* names waiting for a row (their closes in other) */
#define CT_METRICS_APP_NAME 256

struct ct_metrics_app {
	char name[CT_METRICS_APP_NAME];
	__u64 closes[CT_CLOSE_MAX];
	__u64 total;			/* waiting names: closes so far, the rank */
};

/* The label name of @by ("unit", "container", "pod", "comm"); NULL for none. */
const char *ct_app_by_name(enum ct_app_by by);

struct ct_metrics {
	int nifs;
	struct ct_metrics_iface ifs[CT_MAX_IFACES];
	int nports;			/* --metrics-ports; 0: no closes by port */
	__u16 ports[CT_METRICS_PORTS_MAX];
	/* --metrics-by: rows [0, napps) named, [napps_max] other */
	enum ct_app_by app_by;
	int napps_max, napps;
	struct ct_metrics_app *apps;
	struct ct_metrics_app *cands;	/* names without a row yet (not copied) */
	int ncands;
	__u64 table_entries, table_capacity;
	__u64 events_lost;
	__u64 viewers;			/* local viewers of the session now */
	__u64 viewer_dropped;		/* records dropped for viewers too slow to take them */
	const char *version;
	/* the process, filled when a scrape comes */
	double cpu_seconds, start_time;
	__u64 rss_bytes, open_fds;
};

/* Allocate the port rows of @m for @nifs interfaces and @nports ports; 0 or -1. */
int ct_metrics_init(struct ct_metrics *m, int nifs, const __u16 *ports, int nports);
void ct_metrics_free(struct ct_metrics *m);
/* Copy @src into @dst, both set up by ct_metrics_init() with the same sizes. */
void ct_metrics_copy(struct ct_metrics *dst, const struct ct_metrics *src);

/* Closes by application, named by @by, in at most @n rows: 0 or -1 (no memory). */
int ct_metrics_apps_init(struct ct_metrics *m, enum ct_app_by by, int n);
/* Count a close of @kind of the application called @name. */
void ct_metrics_app_close(struct ct_metrics *m, const char *name, __u8 kind);
/* Give free rows to the waiting names with the most closes (each publish). */
void ct_metrics_apps_promote(struct ct_metrics *m);

/* Count a close of @kind to server port @port on interface @slot (rows by port). */
void ct_metrics_port_close(struct ct_metrics *m, int slot, __u16 port, __u8 kind);
/* Count @n closes of kind @kind in a tunnel of type @type on slot @slot. */
void ct_metrics_tunnel_closes(struct ct_metrics *m, int slot, __u8 type, __u8 kind, __u64 n);
/* ... @n of them (a storm summary). */
void ct_metrics_port_closes(struct ct_metrics *m, int slot, __u16 port, __u8 kind, __u64 n);

/*
 * Render @m in the text format, families in a fixed order, one HELP and TYPE each;
 * returns a malloc'ed, NUL-terminated text (its length in *@len), or NULL.
 */
char *ct_metrics_render(const struct ct_metrics *m, size_t *len);

/* A label value as the text format wants it: \\, \" and \n escaped. */
void ct_metrics_label(const char *s, char *buf, size_t len);

#endif /* CT_METRICS_H */
