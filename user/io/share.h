/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * share.h - a running agent's session, offered to local viewers over unix sockets: one
 * listening socket per watched interface, /run/closetrace/IFACE@NETNS.sock (the network
 * namespace's inode number; group closetrace, mode 0660 where the group exists). The agent hands each record it decides to every
 * viewer of its interface through a bounded queue of that viewer's own, written without
 * ever blocking: what a slow or stopped viewer cannot take is dropped for it alone,
 * counted and told to it. Nothing here touches the packet path: records are what the
 * agent's user space decided anyway.
 *
 * The stream, agent to viewer: a hello (the version, which must be the viewer's own, the
 * agent's pid and mode), then records, and a status a second (the agent's losses, its
 * table, what this viewer lost). Viewer to agent: one subscription (who it is, whether it
 * wants the flows each scan leaves in the table, as top shows them).
 */
#ifndef CT_SHARE_H
#define CT_SHARE_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "record.h"

#define CT_SHARE_DIR "/run/closetrace"
#define CT_SHARE_GROUP "closetrace"
#define CT_SHARE_VIEWERS 32		/* viewers an agent serves at once */
#define CT_SHARE_QUEUE (4u << 20)	/* bytes queued for one viewer */

/* The directory of the sockets: $CLOSETRACE_RUN_DIR, else CT_SHARE_DIR. */
const char *ct_share_dir(void);
/* This process's network namespace (its inode number; 0 when not known). */
unsigned long ct_share_netns(void);
/* The socket of interface @iface of this network namespace: DIR/IFACE@NETNS.sock. */
void ct_share_path(const char *iface, char *buf, size_t len);

enum ct_share_msg {
	CT_SM_HELLO = 1,	/* agent: struct ct_share_hello */
	CT_SM_RECORD,		/* agent: a record */
	CT_SM_STATUS,		/* agent: struct ct_share_status, once a tick */
	CT_SM_SUB,		/* viewer: struct ct_share_sub */
};

struct ct_share_hdr {
	__u32 len;		/* the message's, this header included */
	__u16 type;		/* enum ct_share_msg */
	__u16 pad;
};

#define CT_SHARE_VERSION_LEN 32

struct ct_share_hello {
	char version[CT_SHARE_VERSION_LEN];	/* CT_VERSION: records are raw structures */
	__u32 rec_size;				/* sizeof(struct ct_flow) + key: the same build */
	__u32 pid;
	__u32 xdp;				/* the agent's mode */
	__u32 viewers;				/* viewers reading its records now */
	__u32 owners;				/* its records name sockets' owners */
	char iface[16];
	struct {
		__u32 pid;
		char name[16];
	} who[8];				/* the first viewers: `closetrace check` */
};

struct ct_share_status {
	struct ct_loss lost;		/* the agent's losses, in all */
	__u64 table_flows, table_capacity;
	__u64 dropped;			/* records this viewer was too slow for, in all */
	__u64 scans;			/* whole scans of the table the agent made, in all */
};

#define CT_SUB_VISITS 1		/* the flows each scan leaves in the table (CT_REC_OPEN) */

struct ct_share_sub {
	__u32 flags;		/* CT_SUB_* */
	__u32 pid;
	char name[16];		/* the viewer's command: watch, top, diagnose */
};

/* --- the agent ------------------------------------------------------------------------ */

struct ct_share;

/*
 * Listen on the sockets of @ifaces (@n of them), replacing a stale socket of an agent
 * gone; NULL with one sentence in @err (another agent listens there, the directory cannot
 * be made). The directory stays root's (or the unit's): never given to --user.
 */
struct ct_share *ct_share_open(char *const *ifaces, int n, int xdp, char *err, size_t errlen);
/* Interface @slot was renamed @name: its records match its viewers under it. */
void ct_share_rename(struct ct_share *sh, int slot, const char *name);
/* Whether the agent's records name the owners of sockets (the socket tracepoints run). */
void ct_share_set_owners(struct ct_share *sh, int owners);
/* Stop: viewers see the end of their stream; the sockets are removed. NULL is fine. */
void ct_share_close(struct ct_share *sh);

/* A record for the viewers of its interface (@visit: one a scan leaves in the table). */
void ct_share_record(struct ct_share *sh, const struct ct_record *r, int visit);
/* The agent's counters, for every viewer's next status. */
void ct_share_status(struct ct_share *sh, const struct ct_loss *lost, __u64 flows, __u64 cap,
		     int whole_scan);
/*
 * Accept viewers, read their subscriptions, write what is queued; never blocks. Returns
 * whether a viewer wants the flows scans leave in the table.
 */
int ct_share_service(struct ct_share *sh);
/* Viewers connected now, and records dropped for slow ones, in all. */
void ct_share_counts(const struct ct_share *sh, __u64 *viewers, __u64 *dropped);

/*
 * `closetrace cleanup`: remove the socket an agent killed with -9 left for @iface (of this
 * network namespace; NULL: every one of it): how many were removed. One an agent still
 * listens on stays.
 */
int ct_share_remove_stale(const char *iface);

/* --- the viewer ----------------------------------------------------------------------- */

/*
 * Connect to the agent of @iface: its socket (>= 0) with its hello in @h; -1 when no agent
 * runs there (no socket, or a stale one); -2 with one sentence in @err when one does but
 * this process may not connect (the group), or it is of another version; -3 (said in @err)
 * when it sent no hello in time (starting or stopping, or full).
 */
int ct_share_connect(const char *iface, struct ct_share_hello *h, char *err, size_t errlen);
/* Send the subscription; 0 or -1. */
int ct_share_subscribe(int fd, __u32 flags, const char *name);

/*
 * A viewer's reading side: bytes in, whole messages out. ct_share_read() reads what the
 * socket has (never blocks on a non-blocking socket): 1 read, 0 the agent closed it,
 * -1 an error. ct_share_next() hands out one message at a time: 1 with it, 0 none whole.
 */
struct ct_share_rx {
	char *buf;
	size_t len, off, cap;
	struct ct_share_hdr hdr;	/* the message ct_share_next() handed out (a copy: the
					 * stream keeps no alignment); its body is copied out too */
};
int ct_share_read(int fd, struct ct_share_rx *rx);
int ct_share_next(struct ct_share_rx *rx, const struct ct_share_hdr **h, const void **body);
void ct_share_rx_free(struct ct_share_rx *rx);

/* A record message's body as a record (@iface and cgroup point into @body); 0 or -1. */
int ct_share_decode(const void *body, size_t len, struct ct_record *r);

#endif /* CT_SHARE_H */
