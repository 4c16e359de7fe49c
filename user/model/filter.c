// SPDX-License-Identifier: BSD-3-Clause
/*
 * filter.c - the filter language of -f/--filter: a hand-written lexer, a recursive-descent
 * parser into a small tree (one array of nodes; and / or nodes are n-ary, their children a
 * linked list, so long chains stay flat), and the evaluator over records. Nesting is
 * bounded by CT_FILTER_MAX_DEPTH, so neither the parser nor the evaluator recurses deeper.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "filter.h"
#include "tunnel.h"
#include "owner.h"
#include "zones.h"
#include "reasons.h"
#include "text.h"

enum field {
	F_SYN,
	F_SYNACK,
	F_CT,
	F_MIDSTREAM,
	F_FIN,
	F_FIN_CLT,
	F_FIN_SRV,
	F_RST,
	F_RST_CLT,
	F_RST_SRV,
	F_PKTS_CLT,
	F_PKTS_SRV,
	F_BYTES_CLT,
	F_BYTES_SRV,
	F_DUR,
	F_CLOSE,
	F_ZEEK,
	F_RST_BY,
	F_RST_REASON,
	F_IP_CLT,
	F_IP_SRV,
	F_PORT_CLT,
	F_PORT_SRV,
	F_IP,		/* either side's address */
	F_HOST,		/* ... the same, by tcpdump's name */
	F_PORT,		/* either side's port */
	F_VLAN,
	F_IFACE,
	F_APP_UNIT,
	F_APP_CONTAINER,
	F_APP_POD,
	F_APP_COMM,
	F_APP_PID,
	F_APP_CGROUP,
	F_CLT_ZONE,
	F_SRV_ZONE,
	F_TUNNEL,	/* the tunnel type */
	F_TUNNEL_ID,	/* its id (GTP-U: either side's TEID) */
	F_TUNNEL_IP,	/* either outer address */
	F_MAX,
};

const char *const ct_filter_fields[F_MAX + 1] = {
	[F_SYN] = "syn.count",
	[F_SYNACK] = "synack.count",
	[F_CT] = "ct.count",
	[F_MIDSTREAM] = "midstream",
	[F_FIN] = "fin.count",
	[F_FIN_CLT] = "fin.count.clt",
	[F_FIN_SRV] = "fin.count.srv",
	[F_RST] = "rst.count",
	[F_RST_CLT] = "rst.count.clt",
	[F_RST_SRV] = "rst.count.srv",
	[F_PKTS_CLT] = "pkts.clt",
	[F_PKTS_SRV] = "pkts.srv",
	[F_BYTES_CLT] = "bytes.clt",
	[F_BYTES_SRV] = "bytes.srv",
	[F_DUR] = "dur",
	[F_CLOSE] = "close",
	[F_ZEEK] = "zeek",
	[F_RST_BY] = "rst.by",
	[F_RST_REASON] = "rst.reason",
	[F_IP_CLT] = "ip.clt",
	[F_IP_SRV] = "ip.srv",
	[F_PORT_CLT] = "port.clt",
	[F_PORT_SRV] = "port.srv",
	[F_IP] = "ip",
	[F_HOST] = "host",
	[F_PORT] = "port",
	[F_VLAN] = "vlan",
	[F_IFACE] = "iface",
	[F_APP_UNIT] = "app.unit",
	[F_APP_CONTAINER] = "app.container",
	[F_APP_POD] = "app.pod",
	[F_APP_COMM] = "app.comm",
	[F_APP_PID] = "app.pid",
	[F_APP_CGROUP] = "app.cgroup",
	[F_CLT_ZONE] = "clt.zone",
	[F_SRV_ZONE] = "srv.zone",
	[F_TUNNEL] = "tunnel",
	[F_TUNNEL_ID] = "tunnel.id",
	[F_TUNNEL_IP] = "tunnel.ip",
	[F_MAX] = NULL,
};

/* What a field's values are, hence which operators and values it takes. */
enum kind {
	K_NUM,		/* a whole number from 0 to the field's max */
	K_DUR,		/* seconds, decimals allowed */
	K_CLOSE,	/* a close-kind name */
	K_ZEEK,		/* a Zeek conn_state */
	K_RST_BY,	/* clt, srv or - */
	K_REASON,	/* a reset reason name, or - */
	K_STR,		/* any string */
	K_ADDR,		/* an address or a prefix */
	K_TUNNEL,	/* a tunnel type name, or none */
};

#define PER_SIDE_MAX 4294967295ull	/* a __u32 counter of one side */
#define SUM_MAX 8589934590ull		/* the sum of two */

/*
 * What each field is: its kind, its largest value (numbers), and what it means, for
 * `closetrace help filter`, which prints this table, so the help lists what the parser takes.
 */
