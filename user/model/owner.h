/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * owner.h - the application behind a close, in words: what a cgroup v2 path names (a
 * systemd unit, a container and its runtime, a Kubernetes pod), read from the path alone,
 * and the process the kernel saw holding the socket. Unknown stays absent: nothing here
 * guesses.
 */
#ifndef CT_OWNER_H
#define CT_OWNER_H

#include <stddef.h>
#include <linux/types.h>

#include "record.h"

/* What a cgroup path names; each field "" when the path does not say. */
struct ct_app_names {
	char unit[256];		/* the innermost systemd unit: nginx.service, docker-<id>.scope */
	char container[65];	/* a container id, 64 hex digits */
	const char *runtime;	/* "docker", "containerd", "cri-o", "podman"; NULL */
	char pod[37];		/* a Kubernetes pod's uid (8-4-4-4-12) */
};

/*
 * What cgroup path @path (as below the cgroup2 mount: /system.slice/nginx.service) names,
 * from the path patterns of systemd, docker, containerd, cri-o, podman and the kubelet
 * (systemd and cgroupfs drivers). Returns how many of unit, container and pod it found.
 */
int ct_app_names(const char *path, struct ct_app_names *n);

/* Whether record @r has an owner to show (an "app" object). */
int ct_rec_has_app(const struct ct_record *r);
/* Whether @r is a close this host answered with no socket (a "listener" object). */
int ct_rec_nosock(const struct ct_record *r);

/* What the record's pid is: "socket" (the process that connected, or held the socket),
 * "listener" (the one that listened: an accepted socket), "closer"; NULL without a pid. */
const char *ct_rec_pid_role(const struct ct_record *r);

/*
 * The APP column of text at @p: "comm[pid] unit-or-container-or-pod", or for a refusal
 * "no listener on :1194", "listener gone 12s: nginx[4242] nginx.service", "listening:
 * nginx[4242]"; "-" when nothing is known. Returns the end. ct_app_room(): the most
 * bytes the app and listener fields take, as JSON or text.
 */
char *ct_app_text(char *p, const struct ct_record *r);
size_t ct_app_room(const struct ct_record *r);

/*
 * The name of a cgroup for people, into @buf: the unit, else "runtime:container" (12
 * digits), else "pod:uid" (8), else the path, else "cgroup ID" when only the id is known.
 */
void ct_app_cgroup_label(const char *path, __u64 id, char *buf, size_t len);

/*
 * The name of @r's application for metrics (--metrics-by): @by a CT_APP_BY_* (metrics.h),
 * @path its cgroup's path. 1 with the name in @buf; 0 when it has none (no local socket,
 * or nothing that names it that way).
 */
int ct_app_metric_name(const struct ct_record *r, const char *path, int by, char *buf,
		       size_t len);

/* The comm of @r made safe to print (a process may name itself anything): into @buf. */
const char *ct_rec_comm(const struct ct_record *r, char *buf, size_t len);

#endif /* CT_OWNER_H */
