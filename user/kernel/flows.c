// SPDX-License-Identifier: BSD-3-Clause
/* flows.c - flow-table expiry: user-space close decisions, batched scan and removal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "classify.h"
#include "ct_logic.h"
#include "engine.h"
#include "flows.h"
#include "log.h"

__u8 ct_open_kind(const struct ct_flow *f)
{
	return ct_open_kind_of(f->state);
}

int ct_open_expired(const struct ct_expiry *e, __u8 kind, __u64 first, __u64 last, __u64 now)
{
	return ct_open_expired_at(e, kind, first, last, now);
}

int ct_scanner_init(struct ct_scanner *s, const struct ct_map *map, __u32 batch)
{
	memset(s, 0, sizeof(*s));
	s->map = map;
	s->cut_link = -1;
	s->cut_fd = -1;
	s->batch = batch ? batch : 4096;
	s->keys = calloc(s->batch, sizeof(*s->keys));
	s->vals = calloc(s->batch, sizeof(*s->vals));
	if (!s->keys || !s->vals) {
		ct_scanner_free(s);
		return -ENOMEM;
	}
	return 0;
}

/*
 * One read of the cut: whole records, so that a read never leaves a part of one in the
 * kernel (the next read would then return only that part, without moving the iterator),
 * and under the iterator's buffer (8 pages), so that a record never overflows it (the
 * kernel would show the entry again, counting it twice). A mark every CUT_MARK entries
 * without a record makes a read return within some 7 000 entries even when none may go
 * (about 2 ms), then events are drained and the budget looked at.
 */
#define CUT_READ (16 * 1024 / sizeof(struct ct_scan_rec) * sizeof(struct ct_scan_rec))
#define CUT_MARK 64
/* batched lookups: the session drains its events every this many entries decided */
#define SCAN_DRAIN_EVERY 256
/* scan_cut(): no iterator could be made */
#define CUT_NONE (-1000)

int ct_scanner_use_cut(struct ct_scanner *s, int link_fd, struct ct_scan_params *p)
{
	/* a read's whole records waiting, a part of one, and the next read */
	free(s->cut_buf);
	s->cut_buf = malloc(2 * (CUT_READ + sizeof(struct ct_scan_rec)));
	if (!s->cut_buf)
		return -ENOMEM;
	s->cut_link = link_fd;
	s->cut = p;
	return 0;
}

static void cut_end(struct ct_scanner *s)
{
	/* a scanner never set up (a session that failed to open) is all zeros: fd 0 is not its */
	if (s->cut && s->cut_fd >= 0)
		close(s->cut_fd);
	s->cut_fd = -1;
	s->cut_len = 0;
	s->cut_pend = 0;
}

void ct_scanner_free(struct ct_scanner *s)
{
	cut_end(s);
	free(s->keys);
	free(s->vals);
	free(s->cut_buf);
	s->keys = NULL;
	s->vals = NULL;
	s->cut_buf = NULL;
}

static int emit_to(const struct ct_scan_out *out, int (*fn)(void *, const struct ct_record *),
		   enum ct_rec_type type, const struct ct_flow_key *k, const struct ct_flow *f,
		   __u8 close, __u64 end_ns)
{
	struct ct_record r;
	const char *ifn = out->iface ? out->iface(out->rec.ctx, CT_IFVLAN_IFINDEX(k->ifvlan)) : NULL;

	ct_record_from_flow(&r, type, k, f, close, end_ns, out->to_wall, ifn);
	return fn(out->rec.ctx, &r);
}

static int emit(const struct ct_scan_out *out, enum ct_rec_type type, const struct ct_flow_key *k,
		const struct ct_flow *f, __u8 close, __u64 end_ns)
{
	return emit_to(out, out->rec.record, type, k, f, close, end_ns);
}

/* Whether the entry changed between two readings: a packet came. */
static int changed(const struct ct_flow *a, const struct ct_flow *b)
{
	return a->state != b->state || a->last_seen != b->last_seen ||
	       a->first_ns != b->first_ns || a->pkts[0] != b->pkts[0] || a->pkts[1] != b->pkts[1];
}

/*
 * Take the entry @k out of the table, if it is still as the scan read it (*@f): a packet
 * that came in between (a RST on an idle flow, a SYN restarting an ended one) wins, and
 * the entry goes back. If it cannot go back (a packet made a new entry for the key in the
 * meantime, or the table is full), nothing is lost: the state it was taken out with is
 * reported instead, in *@f. Returns 1 when *@f is to be reported as removed.
 */
static int take(struct ct_scanner *s, const struct ct_flow_key *k, struct ct_flow *f)
{
	struct ct_flow now;

	if (s->take_hook)
		s->take_hook(s->take_ctx, 0, k);
	if (ct_map_lookup_and_delete(s->map, k, &now))
		return 0;	/* gone meanwhile: evicted (and counted), replaced */
	if (s->take_hook)
		s->take_hook(s->take_ctx, 1, k);
	if (changed(&now, f)) {
		if (!ct_map_update(s->map, k, &now, BPF_NOEXIST))
			return 0;
		*f = now;
		s->split++;
	}
	s->removed++;
	return 1;
}