static const struct {
	enum kind kind;
	__u64 max;
	const char *help;
} field_info[F_MAX] = {
	[F_SYN] = { K_NUM, SUM_MAX, "SYNs (without ACK), both sides" },
	[F_SYNACK] = { K_NUM, SUM_MAX, "SYN-ACKs, both sides" },
	[F_CT] = { K_NUM, 1, "1 when the handshake completed, else 0" },
	[F_MIDSTREAM] = { K_NUM, 1, "1 when joined midstream (no SYN nor SYN-ACK\n"
				    "seen: roles guessed), else 0" },
	[F_FIN] = { K_NUM, SUM_MAX, "FINs, both sides" },
	[F_FIN_CLT] = { K_NUM, PER_SIDE_MAX, "FINs the client sent" },
	[F_FIN_SRV] = { K_NUM, PER_SIDE_MAX, "FINs the server sent" },
	[F_RST] = { K_NUM, SUM_MAX, "RSTs, both sides" },
	[F_RST_CLT] = { K_NUM, PER_SIDE_MAX, "RSTs the client sent" },
	[F_RST_SRV] = { K_NUM, PER_SIDE_MAX, "RSTs the server sent" },
	[F_PKTS_CLT] = { K_NUM, UINT64_MAX, "packets the client sent" },
	[F_PKTS_SRV] = { K_NUM, UINT64_MAX, "packets the server sent" },
	[F_BYTES_CLT] = { K_NUM, UINT64_MAX, "TCP payload bytes the client sent" },
	[F_BYTES_SRV] = { K_NUM, UINT64_MAX, "TCP payload bytes the server sent" },
	[F_DUR] = { K_DUR, UINT64_MAX, "from the first packet to the close, decimals\n"
				       "allowed (dur > 1.5)" },
	[F_CLOSE] = { K_CLOSE, 0, "how the flow ended (the taxonomy), one of:" },
	[F_ZEEK] = { K_ZEEK, 0, "Zeek's conn_state of the flow, one of:" },
	[F_RST_BY] = { K_RST_BY, 0, "who sent the first RST, one of:" },
	[F_RST_REASON] = { K_REASON, 0, "why this host sent its RST (tc mode), one of:" },
	[F_IP_CLT] = { K_ADDR, 0, "the client's address (the sender of the SYN)" },
	[F_IP_SRV] = { K_ADDR, 0, "the server's address" },
	[F_PORT_CLT] = { K_NUM, 65535, "the client's port" },
	[F_PORT_SRV] = { K_NUM, 65535, "the server's port" },
	[F_IP] = { K_ADDR, 0, "either side's address (tcpdump's host); !=\n"
			      "means neither side's" },
	[F_HOST] = { K_ADDR, 0, "the same as ip" },
	[F_PORT] = { K_NUM, 65535, "either side's port (tcpdump's port); != means\n"
				   "neither side's" },
	[F_VLAN] = { K_NUM, 4095, "outermost VLAN id, 0 untagged" },
	[F_IFACE] = { K_STR, 0, "interface (in replay: the capture's file name)" },
	[F_APP_UNIT] = { K_STR, 0, "the unit of the local socket's cgroup, or a\n"
				   "refusal's last listener's (live tc; \"\" unknown)" },
	[F_APP_CONTAINER] = { K_STR, 0, "the container id (64 hex digits) of that cgroup" },
	[F_APP_POD] = { K_STR, 0, "the Kubernetes pod uid of that cgroup" },
	[F_APP_COMM] = { K_STR, 0, "the command of the process that held the socket" },
	[F_APP_PID] = { K_NUM, 4294967295ull, "its process id (tgid), 0 when not known" },
	[F_APP_CGROUP] = { K_STR, 0, "its cgroup v2 path: /system.slice/x.service" },
	[F_CLT_ZONE] = { K_STR, 0, "the client's zone: a name of --zones, else its\n"
				   "prefix at --zone-prefix (192.0.2.0/24)" },
	[F_SRV_ZONE] = { K_STR, 0, "the server's zone, the same way" },
	[F_TUNNEL] = { K_TUNNEL, 0, "the tunnel the flow came in, one of:" },
	[F_TUNNEL_ID] = { K_NUM, 4294967295ull, "its VNI, GRE key or ERSPAN session; GTP-U:\n"
						"either side's TEID (0 outside tunnels)" },
	[F_TUNNEL_IP] = { K_ADDR, 0, "either outer address of the tunnel; != means\n"
				     "neither (no tunnel: matches none)" },
};

/* Zeek's conn_state values, as ct_zeek_state() names them. */
static const char *const zeek_states[] = {
	"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
};

static const char *const rst_by_names[] = { "clt", "srv", "-" };

static const char *const tunnel_names[] = { "none", "vxlan", "geneve", "gtpu", "teredo", "gre",
					    "erspan" };
_Static_assert(sizeof(tunnel_names) / sizeof(tunnel_names[0]) == CT_TUN_MAX, "tunnel names");

/* The reset reasons closetrace names (reasons.c), and "-": filled once, when first asked. */
static const char *reason_names[CT_REASONS_MAX + 1];
static size_t nreason_names;

static const char *const *reasons(size_t *n)
{
	if (!nreason_names) {
		size_t nw;
		const struct ct_reason_word *w = ct_reason_words(&nw);

		reason_names[0] = "-";
		for (size_t i = 0; i < nw && i < CT_REASONS_MAX; i++)
			reason_names[i + 1] = w[i].name;
		nreason_names = 1 + (nw < CT_REASONS_MAX ? nw : CT_REASONS_MAX);
	}
	*n = nreason_names;
	return reason_names;
}

enum op {
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_IN,
};

enum node_type {
	N_CMP,
	N_AND,
	N_OR,
	N_NOT,
};

struct node {
	__u8 type;		/* enum node_type */
	__u8 field;		/* N_CMP: enum field */
	__u8 op;		/* N_CMP: enum op */
	__u8 v4;		/* address: an IPv4 address or prefix */
	__u8 mapped;		/* address: an IPv6 prefix inside ::ffff:0:0/96 */
	__u8 frac;		/* dur: the value is num ns plus a fraction of one */
	int kid;		/* and, or, not: first child; -1 none */
	int next;		/* next sibling in an and / or list; -1 none */
	union {
		__u64 num;		/* counts, ports, vlan, close kind; dur in ns */
		const char *str;	/* zeek, rst.by, iface */
		struct {
			__u32 addr[4];	/* host order, masked: IPv4 as ::ffff:a.b.c.d */
			__u32 mask[4];
		} ip;
	} v;
};

struct ct_filter {
	struct node *nodes;
	int n, cap;
	int root;
	char *pool;		/* the string values, each terminated */
	size_t pool_used, pool_size;
};

enum tok_type {
	T_END,
	T_LP,
	T_RP,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_IN,
	T_NOT,
	T_AND,
	T_OR,
	T_WORD,		/* a bare word: field, number, address, name */
	T_STR,		/* a double-quoted string, quotes included */
};

struct tok {
	enum tok_type type;
	size_t pos, len;
};

struct parser {
	const char *s;
	size_t off;		/* where the lexer resumes */
	struct tok tok;		/* the current token */
	struct ct_filter *f;
	struct ct_filter_error *err;
	int depth;
	int failed;
};

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = 1;
	p->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* --- lexer ------------------------------------------------------------------------------ */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
	       c == '.' || c == '-' || c == ':' || c == '/' || c == '@' || c == '+';
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int word_is(const char *s, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n && kw[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)kw[i])
			return 0;
	}
	return i == n && !kw[i];
}

