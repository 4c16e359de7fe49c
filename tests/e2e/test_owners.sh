#!/usr/bin/env bash
# test_owners.sh - which application owned each close, end to end. Each process that
# needs the cgroup file system (the watches, and what puts a process into a cgroup) runs in
# a mount namespace of its own where a cgroup2 hierarchy is mounted on the test's
# directory; the test makes cgroups named as systemd makes them for a service, a docker
# container and a Kubernetes pod's containerd container, and removes them at the end. Servers run in the first two on the server side (netns.sh's S), clients in
# the pod's on the client side (C); a watch on each side (nsenter --net only: it must see
# the cgroup file system) must name, for every close, the owner of its own side's socket:
# a graceful close (the server's child closes: the closer), refusals with and without a
# recent listener, a server abort, a client abort (the server's child never touched its
# socket: the listener), a client that exits before its connection closes, and a RST the
# server's kernel sends in softirq while the client's process is the task at hand. Also
# IPv6, the text's APP column, the app. filter fields, top -g unit, --metrics-by with a
# real promtool, and both fallbacks (CLOSETRACE_DISABLE=owners, =resets).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
DRIVE=$here/../../build/tests/tcpdrive
need_root
d=$T_DIR

for tool in jq unshare nsenter python3 curl promtool nft; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done

id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
CGM=$d/cgroup2		# where each private mount of the hierarchy goes
UNIT=ct-web-$id.service
DOCKER_ID=$(echo "docker $id" | sha256sum | cut -c1-64)
CTR_ID=$(echo "containerd $id" | sha256sum | cut -c1-64)
h=$(echo "pod $id" | sha256sum)
POD_UID=${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}
# the cgroups, as paths in the hierarchy
CG_WEB=/ct-$id.slice/$UNIT
CG_DOCKER=/ct-$id.slice/docker-$DOCKER_ID.scope
CG_POD=/kubepods-ct$id.slice/kubepods-burstable-pod${POD_UID//-/_}.slice/cri-containerd-$CTR_ID.scope
PODS=()		# processes placed in a cgroup: killed before their cgroups go

# with_cg CMD...: CMD in a mount namespace of its own with the hierarchy at $CGM (exec'd:
# its pid is the caller's)
with_cg() {
	exec unshare -m --propagation private sh -c 'mount -t cgroup2 none "$0" && exec "$@"' \
		"$CGM" "$@"
}

cleanup() {
	local p
	for p in "${PODS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PODS[@]}"; do wait "$p" 2>/dev/null; done
	ns_teardown
	# a cgroup goes once its processes have: deepest first
	(with_cg sh -c 'cd "$0" && for p in "$@"; do [ -d ".$p" ] && rmdir ".$p"; done' "$CGM" \
		"$CG_POD" "${CG_POD%/*}" "${CG_POD%/*/*}" "$CG_DOCKER" "$CG_WEB" "${CG_WEB%/*}") \
		2>/dev/null
	rm -rf "$T_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t_cgroups() {
	mkdir -p "$CGM" && (with_cg sh -c 'cd "$0" && mkdir -p ".$1" ".$2" ".$3"' "$CGM" \
		"$CG_WEB" "$CG_DOCKER" "$CG_POD")
}
check "a cgroup2 hierarchy mounted in a mount namespace of the test's own, cgroups named as systemd, docker and the kubelet name them" t_cgroups
check "namespaces and veth pairs are set up" ns_setup

# in_cg CG NS CMD...: CMD in cgroup CG and network namespace NS (its pid stays CMD's)
in_cg() {
	local cg=$1 ns=$2
	shift 2
	with_cg sh -c 'echo $$ >"$0$1/cgroup.procs" && shift && exec "$@"' "$CGM" "$cg" \
		nsenter --net=/var/run/netns/"$ns" "$@"
}

# started FILE PATTERN: FILE says PATTERN within 10 s, else it is shown
started() {
	wait_for "$1" "$2" 10 || { cat "$1"; return 1; }
}

# watch_on NAME NS DEV ARGS...: a watch entering only the network namespace (it sees the
# cgroup mount); killed at teardown
watch_on() {
	local name=$1 ns=$2 dev=$3
	shift 3
	(with_cg nsenter --net=/var/run/netns/"$ns" "$CT" -v watch -i "$dev" "$@") \
		>"$d/$name.out" 2>"$d/$name.err" &
	NS_PIDS+=("$!")
	eval "W_$name=$!"
	started "$d/$name.err" "Ctrl-C stops" && note_progs "$!"
}
# stop W: SIGINT, and its exit status
stop() {
	eval "kill -INT \$W_$1 && wait \$W_$1"
}

MPORT=$((20000 + RANDOM % 20000))
check "watch on the server's side (JSON, --metrics-by unit)" \
	watch_on ws "$NS_S" s0 -o json --all --metrics "127.0.0.1:$MPORT" --metrics-by unit
check "watch on the client's side (JSON)" watch_on wc "$NS_C" c0 -o json --all

in_cg "$CG_WEB" "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out" &
SRV=$!
PODS+=("$SRV")
check "the server listens, in $UNIT" wait_for "$d/server.out" ready 5

# client KIND PORT [ADDR]: tcpdrive's client in the pod's container; its pid in CPID_<PORT>
client() {
	in_cg "$CG_POD" "$NS_C" "$DRIVE" client "$1" "${3:-$S4}" "$2" &
	eval "CPID_$2=$!"
	wait $!
}
check "a graceful close" client graceful 41001
check "a refusal: nobody ever listened on 8009" client refused 41002
check "a server abort (SO_LINGER 0)" client reset-server 41003
check "a client abort (SO_LINGER 0)" client reset-client 41004
check "data after the server closed: its kernel resets in softirq" client data-after-close 41005
check "a graceful close over IPv6" client graceful 41006 "$S6"

# a listener on port $1 in the docker container: it goes, then a client knocks from $2
t_gone_listener() {
	in_cg "$CG_DOCKER" "$NS_S" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
print("ready", flush=True)
time.sleep(30)' "$S4" "$1" >"$d/lst.out" &
	LPID=$!
	PODS+=("$LPID")
	wait_for "$d/lst.out" ready 5 || return 1
	kill "$LPID" || return 1
	wait "$LPID"
	sleep 0.5
	knock "$1" "$2"
}
# knock PORT CPORT: a client in the pod connects to PORT from CPORT, and is refused
knock() {
	(in_cg "$CG_POD" "$NS_C" python3 -c '
import errno, socket, sys
c = socket.socket()
c.bind(("0.0.0.0", int(sys.argv[3])))
try:
    c.connect((sys.argv[1], int(sys.argv[2])))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$S4" "$1" "$2")
}
check "a refusal by a port whose listener (docker) closed half a second before" \
	t_gone_listener 8011 41007

# a client that exits without closing: the kernel closes its socket as the process goes
t_exits() {
	in_cg "$CG_POD" "$NS_C" python3 -c '
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], 8001), source_address=("0.0.0.0", 41008))
c.sendall(b"bye\n")
c.recv(4)
os._exit(0)' "$S4" &
	EPID=$!
	wait "$EPID"
}
check "a client process that exits before its connection closes" t_exits