/* Report @f, just taken out: its final state, and the close if user space decides it. */
static int report_taken(const struct ct_scan_out *out, const struct ct_flow_key *k,
			const struct ct_flow *f, const struct ct_clock *clk)
{
	__u64 last = ct_flow_last_ns(clk, f);
	__u8 kind;

	if (f->state & CT_ST_ENDED) {
		/* the kernel reported the close; a summarised one has no final state either */
		if (f->state & CT_ST_SUMMARY)
			return 0;
		return emit(out, CT_REC_FLOW, k, f, f->close, f->end_ns);
	}
	kind = ct_open_kind(f);
	if (emit(out, CT_REC_CLOSE, k, f, kind, last) < 0)
		return -1;
	return emit(out, CT_REC_FLOW, k, f, kind, last);
}

/* Decide one entry; returns 1 if it is to be removed, -1 if the sink refused more. */
static int decide(struct ct_scanner *s, const struct ct_expiry *e, const struct ct_clock *clk,
		  __u64 now, enum ct_scan_mode mode, const struct ct_scan_out *out,
		  const struct ct_flow_key *k, const struct ct_flow *seen)
{
	int flush = mode != CT_SCAN_EXPIRE;
	/* never before first_ns, which has more than last-seen's tick precision */
	__u64 last = ct_flow_last_ns(clk, seen), quiet;
	struct ct_flow f = *seen;

	quiet = now > last ? now - last : 0;
	if (f.state & CT_ST_ENDED) {
		/* the kernel sets ENDED before it writes close: not settled yet */
		if (f.close == CT_CLOSE_NONE && !flush)
			return 0;
		if (!flush && quiet < e->linger_ns)
			return 0;
	} else if (mode == CT_SCAN_OPEN) {	/* not closed: only its state so far */
		return emit(out, CT_REC_FLOW, k, &f, CT_CLOSE_NONE, last) < 0 ? -1 : 0;
	} else if (!flush && !ct_open_expired(e, ct_open_kind(&f), f.first_ns, last, now)) {
		return 0;
	}
	if (!take(s, k, &f))
		return 0;
	return report_taken(out, k, &f, clk) < 0 ? -1 : 1;
}