/* Read the next token into p->tok; -1 (with the error set) on a bad character or string. */
static int lex(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->off;
	unsigned char c;
	struct tok *t = &p->tok;

	while (is_space((unsigned char)s[i]))
		i++;
	t->pos = i;
	t->len = 1;
	c = (unsigned char)s[i];
	switch (c) {
	case '\0':
		t->type = T_END;
		t->len = 0;
		break;
	case '(':
		t->type = T_LP;
		break;
	case ')':
		t->type = T_RP;
		break;
	case '=':
		t->type = T_EQ;
		if (s[i + 1] == '=')
			t->len = 2;
		break;
	case '!':
		t->type = T_NOT;
		if (s[i + 1] == '=') {
			t->type = T_NE;
			t->len = 2;
		}
		break;
	case '<':
	case '>':
		t->type = c == '<' ? T_LT : T_GT;
		if (s[i + 1] == '=') {
			t->type = c == '<' ? T_LE : T_GE;
			t->len = 2;
		}
		break;
	case '&':
	case '|':
		if (s[i + 1] != (char)c)
			return fail(p, i, "unexpected '%c'; use %c%c or '%s'", c, c, c,
				    c == '&' ? "and" : "or");
		t->type = c == '&' ? T_AND : T_OR;
		t->len = 2;
		break;
	case '"': {
		size_t j = i + 1;

		while (s[j] && s[j] != '"')
			j += s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\') ? 2 : 1;
		if (!s[j])
			return fail(p, i, "unterminated string: no closing '\"'");
		t->type = T_STR;
		t->len = j + 1 - i;
		break;
	}
	default:
		if (!is_word_char(c)) {
			if (c >= 0x20 && c < 0x7f)
				return fail(p, i, "unexpected character '%c'", c);
			return fail(p, i, "unexpected byte 0x%02x", c);
		}
		while (is_word_char((unsigned char)s[i + t->len]))
			t->len++;
		t->type = T_WORD;
		if (word_is(s + i, t->len, "and"))
			t->type = T_AND;
		else if (word_is(s + i, t->len, "or"))
			t->type = T_OR;
		else if (word_is(s + i, t->len, "not"))
			t->type = T_NOT;
		else if (word_is(s + i, t->len, "in"))
			t->type = T_IN;
		break;
	}
	p->off = i + t->len;
	return 0;
}

/* The token as messages show it: 'word', "string" or "the end", shortened, printable. */
static const char *describe(const struct parser *p, const struct tok *t, char *buf,
			    size_t size)
{
	const size_t max = 24;
	const char *q = t->type == T_STR ? "" : "'";
	char text[32];
	size_t i, n = t->len < max ? t->len : max;

	if (t->type == T_END)
		return "the end";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->s[t->pos + i];

		text[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	text[n] = '\0';
	snprintf(buf, size, "%s%s%s%s", q, text, t->len > max ? "..." : "", q);
	return buf;
}

/* --- tree ------------------------------------------------------------------------------- */

static int new_node(struct parser *p, enum node_type type)
{
	struct ct_filter *f = p->f;
	struct node *n;

	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 16;
		struct node *nodes = realloc(f->nodes, (size_t)cap * sizeof(*nodes));

		if (!nodes)
			return fail(p, p->tok.pos, "out of memory");
		f->nodes = nodes;
		f->cap = cap;
	}
	n = &f->nodes[f->n];
	memset(n, 0, sizeof(*n));
	n->type = (__u8)type;
	n->kid = -1;
	n->next = -1;
	return f->n++;
}

/* The text of a word or string token, unescaped (\" and \\) into the pool. */
static const char *pool_str(struct parser *p, const struct tok *t)
{
	struct ct_filter *f = p->f;
	const char *s = p->s + t->pos;
	size_t n = t->len, i = 0;
	char *out;

	if (t->type == T_STR) {
		s++;
		n -= 2;
	}
	if (f->pool_size - f->pool_used < n + 1) {	/* cannot happen: sized for the worst */
		fail(p, t->pos, "out of memory");
		return NULL;
	}
	out = f->pool + f->pool_used;
	for (size_t j = 0; j < n; j++) {
		if (t->type == T_STR && s[j] == '\\' && j + 1 < n && (s[j + 1] == '"' ||
								     s[j + 1] == '\\'))
			j++;
		out[i++] = s[j];
	}
	out[i++] = '\0';
	f->pool_used += i;
	return out;
}

/* --- comparisons ------------------------------------------------------------------------ */

static int field_lookup(const char *s, size_t n)
{
	for (int i = 0; i < F_MAX; i++)
		if (strlen(ct_filter_fields[i]) == n && !memcmp(ct_filter_fields[i], s, n))
			return i;
	return -1;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * A field the misspelt @s probably meant: one it is the first part of ("rst" for
 * rst.count), else one within two edits, else one sharing the longest prefix; or -1.
 */
static int suggest_field(const char *s, size_t n)
{
	int best = -1;
	size_t best_d = 3, best_pre = 1;

	for (int i = 0; i < F_MAX; i++) {
		const char *name = ct_filter_fields[i];

		if (strlen(name) > n && name[n] == '.' && !strncasecmp(name, s, n))
			return i;
	}
	if (n <= 24) {
		for (int i = 0; i < F_MAX; i++) {
			size_t d = ct_edit_distance(s, n, ct_filter_fields[i]);

			if (d < best_d) {
				best_d = d;
				best = i;
			}
		}
		if (best >= 0)
			return best;
	}
	for (int i = 0; i < F_MAX; i++) {
		const char *name = ct_filter_fields[i];
		size_t k = 0;

		while (k < n && name[k] && lower((unsigned char)s[k]) == (unsigned char)name[k])
			k++;
		if (k > best_pre) {
			best_pre = k;
			best = i;
		}
	}
	return best;
}

/* Append @names (@n of them, separated by @sep) to @buf while they fit, then ", ...". */
static void list_names(char *buf, size_t size, const char *const *names, size_t n,
		       const char *sep)
{
	size_t off = strlen(buf);

	for (size_t i = 0; i < n; i++) {
		size_t need = (i ? strlen(sep) : 0) + strlen(names[i]);
		size_t tail = i + 1 < n ? strlen(sep) + 3 : 0;	/* room for ", ..." */

		if (off + need + tail >= size) {
			snprintf(buf + off, size - off, "%s...", sep);
			return;
		}
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? sep : "", names[i]);
	}
}

