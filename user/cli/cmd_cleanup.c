// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_cleanup.c - `closetrace cleanup [-i IFACE,...]`: removes the netlink tc filters and XDP
 * programs a killed closetrace left on interfaces; a running instance, and programs that
 * merely share closetrace's names, are left alone.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "attach.h"
#include "identify.h"
#include "log.h"
#include "share.h"
#include "options.h"
#include "text.h"

/* Clean one interface; how many attachments were removed, -1 on an error (said). */
static int clean_one(const char *name, int ifindex, const struct ct_own_tags *own)
{
	char err[256];
	int r;

	if (!ifindex) {
		pr_warn("%s: no such interface\n", name);
		return -1;
	}
	r = ct_cleanup(ifindex, name, own, err, sizeof(err));
	if (err[0])
		pr_warn("%s\n", err);
	if (r > 0) {
		char safe[4 * IF_NAMESIZE + 1];

		ct_text_escape(name, safe, sizeof(safe));
		printf("%s: removed %d closetrace attachment%s\n", safe, r, r > 1 ? "s" : "");
	}
	return err[0] ? -1 : r;
}

static int run_cleanup(struct ct_config *c)
{
	struct if_nameindex *all = NULL;
	int total = 0, ret = 0, r;
	struct ct_own_tags own;
	char err[512];

	/* what closetrace's programs are, by their instructions: learnt before touching any */
	if (ct_own_tags_load(&own, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	if (!c->nifaces) {
		all = if_nameindex();
		if (!all) {
			pr_warn("cannot list interfaces: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; all[i].if_index; i++) {
			r = clean_one(all[i].if_name, (int)all[i].if_index, &own);
			ret |= r < 0;
			total += r > 0 ? r : 0;
		}
		if_freenameindex(all);
	}
	for (int i = 0; i < c->nifaces; i++) {
		r = clean_one(c->ifaces[i], (int)if_nametoindex(c->ifaces[i]), &own);
		ret |= r < 0;
		total += r > 0 ? r : 0;
	}
	/* the sockets agents killed with -9 left for viewers (share.h) */
	for (int i = 0; i < (c->nifaces ? c->nifaces : 1); i++) {
		r = ct_share_remove_stale(c->nifaces ? c->ifaces[i] : NULL);
		if (r)
			printf("%s: removed %d socket%s a killed closetrace left in %s\n",
			       c->nifaces ? c->ifaces[i] : "all", r, r > 1 ? "s" : "",
			       ct_share_dir());
		total += r;
	}
	if (!total && !ret)
		printf("nothing to clean up\n");
	return ret;
}

static const struct ct_opt_group *const cleanup_groups[] = {
	&ct_grp_ifaces, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_cleanup = {
	.name = "cleanup",
	.synopsis = (const char *const[]){ "[-i IFACE[,IFACE...]]", NULL },
	.summary = "remove what a killed closetrace left on interfaces",
	.description =
		"Removes the tc filters and XDP programs a killed closetrace left on the given\n"
		"interfaces (default: all). A program is closetrace's when it has closetrace's\n"
		"name (ct_xdp, ct_tc) and the tag - the kernel's hash of its instructions - of\n"
		"the program this closetrace loads, learnt by loading it (attached nowhere):\n"
		"another program of that name, or another closetrace version's, is named and\n"
		"left alone. A program a process still holds is a running instance's, and is\n"
		"left alone too.",
	.groups = cleanup_groups,
	.max_args = 0,
	.examples = (const char *const[]){
		"closetrace cleanup            # every interface",
		"closetrace cleanup -i eth0",
		NULL },
	.run = run_cleanup,
};
