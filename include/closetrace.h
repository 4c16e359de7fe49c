/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * closetrace.h - the ABI shared by the BPF programs (bpf/) and user space (user/):
 * flow key and value, ring-buffer event, global counter indices, close kinds and the
 * state bits of a flow. Fixed-size types only; every struct is padded explicitly and
 * its size asserted so that both compilers agree on the layout.
 */
#ifndef CLOSETRACE_H
#define CLOSETRACE_H

#include <linux/types.h>

#define CT_ABI_VERSION 2

/*
 * Endpoints of a flow. The key stores the two endpoints in canonical order, the "lower"
 * one first (see ct_key_canon() in ct_logic.h), so that both directions of a connection
 * land in one map entry. Per-endpoint arrays in the value are indexed by CT_EP_LO/HI;
 * which of them is the client is a state bit, resolved by ct_client_ep().
 */
#define CT_EP_LO 0
#define CT_EP_HI 1

/*
 * The key is 48 bytes: the two endpoints, the interface and outer VLAN, and the tunnel the
 * segment came in (one level: its type and id), so that two tenants with the same inner
 * addresses stay two flows. IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), which
 * is also how the family is told. The interface index and the outermost VLAN id share one
 * word: ifindex in the upper 20 bits (an index past 2^20 is folded), VLAN id in the lower
 * 12 (0 when untagged). Outside tunnels tun_type and tun_id are 0.
 */
struct ct_flow_key {
	__u32 addr[2][4];	/* network byte order, [CT_EP_LO] first */
	__u16 port[2];		/* host byte order */
	__u32 ifvlan;		/* CT_IFVLAN(ifindex, vlan) */
	__u32 tun_id;		/* VNI, GRE key, ERSPAN session; 0 when it has none, and for
				 * GTP-U, whose TEIDs differ by direction (ct_flow.tun_id) */
	__u8 tun_type;		/* enum ct_tunnel */
	__u8 pad[3];
};
_Static_assert(sizeof(struct ct_flow_key) == 48, "ct_flow_key layout");

/* The tunnel a segment was decapsulated from (one level). */
enum ct_tunnel {
	CT_TUN_NONE = 0,
	CT_TUN_VXLAN,		/* UDP, 8-byte header with a 24-bit VNI, then Ethernet */
	CT_TUN_GENEVE,		/* UDP, 8 bytes + options, 24-bit VNI, then Ethernet or IP */
	CT_TUN_GTPU,		/* UDP, GTPv1-U G-PDU, 32-bit TEID, extension headers, then IP */
	CT_TUN_TEREDO,		/* UDP, optional indicators, then IPv6; no id */
	CT_TUN_GRE,		/* IP protocol 47, optional 32-bit key, then IP, Ethernet or MPLS */
	CT_TUN_ERSPAN,		/* GRE carrying a mirrored frame (types I-III), 10-bit session */
	CT_TUN_MAX,
};
/* The UDP tunnels, whose ports are configurable: the first CT_TUN_UDP types. */
#define CT_TUN_UDP 4
#define CT_TUN_PORTS 4		/* ports per UDP tunnel type */
#define CT_TUN_ALL ((1u << CT_TUN_MAX) - 2)	/* every type's bit in ct_cfg.decap */

#define CT_IFINDEX_MASK 0xfffffu	/* the 20 bits of an ifindex the key has room for */
#define CT_VLAN_MASK 0xfffu		/* the VLAN id: the low 12 bits of a tag's TCI */
#define CT_IFVLAN(ifindex, vlan) \
	((((__u32)(ifindex) & CT_IFINDEX_MASK) << 12) | ((vlan) & CT_VLAN_MASK))
#define CT_IFVLAN_IFINDEX(w) ((w) >> 12)
#define CT_IFVLAN_VLAN(w) ((w) & CT_VLAN_MASK)

/* addr[2] of an IPv4-mapped address (::ffff:a.b.c.d), host byte order: it tells IPv4 */
#define CT_V4MAPPED 0xffffu

/*
 * History letters, Zeek's meaning: S SYN without ACK, H SYN+ACK, A pure ACK, D payload,
 * F FIN, R RST. Each (letter, endpoint) pair is recorded once, in order of first
 * occurrence, as a 4-bit code in ct_flow.history; the code is 1 + endpoint * 6 + letter
 * so that 0 ends the string. The case (originator upper, responder lower) is chosen when
 * rendering, once the client is known.
 */