static int unknown_field(struct parser *p, const struct tok *t)
{
	char d[40];
	int s = suggest_field(p->s + t->pos, t->len);

	describe(p, t, d, sizeof(d));
	if (s >= 0)
		return fail(p, t->pos, "unknown field %s; did you mean %s?", d,
			    ct_filter_fields[s]);
	fail(p, t->pos, "unknown field %s; fields are ", d);
	list_names(p->err->msg, sizeof(p->err->msg), ct_filter_fields, F_MAX, ", ");
	return -1;
}

static int tok_op(enum tok_type t)
{
	switch (t) {
	case T_EQ:
		return OP_EQ;
	case T_NE:
		return OP_NE;
	case T_LT:
		return OP_LT;
	case T_LE:
		return OP_LE;
	case T_GT:
		return OP_GT;
	case T_GE:
		return OP_GE;
	case T_IN:
		return OP_IN;
	default:
		return -1;
	}
}

/* A whole number in [0, max] for field @fld; the value token is p->tok, the operator @ot. */
static int parse_whole(struct parser *p, const struct tok *ot, int fld, __u64 *out)
{
	const struct tok *vt = &p->tok;
	const char *s = p->s + vt->pos, *name = ct_filter_fields[fld];
	size_t n = vt->len, i = 0;
	__u64 v = 0, max = field_info[fld].max;
	int over = 0;
	char d[40];

	if (vt->type == T_WORD && n >= 2 && s[0] == '-' && is_digit((unsigned char)s[1]))
		return fail(p, vt->pos, "%s takes 0 to %llu", name, (unsigned long long)max);
	for (; vt->type == T_WORD && i < n && is_digit((unsigned char)s[i]); i++) {
		unsigned int dig = (unsigned int)(s[i] - '0');

		if (v > (UINT64_MAX - dig) / 10)
			over = 1;
		else
			v = v * 10 + dig;
	}
	if (i && i < n && s[i] == '.') {
		size_t j = i + 1;

		while (j < n && is_digit((unsigned char)s[j]))
			j++;
		if (j == n && j > i + 1)
			return fail(p, vt->pos, "%s takes a whole number", name);
	}
	if (!i || i < n)
		return fail(p, vt->pos, "expected a number after '%.*s', found %s", (int)ot->len,
			    p->s + ot->pos, describe(p, vt, d, sizeof(d)));
	if (over || v > max)
		return fail(p, vt->pos, "%s takes 0 to %llu", name, (unsigned long long)max);
	*out = v;
	return 0;
}

#define NS_PER_SEC 1000000000ull

/* Seconds with decimals, as whole nanoseconds and whether a fraction of one is left. */
static int parse_dur(struct parser *p, const struct tok *ot, __u64 *ns, __u8 *frac)
{
	const struct tok *vt = &p->tok;
	const char *s = p->s + vt->pos;
	size_t n = vt->len, i = 0, digits = 0, nfrac = 0;
	__u64 sec = 0, sub = 0;
	int over = 0;
	char d[40];

	*frac = 0;
	if (vt->type == T_WORD && n >= 2 && s[0] == '-' &&
	    (is_digit((unsigned char)s[1]) || s[1] == '.'))
		return fail(p, vt->pos, "dur takes a number of seconds >= 0");
	for (; vt->type == T_WORD && i < n && is_digit((unsigned char)s[i]); i++, digits++) {
		unsigned int dig = (unsigned int)(s[i] - '0');

		if (sec > (UINT64_MAX - dig) / 10)
			over = 1;
		else
			sec = sec * 10 + dig;
	}
	if (vt->type == T_WORD && i < n && s[i] == '.') {
		for (i++; i < n && is_digit((unsigned char)s[i]); i++, digits++, nfrac++) {
			if (nfrac < 9)
				sub = sub * 10 + (__u64)(s[i] - '0');
			else if (s[i] != '0')
				*frac = 1;
		}
		for (; nfrac < 9; nfrac++)
			sub *= 10;
	}
	if (!digits || i < n)
		return fail(p, vt->pos, "expected a number of seconds after '%.*s', found %s",
			    (int)ot->len, p->s + ot->pos, describe(p, vt, d, sizeof(d)));
	if (over || sec > (UINT64_MAX - sub) / NS_PER_SEC)
		return fail(p, vt->pos, "dur takes at most 18446744073.709551615 seconds");
	*ns = sec * NS_PER_SEC + sub;
	return 0;
}

/* A name out of @names (close kinds aside); returns its index or -1 with the error set. */
static int parse_name(struct parser *p, const struct tok *ot, int fld, const char **out)
{
	const struct tok *vt = &p->tok;
	const char *v;
	char d[40];

	if (vt->type != T_WORD && vt->type != T_STR)
		return fail(p, vt->pos, "expected a %s after '%.*s', found %s",
			    fld == F_CLOSE ? "close kind" : fld == F_ZEEK ? "Zeek state" :
			    fld == F_RST_BY ? "side (clt, srv or -)" :
			    fld == F_RST_REASON ? "reset reason" : "string",
			    (int)ot->len, p->s + ot->pos, describe(p, vt, d, sizeof(d)));
	v = pool_str(p, vt);
	if (!v)
		return -1;
	*out = v;
	switch (field_info[fld].kind) {
	case K_CLOSE: {
		const char *names[CT_CLOSE_MAX];

		if (ct_close_parse(v) >= 0)
			return 0;
		for (unsigned int i = 0; i < CT_CLOSE_MAX; i++)
			names[i] = ct_close_name(i);
		fail(p, vt->pos, "unknown close kind %s; one of ", describe(p, vt, d, sizeof(d)));
		list_names(p->err->msg, sizeof(p->err->msg), names, CT_CLOSE_MAX, ", ");
		return -1;
	}
	case K_ZEEK:
		for (size_t i = 0; i < sizeof(zeek_states) / sizeof(zeek_states[0]); i++)
			if (!strcmp(v, zeek_states[i])) {
				*out = zeek_states[i];
				return 0;
			}
		fail(p, vt->pos, "unknown Zeek state %s; one of ", describe(p, vt, d, sizeof(d)));
		list_names(p->err->msg, sizeof(p->err->msg), zeek_states,
			   sizeof(zeek_states) / sizeof(zeek_states[0]), " ");
		return -1;
	case K_TUNNEL:
		if (ct_tunnel_by_name(v) >= 0) {
			*out = tunnel_names[ct_tunnel_by_name(v)];
			return 0;
		}
		fail(p, vt->pos, "unknown tunnel %s; one of ", describe(p, vt, d, sizeof(d)));
		list_names(p->err->msg, sizeof(p->err->msg), tunnel_names, CT_TUN_MAX, " ");
		return -1;
	case K_RST_BY:
		for (size_t i = 0; i < sizeof(rst_by_names) / sizeof(rst_by_names[0]); i++)
			if (!strcmp(v, rst_by_names[i])) {
				*out = rst_by_names[i];
				return 0;
			}
		return fail(p, vt->pos, "rst.by takes clt, srv or -, found %s",
			    describe(p, vt, d, sizeof(d)));
	case K_REASON: {
		size_t n;
		const char *const *names = reasons(&n);

		for (size_t i = 0; i < n; i++)
			if (!strcmp(v, names[i])) {
				*out = names[i];
				return 0;
			}
		/* the kernel's name (TCP_ABORT_ON_CLOSE, abort-on-close) stands for ours */
		if ((*out = ct_reason_alias(v)))
			return 0;
		int near = ct_nearest(v, names, n);

		describe(p, vt, d, sizeof(d));
		if (near >= 0)
			return fail(p, vt->pos, "unknown reset reason %s; did you mean %s? "
				    "('closetrace help reasons' lists them)", d, names[near]);
		fail(p, vt->pos, "unknown reset reason %s ('closetrace help reasons' says what each "
			"means); one of ", d);
		list_names(p->err->msg, sizeof(p->err->msg), names, n, " ");
		return -1;
	}
	default:
		return 0;
	}
}