sleep 2.5
check "a scrape of --metrics" sh -c "nsenter --net=/var/run/netns/$NS_S curl -sf \
	127.0.0.1:$MPORT/metrics >$d/metrics"
check "the server's watch stops cleanly" stop ws
check "the client's watch stops cleanly" stop wc

# rec W CPORT: watch W's close record of the connection from client port CPORT
rec() { jq -c "select(.type == \"close\" and .clt_port == $2)" "$d/$1.out" | tail -n 1; }
# is W CPORT JQ-EXPR: that record makes JQ-EXPR true (else it is printed)
is() {
	local r
	r=$(rec "$1" "$2")
	[ -n "$r" ] || { echo "no close record from port $2 in $1"; return 1; }
	jq -e "$3" <<<"$r" >/dev/null || { echo "$1 :$2: not $3: $r"; return 1; }
}
SRVPID=$SRV

check "graceful, server side: the unit, tcpdrive's child that closed (closer), not the listener" \
	is ws 41001 ".close == \"graceful\" and .app.unit == \"$UNIT\" and .app.comm == \"tcpdrive\"
		and .app.pid_role == \"closer\" and .app.pid != $SRVPID and .app.pid > 0
		and .app.cgroup == \"$CG_WEB\" and .app.cookie > 0"
check "graceful, client side: the pod, its containerd container, the connecting process" \
	is wc 41001 ".close == \"graceful\" and .app.pod == \"$POD_UID\"
		and .app.container == \"$CTR_ID\" and .app.runtime == \"containerd\"
		and .app.pid == $CPID_41001 and .app.pid_role == \"socket\" and .app.cookie > 0"
check "refused, no listener: no owner, and the port had none" \
	is ws 41002 ".close == \"refused\" and .app == null and .listener.port == 8009
		and .listener.seen == false"