enum ct_letter {
	CT_L_SYN = 0,
	CT_L_SYNACK,
	CT_L_ACK,
	CT_L_DATA,
	CT_L_FIN,
	CT_L_RST,
	CT_L_MAX,
};
#define CT_HIST_MAX 12		/* 6 letters x 2 endpoints */

/* State bits of a flow (ct_flow.state), set only with atomic OR. */
#define CT_ST_LETTER(ep, l)	(1u << ((ep) * 8 + (l)))	/* bits 0-5 lo, 8-13 hi */
#define CT_ST_LETTERS		0x3f3fu
#define CT_ST_ENDED		(1u << 16)	/* the close kind is decided (ct_flow.close) */
#define CT_ST_CT		(1u << 17)	/* handshake completed: SYN, SYN-ACK, ACK */
#define CT_ST_HS_DONE		(1u << 18)	/* nothing more to learn about the handshake */
#define CT_ST_ROLE		(1u << 19)	/* the client is known from a SYN or a SYN-ACK */
#define CT_ST_CLIENT_HI		(1u << 20)	/* with CT_ST_ROLE: the client is CT_EP_HI */
#define CT_ST_GUESS_HI		(1u << 21)	/* no SYN/SYN-ACK yet: CT_EP_HI looks like the client */
#define CT_ST_ASSURED		(1u << 22)	/* established: a completed handshake, or both sides
						 * sent an ACK, data or a FIN; evicted last */
#define CT_ST_SUMMARY		(1u << 23)	/* its close went into a storm summary, not an event */

/*
 * The owner of a flow's local socket, on the host whose traffic is watched (tc): the
 * socket's cgroup v2 id and cookie, from the packet's socket at tc egress or from the socket
 * tracepoints; the process (tgid and comm), taken by those tracepoints only
 * where the kernel runs in a process that holds the socket (connect, listen, close,
 * shutdown), kept per socket so that a later event in softirq still names it. For a
 * refusal (CT_OWN_NOSOCK) there is no socket: the fields are the port's last listener's.
 */
struct ct_owner {
	__u64 cgroup;		/* cgroup v2 id (the cgroup directory's inode), 0 unknown */
	__u64 cookie;		/* socket cookie (as ss -e shows it), 0 unknown */
	__u32 pid;		/* tgid, with CT_OWN_PID */
	__u32 closed_ms;	/* CT_OWN_LISTENER: ms from the listener's close to the refusal;
				 * 0: it still listened */
	char comm[16];		/* with CT_OWN_PID */
};
_Static_assert(sizeof(struct ct_owner) == 40, "ct_owner layout");

/* ct_flow.own_flags */
#define CT_OWN_PID 1		/* own.pid and own.comm are set */
#define CT_OWN_ACCEPTED 2	/* ... they are the listening process's: an accepted socket */
#define CT_OWN_CLOSER 4		/* ... they are the process's that closed or shut down the
				 * socket (another than the one that connected or listened) */
#define CT_OWN_NOSOCK 8		/* this host answered with no socket (a refused SYN, a RST
				 * for no connection): own describes the port's listener */
#define CT_OWN_LISTENER 16	/* with NOSOCK: a listener of the port was seen (closed_ms) */
#define CT_OWN_LISTENING 32	/* ... and it still listened (on another address, or full) */
#define CT_OWN_EP_HI 64		/* the owning socket is endpoint CT_EP_HI's (when both ends are
				 * this host's, the server's names the flow) */

/*
 * The flow value, 184 bytes. The first 40 are all a plain data packet touches (and share
 * a cache line with the key's end); the rest is written by control packets only.
 * Per-endpoint arrays are indexed by CT_EP_LO / CT_EP_HI.
 */