/* An address (=, !=) or prefix (in), IPv4 or IPv6, into node @ni. */
static int parse_addr(struct parser *p, const struct tok *ot, int op, int ni)
{
	const struct tok *vt = &p->tok;
	const char *s = p->s + vt->pos, *slash;
	size_t n = vt->len, alen, lpos;
	unsigned char a[16] = { 0 };
	unsigned int plen, max;
	char buf[48], d[40];
	struct node *nd;
	int v4;

	if (vt->type != T_WORD && vt->type != T_STR)
		goto bad;
	if (vt->type == T_STR) {	/* quotes are not needed, but do no harm */
		s++;
		n -= 2;
	}
	slash = memchr(s, '/', n);
	alen = slash ? (size_t)(slash - s) : n;
	if (!alen || alen >= sizeof(buf))
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	v4 = !memchr(buf, ':', alen);
	if (inet_pton(v4 ? AF_INET : AF_INET6, buf, v4 ? a + 12 : a) != 1)
		goto bad;
	max = v4 ? 32 : 128;
	plen = max;
	lpos = (size_t)(s - p->s) + alen + 1;		/* where the length starts */
	if (slash) {
		const char *l = slash + 1;
		size_t ln = n - alen - 1, i;

		if (op != OP_IN)
			return fail(p, lpos - 1, "'%.*s' compares single addresses; use 'in' for a "
				    "prefix", (int)ot->len, p->s + ot->pos);
		for (i = 0, plen = 0; i < ln && is_digit((unsigned char)l[i]); i++)
			plen = plen > 1000 ? plen : plen * 10 + (unsigned int)(l[i] - '0');
		if (!ln || i < ln)
			return fail(p, lpos, "expected a prefix length (0 to %u) after '/'", max);
		if (plen > max)
			return fail(p, lpos, "the prefix length of an %s address is 0 to %u",
				    v4 ? "IPv4" : "IPv6", max);
	}
	if (v4) {
		a[10] = a[11] = 0xff;
		plen += 96;
	}
	nd = &p->f->nodes[ni];
	nd->v4 = (__u8)v4;
	for (int w = 0; w < 4; w++) {
		unsigned int bits = plen > 32u * (unsigned int)w ? plen - 32u * (unsigned int)w : 0;
		__u32 mask = bits >= 32 ? 0xffffffffu : bits ? ~0u << (32 - bits) : 0;
		__u32 word = (__u32)a[4 * w] << 24 | (__u32)a[4 * w + 1] << 16 |
			     (__u32)a[4 * w + 2] << 8 | a[4 * w + 3];

		nd->v.ip.mask[w] = mask;
		nd->v.ip.addr[w] = word & mask;
	}
	/* an IPv6 prefix written inside ::ffff:0:0/96 matches IPv4 flows, as they are stored */
	nd->mapped = !v4 && plen >= 96 && !nd->v.ip.addr[0] && !nd->v.ip.addr[1] &&
		     nd->v.ip.addr[2] == 0xffff;
	return 0;
bad:
	return fail(p, vt->pos, "expected an IPv4 or IPv6 %s after '%.*s', found %s",
		    op == OP_IN ? "address or prefix" : "address", (int)ot->len, p->s + ot->pos,
		    describe(p, vt, d, sizeof(d)));
}

