// SPDX-License-Identifier: BSD-3-Clause
/*
 * privs.c - capabilities with libcap-ng: what loading and attaching need, checked up
 * front; everything dropped once it is done, the user switched with --user.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cap-ng.h>

#include "numbers.h"
#include "privs.h"

int ct_privs_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;
	long n;

	errno = 0;
	pw = getpwnam(name);
	if (!pw && !ct_parse_long(name, 0, 0x7fffffff, &n))
		pw = getpwuid((uid_t)n);
	if (!pw) {
		snprintf(err, errlen, "takes a user of this host, not '%s'", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int ct_privs_check(char *err, size_t errlen)
{
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ CAP_BPF, "CAP_BPF" }, { CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	};
	char missing[96] = "";
	size_t off = 0;
	int n = 0;

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process())
		return 0;	/* cannot tell: let the kernel say */
	const char *lack[3];

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!capng_have_capability(CAPNG_EFFECTIVE, need[i].cap))
			lack[n++] = need[i].name;
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s%s",
					!i ? "" : i == n - 1 ? " and " : ", ", lack[i]);
	if (!n)
		return 0;
	snprintf(err, errlen, "loading and attaching BPF needs CAP_BPF, CAP_PERFMON and "
		 "CAP_NET_ADMIN; this process lacks %s (run as root, or grant them: setpriv, "
		 "capsh, or the unit's AmbientCapabilities=)", missing);
	return -1;
}

/* Before 6.5, with unprivileged BPF off, every bpf() call wants CAP_BPF, map reads too. */
static int maps_need_cap_bpf(void)
{
	struct utsname u;
	int major = 0, minor = 0, off = 0;
	FILE *f;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 1;
	if (major > 6 || (major == 6 && minor >= 5))
		return 0;
	f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "re");
	if (f) {
		if (fscanf(f, "%d", &off) != 1)
			off = 1;
		fclose(f);
	}
	return off != 0;
}

int ct_privs_drop(unsigned int keep, int user, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int r;

	capng_clear(CAPNG_SELECT_ALL);
	if (keep & CT_KEEP_NET_ADMIN)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN);
	if ((keep & CT_KEEP_MAP_READS) && maps_need_cap_bpf())
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_BPF);
	if (keep & CT_KEEP_ATTACH)
		capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_BPF,
			      CAP_NET_ADMIN, -1);
	if (user) {
		/* keeps what was chosen above across the change of user, bounding set cleared */
		r = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (r) {
			snprintf(err, errlen, "--user: cannot become uid %u, gid %u (%d: %s)",
				 (unsigned int)uid, (unsigned int)gid, r, strerror(errno));
			return -1;
		}
	} else if (capng_apply(CAPNG_SELECT_ALL) &&
		   /* the bounding set needs CAP_SETPCAP (a unit's is set already): the rest */
		   capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT)) {
		snprintf(err, errlen, "cannot drop the capabilities: %s", strerror(errno));
		return -1;
	}
	/* no way back: a child (none is made) or an exec (none is done) gains nothing */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