check "refused, client side: the process that connected" \
	is wc 41002 ".close == \"refused\" and .app.pid == $CPID_41002 and .app.pod == \"$POD_UID\""
check "refused after the listener went: its pid, comm, container, how long ago" \
	is ws 41007 ".close == \"refused\" and .app == null and .listener.seen == true
		and .listener.listening == false and .listener.closed_ago >= 0.4
		and .listener.closed_ago < 5 and .listener.pid == $LPID
		and .listener.comm == \"python3\" and .listener.container == \"$DOCKER_ID\"
		and .listener.runtime == \"docker\""
check "server abort: the unit, the child that aborted" \
	is ws 41003 ".close == \"reset-server\" and .rst_reason == \"app-abort\"
		and .app.unit == \"$UNIT\" and .app.comm == \"tcpdrive\" and .app.pid != $SRVPID
		and .app.pid_role == \"socket\""
check "server abort, client side: the client's process" \
	is wc 41003 ".close == \"reset-server\" and .app.pid == $CPID_41003"
check "client abort, server side: the listening process (its child never closed it)" \
	is ws 41004 ".close == \"reset-client\" and .app.unit == \"$UNIT\"
		and .app.pid == $SRVPID and .app.pid_role == \"listener\""
check "client abort, client side: the client that aborted" \
	is wc 41004 ".close == \"reset-client\" and .app.pid == $CPID_41004
		and .app.container == \"$CTR_ID\""
check "a RST sent in softirq names the server's socket, not the client task it ran in" \
	is ws 41005 ".close == \"fin-reset\" and .rst_reason == \"data-after-close\"
		and .app.unit == \"$UNIT\" and .app.pid != $CPID_41005
		and .app.cgroup == \"$CG_WEB\""
check "IPv6: the same owners" \
	is ws 41006 ".close == \"graceful\" and .srv_ip == \"$S6\" and .app.unit == \"$UNIT\""
t_gone() {
	! kill -0 "$EPID" 2>/dev/null || { echo "process $EPID still runs"; return 1; }
	is wc 41008 ".close == \"graceful\" and .app.pid == $EPID and .app.comm == \"python3\"
		and .app.pod == \"$POD_UID\""
}
check "a process gone before its connection closed is still named" t_gone
# text, as wide as it goes, with a filter on app. fields: one watch on s0 at a time
check "watch on the server's side (text, -w, a filter on app. fields)" \
	watch_on wt "$NS_S" s0 -w --all -f "app.unit = \"$UNIT\" or app.container = \"$DOCKER_ID\""
check "a graceful close (text)" client graceful 41020
check "a refusal, nobody listening (text)" client refused 41021
check "a refusal, the listener gone (text)" t_gone_listener 8012 41022
sleep 1
check "the text watch stops cleanly" stop wt
t_text() {
	head -n 1 "$d/wt.out" | grep -q ' APP$' || { echo "no APP header"; cat "$d/wt.out"; return 1; }
	grep -q ":41020 .* tcpdrive\[[0-9]*\] $UNIT$" "$d/wt.out" ||
		{ echo "no graceful line naming $UNIT"; cat "$d/wt.out"; return 1; }
	grep -q ":41022 .* listener of :8012 gone [0-9.]*s: python3\[$LPID\] docker:${DOCKER_ID:0:12}$" \
		"$d/wt.out" || { echo "no gone listener line"; cat "$d/wt.out"; return 1; }
	# the filter: the refusal with no listener names no unit nor container
	! grep -q ':41021 ' "$d/wt.out" || { echo "the filter kept :41021"; return 1; }
}
check "text -w: the APP column names the unit and a gone listener; app. fields filter" t_text

# diagnose, live on the server's side: refusals by a port nobody listened on, and by one
# whose listener went away, told apart by the owners of sockets
(with_cg nsenter --net=/var/run/netns/"$NS_S" "$CT" -v diagnose -i s0 --duration 6 -o json) \
	>"$d/diag.out" 2>"$d/diag.err" &