static int parse_cmp(struct parser *p)
{
	struct tok ft = p->tok, ot;
	int fld = field_lookup(p->s + ft.pos, ft.len), op, ni, rc;
	const char *name;
	enum kind kind;
	char d[40];

	if (fld < 0)
		return unknown_field(p, &ft);
	name = ct_filter_fields[fld];
	kind = field_info[fld].kind;
	if (lex(p))
		return -1;
	ot = p->tok;
	op = tok_op(ot.type);
	if (op < 0)
		return fail(p, ot.pos, "expected %s after %s, found %s",
			    kind == K_ADDR ? "=, != or 'in'" : "a comparison operator", name,
			    describe(p, &ot, d, sizeof(d)));
	if (kind == K_ADDR && op != OP_EQ && op != OP_NE && op != OP_IN)
		return fail(p, ot.pos, "'%.*s' does not apply to %s; use =, != or 'in'",
			    (int)ot.len, p->s + ot.pos, name);
	if (kind != K_ADDR && op == OP_IN)
		return fail(p, ot.pos, "'in' applies only to ip.clt and ip.srv; %s takes %s", name,
			    kind == K_NUM || kind == K_DUR ? "= != < <= > >=" : "= or !=");
	if ((kind == K_CLOSE || kind == K_ZEEK || kind == K_RST_BY || kind == K_REASON ||
	     kind == K_STR || kind == K_TUNNEL) &&
	    op != OP_EQ && op != OP_NE)
		return fail(p, ot.pos, "'%.*s' does not apply to %s, a string; use = or !=",
			    (int)ot.len, p->s + ot.pos, name);
	if (lex(p))
		return -1;
	ni = new_node(p, N_CMP);
	if (ni < 0)
		return -1;
	p->f->nodes[ni].field = (__u8)fld;
	p->f->nodes[ni].op = (__u8)op;
	switch (kind) {
	case K_NUM:
		rc = parse_whole(p, &ot, fld, &p->f->nodes[ni].v.num);
		break;
	case K_DUR:
		rc = parse_dur(p, &ot, &p->f->nodes[ni].v.num, &p->f->nodes[ni].frac);
		break;
	case K_ADDR:
		rc = parse_addr(p, &ot, op, ni);
		break;
	case K_CLOSE: {
		const char *v;

		rc = parse_name(p, &ot, fld, &v);
		if (!rc)
			p->f->nodes[ni].v.num = (__u64)ct_close_parse(v);
		break;
	}
	default:
		rc = parse_name(p, &ot, fld, &p->f->nodes[ni].v.str);
		break;
	}
	if (rc || lex(p))
		return -1;
	return ni;
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
	struct tok t = p->tok;
	char d[40];
	int ni, kid;

	if (t.type == T_WORD)
		return parse_cmp(p);
	if (t.type != T_NOT && t.type != T_LP)
		return fail(p, t.pos, "expected a field name, 'not' or '(', found %s",
			    describe(p, &t, d, sizeof(d)));
	if (p->depth >= CT_FILTER_MAX_DEPTH)
		return fail(p, t.pos, "nested deeper than %d (parentheses and 'not')",
			    CT_FILTER_MAX_DEPTH);
	p->depth++;
	if (lex(p))
		return -1;
	if (t.type == T_NOT) {
		kid = parse_unary(p);
		if (kid < 0)
			return -1;
		ni = new_node(p, N_NOT);
		if (ni < 0)
			return -1;
		p->f->nodes[ni].kid = kid;
	} else {
		ni = parse_or(p);
		if (ni < 0)
			return -1;
		if (p->tok.type != T_RP)
			return fail(p, p->tok.pos, "expected ')' to close the '(' at offset %zu, "
				    "found %s", t.pos, describe(p, &p->tok, d, sizeof(d)));
		if (lex(p))
			return -1;
	}
	p->depth--;
	return ni;
}

/* A list of @sub joined by @op: one node of @type with the list as its children. */
static int parse_list(struct parser *p, enum tok_type op, enum node_type type,
		      int (*sub)(struct parser *))
{
	int first = sub(p), ni, last, kid;

	if (first < 0 || p->tok.type != op)
		return first;
	ni = new_node(p, type);
	if (ni < 0)
		return -1;
	p->f->nodes[ni].kid = first;
	last = first;
	while (p->tok.type == op) {
		if (lex(p))
			return -1;
		kid = sub(p);
		if (kid < 0)
			return -1;
		p->f->nodes[last].next = kid;
		last = kid;
	}
	return ni;
}

static int parse_and(struct parser *p)
{
	return parse_list(p, T_AND, N_AND, parse_unary);
}

static int parse_or(struct parser *p)
{
	return parse_list(p, T_OR, N_OR, parse_and);
}