struct ct_flow {
	/* hot */
	__u32 state;		/* CT_ST_*, set with atomic OR */
	__u32 last_seen;	/* last packet, in ticks: jiffies live, ms in replay (ct_clock) */
	__u64 pkts[2];		/* packets sent by each endpoint */
	__u64 bytes[2];		/* TCP payload bytes sent by each endpoint */
	/* cold */
	__u64 history;		/* 4-bit letter codes, first at the low end */
	__u64 first_ns;		/* first packet, precise clock */
	__u64 end_ns;		/* when the close was decided in the kernel, 0 before */
	__u32 syn[2];		/* SYN without ACK sent by each endpoint */
	__u32 synack[2];	/* SYN with ACK */
	__u32 fin[2];
	__u32 rst[2];
	__u8 close;		/* enum ct_close, valid once CT_ST_ENDED */
	__u8 rst_reason;	/* this host's first RST: the kernel's reason + 1, 0 unknown */
	__u8 rst_state;		/* ... and its socket's TCP state (TCP_ESTABLISHED = 1), 0 unknown */
	__u8 rst_accepted;	/* a local socket accepted a RST of this flow (tcp_receive_reset) */
	__u8 own_flags;		/* CT_OWN_*: what ct_flow.own holds */
	__u8 ttl[2];		/* IP TTL (hop limit) of each endpoint's first SYN or SYN-ACK,
				 * as seen here; 0 none */
	__u8 rst_ttl;		/* ... of the first RST (rst_by's, or an orphan's) */
	struct ct_owner own;	/* the local socket's owner, written on control packets and
				 * socket events only */
	__u32 outer[2][4];	/* in a tunnel: the outer IP source of each endpoint's packets
				 * (IPv4-mapped like the key), set by the flow's first packet */
	__u32 tun_id[2];	/* ... the tunnel id each endpoint's packets carry (GTP-U's
				 * TEIDs differ by direction), from its first control packet */
};
_Static_assert(sizeof(struct ct_flow) == 184, "ct_flow layout");
_Static_assert(__builtin_offsetof(struct ct_flow, history) == 40, "ct_flow hot part");

/* How a flow ended. The kernel decides the first group; user space the second. */
enum ct_close {
	CT_CLOSE_NONE = 0,
	CT_CLOSE_GRACEFUL,	/* SF: FIN both ways, no RST */
	CT_CLOSE_REFUSED,	/* REJ: SYN answered by RST, no SYN-ACK */
	CT_CLOSE_RESET_CLIENT,	/* RSTO: established, client sent the first RST */
	CT_CLOSE_RESET_SERVER,	/* RSTR: established, server sent the first RST */
	CT_CLOSE_FIN_RESET,	/* RSTO/RSTR: a FIN, then a RST */
	CT_CLOSE_SYN_RESET,	/* RSTOS0: client SYN then RST, no SYN-ACK */
	CT_CLOSE_SYNACK_RESET,	/* RSTRH: server SYN-ACK then RST, no SYN seen */
	CT_CLOSE_ORPHAN_RST,	/* OTH: RST for a flow never seen before */
	CT_CLOSE_UNANSWERED,	/* S0: SYN(s), no reply within the SYN timeout */
	CT_CLOSE_HALF_OPEN,	/* SH/SHR: SYN then FIN, no SYN-ACK */
	CT_CLOSE_HALF_CLOSED,	/* S2/S3: one side's FIN unanswered until idle */
	CT_CLOSE_IDLE,		/* S1: established, never closed */
	CT_CLOSE_MIDSTREAM,	/* OTH: no SYN seen, no RST */
	CT_CLOSE_MAX,
};

/*
 * Interfaces one session watches; each has its own slot of counters, found from the
 * packet's interface index (slot 0 also takes what matches none: replay, a test run).
 */
#define CT_MAX_IFACES 64
/* Interfaces the reset programs look a flow up on (the key holds the interface). */
#define CT_RR_IFACES 16

/*
 * The packet programs' load-time switches, set by user space between open and load (one
 * struct in .rodata, which the verifier folds; the reset programs have a copy, and the
 * in-process engine a plain variable): ct_cfg_fill() in user/kernel/loader.c sets them all.
 */
struct ct_cfg {
	/* the interfaces watched: each counts in the slot of its index here */
	__u32 ifindex[CT_MAX_IFACES];
	__u32 nifs;
	/* wake the ring-buffer reader once this many bytes wait (0: on every event) */
	__u32 wakeup_bytes;
	/* the eviction rings' size less one (a power of two less one) */
	__u32 ring_mask;
	/* orphan-RST closes past this many a second (0: no limit) go to the storm table */
	__u32 storm_rate;
	__u8 emit_graceful;	/* an event for graceful closes too (watch --all) */
	__u8 user_clock;	/* time from user_clock_ns (replay), not the kernel's clock */
	__u8 owners;		/* tc: the cgroup and cookie of the local socket into ct_flow.own */
	__u8 decap;		/* bit (1 << enum ct_tunnel): decapsulate that tunnel type */
	/* the UDP destination ports of each UDP tunnel type (0: unused); Teredo either port */
	__u16 tun_port[CT_TUN_UDP][CT_TUN_PORTS];
};
_Static_assert(sizeof(struct ct_cfg) == 4 * CT_MAX_IFACES + 20 + 2 * CT_TUN_UDP * CT_TUN_PORTS,
	       "struct ct_cfg layout");