DPID=$!
NS_PIDS+=("$DPID")
check "diagnose -i s0 --duration 6 starts" started "$d/diag.err" "Ctrl-C stops"
t_diag_refused() {
	client refused 41050 && client refused 41051 && client refused 41052
}
check "refusals, nobody listening (diagnose)" t_diag_refused
t_diag_gone() {
	t_gone_listener 8015 41053 && knock 8015 41054 && knock 8015 41055
}
check "refusals after a listener went away (diagnose)" t_diag_gone
# a firewall rule of the server's answers port 8016 with a RST: no socket takes part
t_diag_reject() {
	printf '%s\n' 'table inet ctreject {' ' chain in {' \
		'  type filter hook input priority 0;' '  tcp dport 8016 reject with tcp reset' \
		' }' '}' | ip netns exec "$NS_S" nft -f - || return 1
	knock 8016 41056 && knock 8016 41057 && knock 8016 41058
}
check "refusals by a firewall rule of the server's (diagnose)" t_diag_reject
check "diagnose ends after its duration, exit 0" wait "$DPID"
t_diag() {
	jq -e -s 'map(select(.rule == "refused" and .evidence.server == "192.0.2.2:8009"
		and (.summary | endswith("; nothing listened there since closetrace started"))))
		| length == 1' "$d/diag.out" >/dev/null &&
	jq -e -s "map(select(.rule == \"refused\" and .evidence.server == \"192.0.2.2:8015\"
		and (.summary | contains(\"; its listener went away (listener of :8015 gone \"))
		and (.summary | contains(\"python3[$LPID] docker:${DOCKER_ID:0:12})\"))
		and .severity == \"critical\")) | length == 1" "$d/diag.out" >/dev/null &&
	jq -e -s 'map(select(.rule == "refused" and .evidence.server == "192.0.2.2:8016"
		and (.summary | endswith("; not by a socket of this host: a firewall'"'"'s REJECT here or beyond, or traffic this host forwards"))))
		| length == 1' "$d/diag.out" >/dev/null ||
		{ cat "$d/diag.out"; return 1; }
}
check "diagnose live: nothing listened, the listener gone, a firewall's REJECT: each refusal told apart" t_diag

# a crash, live: a server in the docker container holds 12 connections whose requests it
# never read; killed with -9, its kernel resets them all at once; then its port refuses.
# diagnose must name the storm first, with the owner; report -i, the same, as HTML.
t_crash_server() {
	in_cg "$CG_DOCKER" "$NS_S" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print("listening", flush=True)
conns = [s.accept()[0] for _ in range(12)]
print("holding", len(conns), flush=True)
time.sleep(60)' "$S4" "$1" >"$d/crash.out" &
	CRPID=$!
	PODS+=("$CRPID")
	wait_for "$d/crash.out" listening 5 || return 1
	# 12 clients from ports $2.., each sends a request the server never reads
	(in_cg "$CG_POD" "$NS_C" python3 -c '
import socket, sys, time
cs = []
for i in range(12):
    c = socket.socket()
    c.bind(("0.0.0.0", int(sys.argv[3]) + i))
    c.connect((sys.argv[1], int(sys.argv[2])))
    c.sendall(b"GET / HTTP/1.1\r\n\r\n")
    cs.append(c)
print("sent", flush=True)
reset = 0
deadline = time.time() + 15
for c in cs:
    c.settimeout(max(0.1, deadline - time.time()))
    try:
        c.recv(10)
    except ConnectionResetError:
        reset += 1
    except OSError:
        pass
print("reset", reset, flush=True)' "$S4" "$1" "$2") >"$d/crashc.out" &
	CCPID=$!
	wait_for "$d/crash.out" holding 5 && wait_for "$d/crashc.out" sent 5 || return 1
	sleep 0.5
	kill -9 "$CRPID" || return 1
	wait "$CRPID" 2>/dev/null
	wait "$CCPID"
	grep -qx "reset 12" "$d/crashc.out" || { cat "$d/crashc.out"; return 1; }
	sleep 0.5
	knock "$1" $(($2 + 20)) && knock "$1" $(($2 + 21)) && knock "$1" $(($2 + 22))
}
(with_cg nsenter --net=/var/run/netns/"$NS_S" "$CT" -v diagnose -i s0 --duration 8 -o json) \
	>"$d/crash.json" 2>"$d/crashd.err" &
DPID=$!
NS_PIDS+=("$DPID")
check "diagnose -i s0 --duration 8 starts" started "$d/crashd.err" "Ctrl-C stops"
check "a server with 12 unread requests killed -9: its clients are reset; then it refuses" \
	t_crash_server 8020 41100
check "diagnose ends after its duration" wait "$DPID"
t_diag_crash() {
	jq -e -s "(.[0].rule == \"reset-storm\" and .[0].severity == \"critical\"
		and .[0].evidence.server == \"192.0.2.2:8020\"
		and .[0].evidence.ended_together == 12 and .[0].evidence.by_rst == 12
		and (.[0].summary | contains(\"(python3[\")))
		and (map(select(.rule == \"refused\" and .evidence.server == \"192.0.2.2:8020\"
			and (.summary | contains(\"its listener went away\")))) | length == 1)" \
		"$d/crash.json" >/dev/null || { cat "$d/crash.json"; return 1; }
}
check "diagnose live: the crash comes first (reset-storm, 12 by RST, python3 named), then its refusals" \
	t_diag_crash

# the same scenario through report -i: one HTML file when the duration ends
(with_cg nsenter --net=/var/run/netns/"$NS_S" "$CT" -v report -i s0 --duration 8 \
	-o "$d/live.html") >"$d/rep.out" 2>"$d/rep.err" &
RPID=$!
NS_PIDS+=("$RPID")
check "report -i s0 --duration 8 -o live.html starts" started "$d/rep.err" "Ctrl-C stops"
check "the crash again, on port 8021" t_crash_server 8021 41130
t_rep_end() {
	local r
	wait "$RPID"
	r=$?
	[ $r = 0 ] || { echo "exit $r"; cat "$d/rep.err"; return 1; }
	grep -q "^closetrace: s0: [0-9]* findings\?, written to $d/live.html\$" "$d/rep.err" ||
		{ cat "$d/rep.err"; return 1; }
}
check "report -i ends after its duration, exit 0, and says where it wrote" t_rep_end
t_live_report() {
	grep -q '<svg id="rst-per-conn" data-points="[1-9]' "$d/live.html" &&
	grep -q 'reset-storm' "$d/live.html" && grep -q '192.0.2.2:8021' "$d/live.html" &&
	! grep -Eqi '(src|href)=|<script' "$d/live.html" || { head -c 3000 "$d/live.html"; return 1; }
}
check "report -i: the Figure-5 chart, the crash's finding, nothing to load" t_live_report

# top, grouped by unit, on the same interface once the watches have gone
(with_cg nsenter --net=/var/run/netns/"$NS_S" "$CT" -v top -b -g unit -d 1 -n 4 --rows 20 -i s0) \
	>"$d/top.out" 2>"$d/top.err" &
TOPPID=$!
NS_PIDS+=("$TOPPID")
check "top -b -g unit starts" started "$d/top.err" "attached to tc"
check "a graceful close (top)" client graceful 41030
check "a refusal, nobody listening (top)" client refused 41031
check "top -b -g unit ends" wait "$TOPPID"
t_top() {
	grep -q "^$UNIT " "$d/top.out" || { echo "no row for $UNIT"; tail -n 30 "$d/top.out"; return 1; }
	grep -q "^no listener on :8009 " "$d/top.out" || { echo "no refusal row"; tail -n 30 "$d/top.out"; return 1; }
}
check "top -g unit: a row for the unit, one for the refused port" t_top
t_metrics() {
	grep -q "closetrace_app_closes_total{unit=\"$UNIT\",close=\"graceful\"}" "$d/metrics" ||
		{ grep app_closes "$d/metrics"; return 1; }
	promtool check metrics <"$d/metrics"
}
check "--metrics-by unit: a series for the unit; promtool finds nothing to say" t_metrics

# the fallbacks: owners turned off; and the tracepoints' object off (tc alone)
t_fallback() {
	local env=$1 name=$2 want=$3
	(export "$env" && with_cg nsenter --net=/var/run/netns/"$NS_S" "$CT" -v watch -i s0 \
		-o json --all) >"$d/$name.out" 2>"$d/$name.err" &
	local w=$!
	NS_PIDS+=("$w")
	wait_for "$d/$name.err" "watching " 10 || return 1
	client graceful "$4" && client refused "$5" || return 1
	sleep 1
	kill -INT "$w" && wait "$w"
	is "$name" "$4" "$want" && is "$name" "$5" '.close == "refused"'
}
check "CLOSETRACE_DISABLE=owners: no app, no listener" t_fallback CLOSETRACE_DISABLE=owners \
	off '.close == "graceful" and .app == null and .listener == null' 41010 41011
check "CLOSETRACE_DISABLE=resets: tc's cgroup and cookie, no process" t_fallback \
	CLOSETRACE_DISABLE=resets nores ".close == \"graceful\" and .app.unit == \"$UNIT\"
		and .app.pid == null and .app.cookie > 0" 41012 41013
check "closetrace check names owners: accepted, and off when turned off" sh -c "
	$CT check | grep -q '^feature      owners     accepted ' &&
	CLOSETRACE_DISABLE=owners $CT check | grep -q '^feature      owners     off '"
check "nothing left loaded" none_loaded
done_testing