struct ct_filter *ct_filter_parse(const char *expr, struct ct_filter_error *err)
{
	struct ct_filter_error dummy;
	struct parser p = { 0 };
	struct ct_filter *f;
	size_t len;
	char d[40];
	int root;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (!expr)
		expr = "";
	len = strnlen(expr, CT_FILTER_MAX_LEN + 1);
	if (len > CT_FILTER_MAX_LEN) {
		err->pos = CT_FILTER_MAX_LEN;
		snprintf(err->msg, sizeof(err->msg), "expression longer than %d bytes",
			 CT_FILTER_MAX_LEN);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f) {
		f->pool_size = 2 * len + 2;	/* each value and its NUL: at most 2 per byte */
		f->pool = malloc(f->pool_size);
	}
	if (!f || !f->pool) {
		ct_filter_free(f);
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	p.s = expr;
	p.f = f;
	p.err = err;
	if (lex(&p))
		goto fail;
	if (p.tok.type == T_END) {
		fail(&p, 0, "empty filter");
		goto fail;
	}
	root = parse_or(&p);
	if (root < 0)
		goto fail;
	if (p.tok.type == T_RP) {
		fail(&p, p.tok.pos, "unmatched ')'");
		goto fail;
	}
	if (p.tok.type != T_END) {
		int hint = p.tok.type == T_WORD || p.tok.type == T_STR || p.tok.type == T_LP ||
			   p.tok.type == T_NOT;

		fail(&p, p.tok.pos, "unexpected %s after the expression%s",
		     describe(&p, &p.tok, d, sizeof(d)), hint ? "; missing 'and' or 'or'?" : "");
		goto fail;
	}
	f->root = root;
	return f;
fail:
	ct_filter_free(f);
	return NULL;
}

void ct_filter_free(struct ct_filter *f)
{
	if (!f)
		return;
	free(f->nodes);
	free(f->pool);
	free(f);
}

/* --- evaluation ------------------------------------------------------------------------- */

static int cmp_u64(__u64 x, int op, __u64 v)
{
	switch (op) {
	case OP_EQ:
		return x == v;
	case OP_NE:
		return x != v;
	case OP_LT:
		return x < v;
	case OP_LE:
		return x <= v;
	case OP_GT:
		return x > v;
	default:
		return x >= v;
	}
}

/* Whole nanoseconds @x against @v ns plus, if @frac, a fraction of one (v < v' < v + 1). */
static int cmp_dur(__u64 x, int op, __u64 v, int frac)
{
	if (!frac)
		return cmp_u64(x, op, v);
	switch (op) {
	case OP_EQ:
		return 0;
	case OP_NE:
		return 1;
	case OP_LT:
	case OP_LE:
		return x <= v;
	default:
		return x > v;
	}
}

/* Whether @addr (key form; @v4: of an IPv4 flow or tunnel) is in @n's prefix. */
static int match_addr_at(const struct node *n, const __u32 addr[4], int v4)
{
	if (n->v4 ? !v4 : !n->mapped && v4)
		return 0;
	for (int w = 0; w < 4; w++)
		if ((ntohl(addr[w]) & n->v.ip.mask[w]) != n->v.ip.addr[w])
			return 0;
	return 1;
}

static int match_addr(const struct node *n, const struct ct_record *r, int ep)
{
	return match_addr_at(n, r->key.addr[ep], ct_key_is_v4(&r->key));
}

/* An app. string field of @r ("" when not known), in @names or @comm if need be. */
static const char *app_str(const struct ct_record *r, int field, struct ct_app_names *names,
			   char comm[17])
{
	if (!ct_rec_has_app(r) && !ct_rec_nosock(r))
		return "";
	switch (field) {
	case F_APP_COMM:
		if (!(r->flow.own_flags & CT_OWN_PID))
			return "";
		memcpy(comm, r->flow.own.comm, sizeof(r->flow.own.comm));
		comm[sizeof(r->flow.own.comm)] = '\0';
		return comm;
	case F_APP_CGROUP:
		return r->cgroup ? r->cgroup : "";
	}
	ct_app_names(r->cgroup, names);
	return field == F_APP_UNIT ? names->unit : field == F_APP_CONTAINER ? names->container :
	       names->pod;
}

int ct_filter_uses_app(const struct ct_filter *f)
{
	for (int i = 0; f && i < f->n; i++)
		if (f->nodes[i].type == N_CMP && f->nodes[i].field >= F_APP_UNIT &&
		    f->nodes[i].field <= F_APP_CGROUP)
			return 1;
	return 0;
}

static int match_cmp(const struct node *n, const struct ct_record *r)
{
	const struct ct_flow *f = &r->flow;
	int c = r->client_ep & 1, s = !c, eq;
	__u64 x;

	switch (n->field) {
	case F_SYN:
		x = (__u64)f->syn[c] + f->syn[s];
		break;
	case F_SYNACK:
		x = (__u64)f->synack[c] + f->synack[s];
		break;
	case F_CT:
		x = !!(f->state & CT_ST_CT);
		break;
	case F_MIDSTREAM:
		x = !!ct_flow_midstream(f);
		break;
	case F_FIN:
		x = (__u64)f->fin[c] + f->fin[s];
		break;
	case F_FIN_CLT:
		x = f->fin[c];
		break;
	case F_FIN_SRV:
		x = f->fin[s];
		break;
	case F_RST:
		x = (__u64)f->rst[c] + f->rst[s];
		break;
	case F_RST_CLT:
		x = f->rst[c];
		break;
	case F_RST_SRV:
		x = f->rst[s];
		break;
	case F_PKTS_CLT:
		x = f->pkts[c];
		break;
	case F_PKTS_SRV:
		x = f->pkts[s];
		break;
	case F_BYTES_CLT:
		x = f->bytes[c];
		break;
	case F_BYTES_SRV:
		x = f->bytes[s];
		break;
	case F_PORT_CLT:
		x = r->key.port[c];
		break;
	case F_PORT_SRV:
		x = r->key.port[s];
		break;
	case F_VLAN:
		x = CT_IFVLAN_VLAN(r->key.ifvlan);
		break;
	case F_DUR:
		x = r->ts_ns > r->start_ns ? r->ts_ns - r->start_ns : 0;
		return cmp_dur(x, n->op, n->v.num, n->frac);
	case F_CLOSE:
		eq = r->close == n->v.num;
		return n->op == OP_NE ? !eq : eq;
	case F_ZEEK:
		eq = !strcmp(ct_zeek_state(f), n->v.str);
		return n->op == OP_NE ? !eq : eq;
	case F_RST_BY:
		eq = !strcmp(ct_rst_by_name(r->rst_by), n->v.str);
		return n->op == OP_NE ? !eq : eq;
	case F_RST_REASON:
		eq = !strcmp(ct_rst_reason_name(f->rst_reason), n->v.str);
		return n->op == OP_NE ? !eq : eq;
	case F_IFACE:
		eq = !strcmp(r->iface ? r->iface : "", n->v.str);
		return n->op == OP_NE ? !eq : eq;
	case F_APP_UNIT:
	case F_APP_CONTAINER:
	case F_APP_POD:
	case F_APP_COMM:
	case F_APP_CGROUP: {
		struct ct_app_names names;
		char comm[17];

		eq = !strcmp(app_str(r, n->field, &names, comm), n->v.str);
		return n->op == OP_NE ? !eq : eq;
	}
	case F_APP_PID:
		x = (f->own_flags & CT_OWN_PID) ? f->own.pid : 0;
		break;
	case F_CLT_ZONE:
	case F_SRV_ZONE: {
		char z[CT_ZONE_TEXT_MAX] = "";
		__u32 net[4];
		__u8 plen;

		if (r->zones)
			ct_zone_of(r->zones, r->key.addr[n->field == F_CLT_ZONE ? c : s], z,
				   sizeof(z), net, &plen);
		eq = !strcmp(z, n->v.str);
		return n->op == OP_NE ? !eq : eq;
	}
	case F_IP_CLT:
	case F_IP_SRV:
		eq = match_addr(n, r, n->field == F_IP_CLT ? c : s);
		return n->op == OP_NE ? !eq : eq;
	case F_IP:
	case F_HOST:
		/* either side; != is "neither side is", as tcpdump's not host */
		eq = match_addr(n, r, c) || match_addr(n, r, s);
		return n->op == OP_NE ? !eq : eq;
	case F_TUNNEL:
		eq = !strcmp(ct_tunnel_name(r->key.tun_type), n->v.str);
		return n->op == OP_NE ? !eq : eq;
	case F_TUNNEL_ID:
		/* either side's, as port: GTP-U's TEIDs differ by direction */
		if (n->op == OP_NE)
			return ct_rec_tun_id(r, c) != n->v.num && ct_rec_tun_id(r, s) != n->v.num;
		return cmp_u64(ct_rec_tun_id(r, c), n->op, n->v.num) ||
		       cmp_u64(ct_rec_tun_id(r, s), n->op, n->v.num);
	case F_TUNNEL_IP:
		eq = r->key.tun_type &&
		     (match_addr_at(n, f->outer[c], ct_addr_is_v4(f->outer[c])) ||
		      match_addr_at(n, f->outer[s], ct_addr_is_v4(f->outer[s])));
		return n->op == OP_NE ? !eq : eq;
	case F_PORT:
		if (n->op == OP_NE)
			return r->key.port[c] != n->v.num && r->key.port[s] != n->v.num;
		return cmp_u64(r->key.port[c], n->op, n->v.num) ||
		       cmp_u64(r->key.port[s], n->op, n->v.num);
	default:
		return 0;
	}
	return cmp_u64(x, n->op, n->v.num);
}

/* Recursion is bounded by the tree's depth: a few levels per parenthesis or not. */
static int match(const struct ct_filter *f, int i, const struct ct_record *r)
{
	const struct node *n = &f->nodes[i];

	switch (n->type) {
	case N_AND:
		for (int k = n->kid; k >= 0; k = f->nodes[k].next)
			if (!match(f, k, r))
				return 0;
		return 1;
	case N_OR:
		for (int k = n->kid; k >= 0; k = f->nodes[k].next)
			if (match(f, k, r))
				return 1;
		return 0;
	case N_NOT:
		return !match(f, n->kid, r);
	default:
		return match_cmp(n, r);
	}
}

int ct_filter_match(const struct ct_filter *f, const struct ct_record *r)
{
	if (!f)
		return 1;
	return match(f, f->root, r);
}

void ct_filter_perror(FILE *out, const char *prefix, const char *expr,
		      const struct ct_filter_error *err)
{
	size_t len, pos;

	if (!expr)
		expr = "";
	if (prefix && *prefix)
		fprintf(out, "%s: ", prefix);
	fprintf(out, "bad filter: %.*s\n  ", (int)sizeof(err->msg), err->msg);
	len = strlen(expr);
	/* one column per byte, so the caret lines up: tabs and the like print as spaces */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)expr[i];