/*
 * Kernel ABI values by number. The BPF side cannot include glibc's headers (the address
 * families, errno), and Debian 12's 6.1 UAPI headers predate tcx (kernel 6.6).
 */
#define CT_AF_INET 2		/* a socket's family (skc_family): IPv4 */
#define CT_AF_INET6 10		/* ... IPv6 */
#define CT_EEXIST 17		/* a BPF_NOEXIST map update on a key that is there: -CT_EEXIST */
#define CT_E2BIG 7		/* a map update on a full hash table: -CT_E2BIG */
#define CT_BPF_TCX_INGRESS 46	/* enum bpf_attach_type: tcx links, and tc programs' type */
#define CT_BPF_TCX_EGRESS 47
#define CT_BPF_F_BEFORE (1u << 3)	/* bpf_link_create flag: first among a hook's programs */

/* Who sent the first RST of a flow, as carried in events. */
#define CT_BY_NONE 0
#define CT_BY_CLT 1
#define CT_BY_SRV 2

/* Ring-buffer record types. */
enum ct_event_type {
	CT_EV_CLOSE = 0,	/* a flow's fate was decided: once per flow */
	CT_EV_REPLACED,		/* an ended flow's final state, as a new SYN replaces it */
	CT_EV_AMEND,		/* the reason of a RST this host sent, after its close event */
};

/* ct_event.evflags */
#define CT_EVF_LOCAL_RST 1	/* decided by a RST this host sent, its reason not yet known:
				 * a CT_EV_AMEND follows when the reset tracepoint runs */
#define CT_EVF_RX_RST 2		/* decided by a RST that came in: if a local socket takes it,
				 * a CT_EV_AMEND follows from tcp_receive_reset */

/* Ring-buffer record. */
struct ct_event {
	__u64 ts_ns;		/* decision (or replacement) time, clock of ct_flow.first_ns */
	struct ct_flow_key key;
	__u8 close;		/* enum ct_close */
	__u8 rst_by;		/* CT_BY_* */
	__u8 client_ep;		/* CT_EP_* of the client */
	__u8 type;		/* enum ct_event_type */
	__u8 evflags;		/* CT_EVF_* */
	__u8 pad[3];
	struct ct_flow flow;	/* snapshot, including the deciding packet */
};
_Static_assert(sizeof(struct ct_event) == 248, "ct_event layout");
/*
 * Outside tunnels a record stops before flow.outer, which is zero: 208 bytes, what an event
 * took before tunnels, so that the ring buffer holds as many. Readers take either size and
 * zero the rest.
 */
#define CT_EVENT_PLAIN_SIZE \
	(__builtin_offsetof(struct ct_event, flow) + __builtin_offsetof(struct ct_flow, outer))
_Static_assert(CT_EVENT_PLAIN_SIZE == 208, "ct_event without its tunnel part");

