// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_filter.c - libFuzzer harness for the filter language: parse any input; if it
 * parses, evaluate it on an IPv4 and an IPv6 record; if not, the error must point inside
 * the input (or just past it) and must print. Built with ASan and UBSan (see Makefile).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closetrace.h"
#include "filter.h"
#include "record.h"

static void records(struct ct_record r[2])
{
	memset(r, 0, 2 * sizeof(*r));
	/* IPv4: 192.0.2.1:51234 (HI, the client) to 10.0.0.1:80, a fin-reset on VLAN 100 */
	for (int ep = 0; ep < 2; ep++)
		r[0].key.addr[ep][2] = htonl(0xffff);
	inet_pton(AF_INET, "10.0.0.1", &r[0].key.addr[CT_EP_LO][3]);
	inet_pton(AF_INET, "192.0.2.1", &r[0].key.addr[CT_EP_HI][3]);
	r[0].key.port[CT_EP_LO] = 80;
	r[0].key.port[CT_EP_HI] = 51234;
	r[0].key.ifvlan = CT_IFVLAN(2, 100);
	r[0].flow.state = CT_ST_LETTER(CT_EP_HI, CT_L_SYN) | CT_ST_LETTER(CT_EP_LO, CT_L_SYNACK) |
			  CT_ST_LETTER(CT_EP_HI, CT_L_FIN) | CT_ST_LETTER(CT_EP_HI, CT_L_RST) |
			  CT_ST_ROLE | CT_ST_CLIENT_HI | CT_ST_CT;
	r[0].flow.history = 0xcb27;	/* S h F R: codes 7 2 11 12 */
	r[0].flow.syn[CT_EP_HI] = 1;
	r[0].flow.synack[CT_EP_LO] = 1;
	r[0].flow.fin[CT_EP_HI] = UINT32_MAX;
	r[0].flow.rst[CT_EP_HI] = 3;
	r[0].flow.pkts[CT_EP_HI] = UINT64_MAX;
	r[0].flow.bytes[CT_EP_LO] = 52000;
	r[0].close = CT_CLOSE_FIN_RESET;
	r[0].rst_by = CT_BY_CLT;
	r[0].client_ep = CT_EP_HI;
	r[0].start_ns = 1000000000ull;
	r[0].ts_ns = 3122456000ull;
	r[0].iface = "eth0";
	/* IPv6: [2001:db8::1]:33000 (LO, the client) to [2001:db8:1::53]:53, refused */
	inet_pton(AF_INET6, "2001:db8::1", r[1].key.addr[CT_EP_LO]);
	inet_pton(AF_INET6, "2001:db8:1::53", r[1].key.addr[CT_EP_HI]);
	r[1].key.port[CT_EP_LO] = 33000;
	r[1].key.port[CT_EP_HI] = 53;
	r[1].flow.state = CT_ST_LETTER(CT_EP_LO, CT_L_SYN) | CT_ST_LETTER(CT_EP_HI, CT_L_RST) |
			  CT_ST_ROLE;
	r[1].flow.history = 0xc1;	/* S r: codes 1 12 */
	r[1].flow.syn[CT_EP_LO] = 2;
	r[1].flow.rst[CT_EP_HI] = 1;
	r[1].close = CT_CLOSE_REFUSED;
	r[1].rst_by = CT_BY_SRV;
	r[1].client_ep = CT_EP_LO;
	r[1].start_ns = 5000000000ull;
	r[1].ts_ns = 4000000000ull;
	r[1].iface = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ct_record r[2];
	static int init;
	struct ct_filter_error err;
	struct ct_filter *f;
	char *expr = malloc(size + 1);

	if (!expr)
		return 0;
	if (!init) {
		records(r);
		init = 1;
	}
	memcpy(expr, data, size);
	expr[size] = '\0';
	f = ct_filter_parse(expr, &err);
	if (f) {
		volatile int m = 0;

		m += ct_filter_match(f, &r[0]);
		m += ct_filter_match(f, &r[1]);
		(void)m;
		ct_filter_free(f);
	} else {
		char *out = NULL;
		size_t len = 0;
		FILE *mem;

		if (err.pos > strlen(expr) || !memchr(err.msg, '\0', sizeof(err.msg)) ||
		    !err.msg[0])
			abort();
		mem = open_memstream(&out, &len);
		if (mem) {
			ct_filter_perror(mem, "fuzz", expr, &err);
			fclose(mem);
		}
		free(out);
	}
	free(expr);
	return 0;
}