		fputc(c >= 0x20 && c < 0x7f ? c : ' ', out);
	}
	fputs("\n  ", out);
	pos = err->pos < len ? err->pos : len;
	for (size_t i = 0; i < pos; i++)
		fputc(' ', out);
	fputs("^\n", out);
}

/* --- help -------------------------------------------------------------------------------- */

#define HELP_COL 33	/* where a field's meaning starts */

/* @n words from @words after "  " at column HELP_COL, wrapped before column 80. */
static void put_words(FILE *out, const char *const *words, size_t n)
{
	size_t col = 80;

	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(words[i]);

		if (col + 1 + w > 80) {
			fprintf(out, "%s%*s%s", i ? "\n" : "", HELP_COL, "", words[i]);
			col = HELP_COL + w;
		} else {
			fprintf(out, " %s", words[i]);
			col += 1 + w;
		}
	}
	fputc('\n', out);
}

static void field_type(int fld, char *buf, size_t len)
{
	static const char *const kind_names[] = {
		[K_DUR] = "seconds",	  [K_CLOSE] = "close kind", [K_ZEEK] = "Zeek state",
		[K_RST_BY] = "side",	  [K_REASON] = "reset reason", [K_STR] = "string",
		[K_ADDR] = "address",	  [K_TUNNEL] = "tunnel type",
	};

	if (field_info[fld].kind != K_NUM)
		snprintf(buf, len, "%s", kind_names[field_info[fld].kind]);
	else if (field_info[fld].max == UINT64_MAX)
		snprintf(buf, len, "0 to 2^64-1");
	else
		snprintf(buf, len, "0 to %llu", (unsigned long long)field_info[fld].max);
}

void ct_filter_help(FILE *out)
{
	const char *closes[CT_CLOSE_MAX];
	char type[32];

	for (unsigned int i = 0; i < CT_CLOSE_MAX; i++)
		closes[i] = ct_close_name(i);
	fprintf(out, "Usage: closetrace watch|top|replay -f EXPR ...\n\n"
		     "The filter language of -f/--filter: only the records (top: the flows) for\n"
		     "which EXPR is true are shown. clt is the client, the sender of the SYN;\n"
		     "srv the server. See closetrace-filter(7).\n\nFields:\n");
	for (int f = 0; f < F_MAX; f++) {
		const char *h = field_info[f].help, *nl;

		field_type(f, type, sizeof(type));
		nl = strchr(h, '\n');
		fprintf(out, "  %-13s %-16s %.*s\n", ct_filter_fields[f], type,
			(int)(nl ? nl - h : (long)strlen(h)), h);
		if (nl)
			fprintf(out, "%*s%s\n", HELP_COL, "", nl + 1);
		switch (field_info[f].kind) {
		case K_CLOSE:
			put_words(out, closes, CT_CLOSE_MAX);
			break;
		case K_ZEEK:
			put_words(out, zeek_states, sizeof(zeek_states) / sizeof(zeek_states[0]));
			break;
		case K_RST_BY:
			put_words(out, rst_by_names, sizeof(rst_by_names) / sizeof(rst_by_names[0]));
			break;
		case K_TUNNEL:
			put_words(out, tunnel_names, CT_TUN_MAX);
			break;
		case K_REASON: {
			size_t n;
			const char *const *names = reasons(&n);

			put_words(out, names, n);
			break;
		}
		default:
			break;
		}
	}
	fprintf(out,
		"\nOperators:\n"
		"  = != < <= > >=   compare a number (== is =); strings and addresses\n"
		"                   take = and != only\n"
		"  in PREFIX        ip.clt and ip.srv: within an IPv4 or IPv6 prefix\n"
		"  not and or ( )   also ! && ||; not binds tightest, then and, then or\n"
		"\nValues: numbers are checked against the field's range; strings are bare\n"
		"words or \"double-quoted\" (\\\" and \\\\ escape) and checked against the\n"
		"values the field takes. IPv4 addresses and prefixes match IPv4 flows,\n"
		"IPv6 ones IPv6 flows; a prefix in ::ffff:0:0/96 matches IPv4 flows too.\n"
		"A bad filter is an error (exit 2) with a caret under the faulty column.\n"
		"\nEXAMPLES:\n"
		"  -f 'rst.count > 0 and fin.count = 0'      # reset, never closed with FIN\n"
		"  -f 'rst.count > 0 and ct.count = 0'       # reset before the handshake\n"
		"  -f 'close = \"refused\" and port.srv = 1194'\n"
		"  -f 'not (ip.srv in 10.0.0.0/8 or ip.srv in fd00::/8) and rst.count.srv > 2'\n"
		"  -f 'rst.reason = data-after-close'\n");
}