/* Decide one entry; an entry that stays is shown to the sink's visitor, if it has one. */
static int scan_one(struct ct_scanner *s, const struct ct_expiry *e, const struct ct_clock *clk,
		    __u64 now, enum ct_scan_mode mode, const struct ct_scan_out *out,
		    const struct ct_flow_key *k, const struct ct_flow *f)
{
	int r = decide(s, e, clk, now, mode, out, k, f);
	__u64 last;

	if (r || !out->rec.visit)
		return r;
	last = ct_flow_last_ns(clk, f);
	return emit_to(out, out->rec.visit, CT_REC_OPEN, k, f,
		       f->state & CT_ST_ENDED ? f->close : CT_CLOSE_NONE,
		       f->state & CT_ST_ENDED && f->end_ns ? f->end_ns : last) < 0 ? -1 : 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* A slice of a pass ends: what it removed; before the first whole pass, the count so far. */
static void pass_pause(struct ct_scanner *s, __u64 removed_before)
{
	s->pass_removed += s->removed - removed_before;
	/* before the first whole pass, what this one met so far: a lower bound */
	if (!s->passes)
		s->last_seen_flows = s->pass_seen > s->pass_removed ?
				     s->pass_seen - s->pass_removed : 0;
}

/* A whole pass ends: what it left in the table. */
static void pass_end(struct ct_scanner *s, __u64 removed_before)
{
	s->pass_removed += s->removed - removed_before;
	s->last_seen_flows = s->pass_seen > s->pass_removed ? s->pass_seen - s->pass_removed : 0;
	s->passes++;
}

/* Decide the records of [0, @end) of the cut's buffer; -1 when the sink refused more. */
static int cut_decide(struct ct_scanner *s, const struct ct_expiry *e, const struct ct_clock *clk,
		      __u64 now, const struct ct_scan_out *out, size_t end)
{
	struct ct_scan_rec r;

	for (size_t off = 0; off + sizeof(r) <= end; off += sizeof(r)) {
		memcpy(&r, s->cut_buf + off, sizeof(r));
		if (r.type == CT_SCAN_REC_FLOW &&
		    scan_one(s, e, clk, now, CT_SCAN_EXPIRE, out, &r.key, &r.flow) < 0)
			return -1;
	}
	return 0;
}

/*
 * An expiry pass through the kernel's cut: the iterator hands over the flows that may go
 * (each decided again here, on the copy it read) and counts the rest. Slices as ct_scan()
 * does, the iterator staying open between them.
 *
 * A read of the iterator can end inside a hash bucket, and the next goes on from the
 * number of entries of that bucket already shown: removing one of them in between would
 * make it pass over an entry. So each read's records are decided (and taken out) only
 * after the next read, once the iterator has left their buckets.
 */
static int scan_cut(struct ct_scanner *s, const struct ct_expiry *e, const struct ct_clock *clk,
		    __u64 now, const struct ct_scan_out *out)
{
	const size_t rs = sizeof(struct ct_scan_rec);
	__u64 removed = s->removed, until = s->budget_ns ? mono_ns() + s->budget_ns : 0;
	int stop = 0, err;
	ssize_t n;

	if (s->cut_fd < 0) {
		s->cut->seen = 0;
		s->cut_fd = bpf_iter_create(s->cut_link);
		if (s->cut_fd < 0) {
			s->cut_fd = -1;
			return CUT_NONE;
		}
		s->cut_len = 0;
		s->cut_pend = 0;
		s->pass_seen = 0;
		s->pass_removed = 0;
	}
	/* the program reads these for every entry: this slice's time */
	s->cut->now = now;
	s->cut->clk = *clk;
	s->cut->exp = *e;
	s->cut->mark_every = CUT_MARK;
	for (;;) {
		size_t whole;

		n = read(s->cut_fd, s->cut_buf + s->cut_len, CUT_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			cut_end(s);
			s->pass_removed += s->removed - removed;
			return err;
		}
		s->cut_len += (size_t)n;
		s->pass_seen = s->cut->seen;
		if (n == 0)
			break;	/* the end of the table */
		/* the previous read's records; this one's wait for the next */
		if (cut_decide(s, e, clk, now, out, s->cut_pend) < 0) {
			stop = 1;
			break;
		}
		whole = s->cut_pend + (s->cut_len - s->cut_pend) / rs * rs;
		memmove(s->cut_buf, s->cut_buf + s->cut_pend, s->cut_len - s->cut_pend);
		s->cut_len -= s->cut_pend;
		s->cut_pend = whole - s->cut_pend;
		if (out->rec.flush)
			out->rec.flush(out->rec.ctx);
		if (until && mono_ns() >= until) {
			pass_pause(s, removed);
			return 0;
		}
	}
	/* the table's end: what is left, whole records only */
	if (!stop && cut_decide(s, e, clk, now, out, s->cut_len) < 0)
		stop = 1;
	cut_end(s);
	pass_end(s, removed);
	return stop ? 1 : 0;
}

int ct_scan(struct ct_scanner *s, const struct ct_expiry *e, const struct ct_clock *clk,
	    __u64 now, enum ct_scan_mode mode, const struct ct_scan_out *out)
{
	__u64 removed = s->removed, until = 0;
	__u32 in, next = 0, count;
	int first, err = 0, done = 0, stop = 0;

	if (mode == CT_SCAN_EXPIRE && !out->rec.visit && s->cut) {
		err = scan_cut(s, e, clk, now, out);
		if (err != CUT_NONE)
			return err;
		/* no iterator to be had (out of descriptors, of memory): every entry, from now */
		pr_warn("expiry scans read the whole flow table from now on: no map iterator "
			"(%s)\n", strerror(errno));
		s->cut = NULL;
	}
	cut_end(s);	/* another kind of pass: the cut's, if one was under way, is dropped */

	/* only expiry goes by slices; the other modes are whole passes, from the start */
	if (mode != CT_SCAN_EXPIRE || !s->resume) {
		s->resume = 0;
		s->pass_seen = 0;
		s->pass_removed = 0;
	}
	if (mode == CT_SCAN_EXPIRE && s->budget_ns)
		until = mono_ns() + s->budget_ns;
	first = !s->resume;
	in = s->token;
	while (!done && !stop) {
		count = s->batch;
		err = ct_map_lookup_batch(s->map, first ? NULL : &in, &next, s->keys, s->vals,
					  &count);
		if (err) {
			if (err != -ENOENT)
				return err;
			done = 1;	/* the last, possibly partial, batch */
			err = 0;
		}
		first = 0;
		in = next;
		s->pass_seen += count;
		for (__u32 i = 0; i < count; i++) {
			if (scan_one(s, e, clk, now, mode, out, &s->keys[i], &s->vals[i]) < 0) {
				stop = 1;
				break;
			}
			/* a batch whose flows all expire takes some ms: the events that came
			 * meanwhile go out within it, before a small ring buffer fills */
			if ((i & (SCAN_DRAIN_EVERY - 1)) == SCAN_DRAIN_EVERY - 1 && out->rec.flush)
				out->rec.flush(out->rec.ctx);
		}
		/* a scan of a big table takes a while: events must not wait for its end */
		if (out->rec.flush && !stop)
			out->rec.flush(out->rec.ctx);
		if (until && !done && !stop && mono_ns() >= until) {
			s->resume = 1;	/* the rest of the pass at the next call */
			s->token = in;
			pass_pause(s, removed);
			return 0;
		}
	}
	pass_end(s, removed);
	s->resume = 0;
	return stop ? 1 : 0;
}