/* Per-CPU counters of one interface (a slot of the "counters" array map): indices. */
enum ct_counter {
	CT_C_PACKETS = 0,	/* every packet the program saw */
	CT_C_TCP,		/* TCP segments parsed */
	CT_C_OTHER,		/* well-formed, not TCP, not a fragment */
	CT_C_MALFORMED,		/* truncated or inconsistent headers */
	CT_C_FRAGMENT,		/* non-first IP fragments: no TCP header in them */
	CT_C_VLAN,		/* packets with at least one VLAN tag */
	CT_C_SYN_CLT,		/* SYN without ACK, by the side that sent it */
	CT_C_SYN_SRV,
	CT_C_SYNACK_CLT,	/* SYN with ACK */
	CT_C_SYNACK_SRV,
	CT_C_FIN_CLT,
	CT_C_FIN_SRV,
	CT_C_RST_CLT,
	CT_C_RST_SRV,
	CT_C_HANDSHAKES,	/* completed handshakes */
	CT_C_FLOWS,		/* flows created */
	CT_C_RESTARTS,		/* ended flows replaced by a new SYN (included in FLOWS) */
	CT_C_FLOW_FAIL,		/* flow not tracked: the table was full and nothing could go */
	CT_C_RB_FAIL,		/* ring-buffer reservation failed: an event was lost */
	CT_C_EVICT_EMB,		/* embryonic flows evicted to make room (counted at removal) */
	CT_C_EVICT_EST,		/* established flows evicted: no embryonic one was left */
	CT_C_SUMMARISED,	/* kernel closes counted in a storm summary instead of an event */
	CT_C_STORM_FULL,	/* ... of which the summary table had no room for their server */
	CT_C_OWNER_FULL,	/* sockets whose owner the owner table had no room for */
	CT_C_TUN_BASE,		/* + enum ct_tunnel - 1: TCP segments decapsulated from it */
	CT_C_TUN_LAST = CT_C_TUN_BASE + CT_TUN_MAX - 2,
	CT_C_CLOSE_BASE,	/* + enum ct_close: closes decided in the kernel */
	CT_C_MAX = CT_C_CLOSE_BASE + CT_CLOSE_MAX,
};

/*
 * A simultaneous reading of the kernel's two clocks, taken by the ct_clock_probe program:
 * user space turns ct_flow.last_seen (jiffies, the cheapest clock to read per packet) into
 * CLOCK_MONOTONIC nanoseconds with it.
 */
struct ct_clock_probe {
	__u64 jiffies;
	__u64 mono_ns;
};

/* In replay, last_seen ticks are milliseconds of capture time. */
#define CT_REPLAY_TICK_NS 1000000ull

/*
 * RSTs this host sent: [0] all of them, counted at tc egress; [reason + 1] those the reset
 * tracepoint saw with that kernel reason (as in ct_flow.rst_reason), on 6.10 and later.
 */
#define CT_RST_REASONS 64

/* The per-CPU value of one interface's slot of the "counters" map. */
struct ct_counters {
	__u64 c[CT_C_MAX];
	__u64 rst_sent[CT_RST_REASONS];
};

/* What the parser made of a packet (replay reads it back for each packet). */
enum ct_parse_res {
	CT_P_TCP = 0,		/* a TCP segment: key, flags and payload are set */
	CT_P_OTHER,		/* well formed but not (parsable) TCP */
	CT_P_FRAGMENT,		/* a non-first IP fragment: no TCP header in it */
	CT_P_MALFORMED,		/* truncated or inconsistent headers */
};

/* Positions in an eviction ring: they only grow; a slot is position & cfg.ring_mask. */
struct ct_ring_pos {
	__u64 head;
	__u64 tail;		/* embryonic ring: the next candidate; established: the hand */
};

/*
 * Storm summaries. A close past the storm rate is counted under its server's address and
 * port, its kind and the summary period (user space's storm_epoch, modulo 3: it reads a
 * period's entries once no program can still be writing them, two periods later).
 */
#define CT_STORM_KEYS 4096
#define CT_STORM_EPOCHS 3
struct ct_storm_key {
	__u32 addr[4];		/* the server's, as in flow keys */
	__u32 ifvlan;
	__u16 port;		/* the server's, host order */
	__u8 close;		/* enum ct_close */
	__u8 epoch;		/* the period, modulo 3, in the low bits; CT_BY_* << 4 of the
				 * RST that decided the close in the high ones */
	__u32 tun_id;		/* the flows' tunnel, as in flow keys */
	__u8 tun_type;
	__u8 pad[3];
};
_Static_assert(sizeof(struct ct_storm_key) == 32, "ct_storm_key layout");
#define CT_STORM_EPOCH(b) ((b) & 0xf)
#define CT_STORM_BY(b) ((b) >> 4)

struct ct_storm_val {		/* per CPU */
	__u64 count;
	__u64 first_ns;		/* clock of ct_flow.first_ns */
	__u64 last_ns;
};

/* Defaults user space applies before load. */
/* closetrace's version: --version, the metrics' build_info, the man pages */
#define CT_VERSION "0.1.0"

#define CT_DEFAULT_FLOWS 131072
#define CT_DEFAULT_RINGBUF (4u << 20)

#endif /* CLOSETRACE_H */
