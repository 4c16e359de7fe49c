#!/usr/bin/env bash
# test_viewers.sh - one agent, many viewers. The unit's command (its /etc/default arguments,
# an unprivileged uid with the unit's capabilities and its closetrace group) watches s0;
# three viewers run beside it as a user of the closetrace group with no capability at all
# (watch -o json, top -b, diagnose --duration) and must see the closes the agent sees,
# with no second program on s0. Then: a user without the group is refused in one sentence;
# a viewer killed with -9 and a viewer stopped (SIGSTOP) under a flood of 30 000 closes
# cost the agent and the other viewers nothing, the stopped one is told what it lost; the
# agent restarts while a viewer runs (it says so and rejoins); `closetrace check` and the
# metrics show the viewers; --no-agent attaches beside the agent (tcx).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
need_root
d=$T_DIR
DRIVE=$root/build/tests/tcpdrive
for tool in setpriv jq curl; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
# a copy unprivileged uids can run, wherever the clone lives
mkdir -p "$d/pub" && cp "$root/build/closetrace" "$d/pub/closetrace" && chmod 755 "$d" "$d/pub"
CT=$d/pub/closetrace
NOBODY=65534 VIEWER=65533 STRANGER=65532
CAPS=+bpf,+perfmon,+net_admin
# the group viewers need: made here when the machine has none, and removed after
MADE_GROUP=
getent group closetrace >/dev/null || { groupadd --system closetrace && MADE_GROUP=1; }
GID=$(getent group closetrace | cut -d: -f3)
# the unit's RuntimeDirectory: /run/closetrace, here the test's own
export CLOSETRACE_RUN_DIR=$d/run
mkdir -p "$d/run" "$d/log" && chown "$NOBODY" "$d/run" "$d/log" && chmod 755 "$d/run"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ns_teardown
	[ -z "$MADE_GROUP" ] || groupdel closetrace
	rm -rf "$T_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check "namespaces and veth pairs are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5

# the agent: the unit's ExecStart with its /etc/default arguments (s0, files here), its
# user, capabilities and group
sed "s|-i eth0|-i s0|; s|/var/log/closetrace|$d/log|" "$root/examples/systemd/closetrace.default" \
	>"$d/default"
ARGS=$(. "$d/default" && echo "$CLOSETRACE_ARGS")
agent() {
	ip netns exec "$NS_S" setpriv --reuid=$NOBODY --regid=$NOBODY --groups="$GID" \
		--no-new-privs --inh-caps="$CAPS" --ambient-caps="$CAPS" \
		--bounding-set=-all,"$CAPS" "$CT" -v watch $ARGS "$@" >>"$d/agent.out" 2>>"$d/agent.err" &
	APID=$!
	PIDS+=("$APID")
	wait_for "$d/agent.err" "shared with local viewers" 10
}
check "the unit's command starts and shares its session" agent
# the socket names the network namespace: s0 is the server namespace's
SOCK=$d/run/s0@$(ip netns exec "$NS_S" stat -L -c %i /proc/self/ns/net).sock
t_socket() {
	[ "$(stat -c '%a %G' "$SOCK" 2>&1)" = "660 closetrace" ] || { ls -l "$d/run"; return 1; }
}
check "its socket: run/s0@NETNS.sock (the server namespace's), mode 0660, group closetrace" \
	t_socket

# as VIEWER, a member of closetrace with no capability, in the agent's network namespace
# viewer NAME ARGS...: a viewer in the background, its output in NAME.out and NAME.err
viewer() {
	local name=$1
	shift
	ip netns exec "$NS_S" setpriv --reuid=$VIEWER --regid=$VIEWER --groups="$GID" \
		--inh-caps=-all --bounding-set=-all "$CT" "$@" >"$d/$name.out" 2>"$d/$name.err" &
	eval "PID_$name=$!"
	PIDS+=("$!")
}
viewer v1 watch -i s0 -o json
viewer v2 top -i s0 -b -d 1 -n 9 --rows 20
viewer v3 diagnose -i s0 --duration 9 -o json
t_joined() {
	wait_for "$d/v1.err" "viewing s0 through the agent" 5 &&
		wait_for "$d/agent.err" "viewer (top" 5 && wait_for "$d/agent.err" "viewer (diagnose" 5 &&
		wait_for "$d/agent.err" "viewer (watch" 5
}
check "three viewers join: watch -o json, top -b, diagnose --duration (no capability)" t_joined
t_one_program() {
	[ "$(hooked "$NS_S" s0 | grep -cE ' ct_tc$')" = 2 ] || { hooked "$NS_S" s0; return 1; }
}
check "still one program on s0 (ingress and egress): the viewers attached nothing" t_one_program
t_check() {
	ip netns exec "$NS_S" "$root/build/closetrace" check >"$d/check.out" 2>&1
	grep -qE "^agent +s0: watched by pid [0-9]+ \\(tc\\), 3 viewers: .*watch\\[$PID_v1\\]" \
		"$d/check.out" && grep -q "top\\[$PID_v2\\]" "$d/check.out" &&
		grep -q "diagnose\\[$PID_v3\\]" "$d/check.out" || { cat "$d/check.out"; return 1; }
}
check "closetrace check shows the agent and its three viewers" t_check
t_metrics() {
	sleep 1.2
	ip netns exec "$NS_S" curl -s http://127.0.0.1:9464/metrics >"$d/m1" &&
		grep -qx 'closetrace_viewers 3' "$d/m1" || { grep viewer "$d/m1"; return 1; }
}
check "the agent's metrics count 3 viewers" t_metrics

# traffic: 3 refused, 3 reset by the server, 2 graceful
PORT=41001	# ns_drive's client ports
t_traffic() {
	ns_drive refused 3 && ns_drive reset-server 3 && ns_drive graceful 2
}
check "traffic: 3 refusals, 3 server resets, 2 graceful closes" t_traffic
check "top -b and diagnose --duration end on their own" sh -c "
	while kill -0 $PID_v2 2>/dev/null || kill -0 $PID_v3 2>/dev/null; do sleep 0.2; done"
# the agent writes its file; the viewer the same records
t_same() {
	sleep 1.5
	[ "$(wc -l <"$d/log/closes.json")" = 6 ] || { cat "$d/log/closes.json"; return 1; }
	diff "$d/log/closes.json" "$d/v1.out"
}
check "watch (viewer) prints exactly the agent's 6 abnormal closes, byte for byte" t_same
t_top() {
	grep -qE '^192\.0\.2\.2:8009 +3 +0 ' "$d/v2.out" && grep -qE '^192\.0\.2\.2:8002 +3 +3 ' \
		"$d/v2.out" && grep -q 'tc, viewed' "$d/v2.out" || { tail -20 "$d/v2.out"; return 1; }
}
check "top (viewer): 3 refused on :8009, 3 connections reset on :8002, graceful ones counted" t_top
t_diag() {
	jq -e -s 'map(select(.rule == "refused" and .evidence.server == "192.0.2.2:8009"))
		| length == 1' "$d/v3.out" >/dev/null &&
	jq -e -s 'map(select(.rule == "resets-sessions" and .evidence.server == "192.0.2.2:8002"
		and .evidence.reasons["app-abort"] == 3)) | length == 1' "$d/v3.out" >/dev/null ||
		{ cat "$d/v3.out" "$d/v3.err"; return 1; }
}
check "diagnose (viewer): the refusals and the resets, with the kernel's reasons" t_diag

# without the group: one sentence
t_stranger() {
	local e
	e=$(ip netns exec "$NS_S" setpriv --reuid=$STRANGER --regid=$STRANGER --clear-groups \
		--inh-caps=-all --bounding-set=-all "$CT" watch -i s0 2>&1 >/dev/null)
	[ $? = 1 ] && [ "$(wc -l <<<"$e")" = 1 ] &&
		grep -q "^closetrace: s0: an agent watches it, but .*s0@[0-9]*.sock is for the closetrace group: join it to view (sudo usermod -aG closetrace \$USER, then log in again)$" <<<"$e" ||
		{ echo "$e"; return 1; }
}
check "a user without the group is refused in one sentence naming the group" t_stranger

# the agent restarts: v1 says so, waits, rejoins, and sees what comes after
t_restart() {
	kill "$APID" && wait "$APID"
	wait_for "$d/v1.err" "stopped, or restarts; waiting" 5 || return 1
	# back with every orphan RST one by one (no storm summaries): the flood below
	agent --storm-rate 0 || return 1
	PORT=41009
	wait_for "$d/v1.err" "the agent is back" 5 && ns_drive refused 1 && sleep 1 &&
		grep -q '"clt_port":41009' "$d/v1.out" ||
		{ cat "$d/v1.err"; tail -c 600 "$d/v1.out"; tail -5 "$d/agent.err"; return 1; }
}
check "the agent restarts (--storm-rate 0 now): the viewer says so, rejoins, sees the next close" \
	t_restart

# a viewer killed with -9, another stopped, under 30 000 closes; v1 reads on
viewer v4 watch -i s0 -o json
viewer v5 watch -i s0 -o json
check "two more viewers join" sh -c "
	until [ \$(grep -c 'viewer (watch' '$d/agent.err') -ge 4 ]; do sleep 0.1; done"
t_flood() {
	local smac
	kill -9 "$PID_v4" && kill -STOP "$PID_v5" || return 1
	smac=$(ip -n "$NS_S" -br link show s0 | awk '{print $3}')
	ip netns exec "$NS_C" "$DRIVE" flood rst c0 "$smac" "$S4" 443 30000 7
}
check "v4 killed with -9, v5 stopped; 30 000 orphan RSTs from distinct sources" t_flood
# the agent's file, rotated at 10 MB (--output-rotate 10M,5): oldest first
agent_closes() {
	local i
	for i in 5 4 3 2 1; do [ ! -f "$d/log/closes.json.$i" ] || cat "$d/log/closes.json.$i"; done
	cat "$d/log/closes.json"
}
t_flood_seen() {
	local a n
	sleep 3
	agent_closes >"$d/agent.all"
	a=$(grep -c '"orphan-rst"' "$d/agent.all")
	n=$(grep -c '"orphan-rst"' "$d/v1.out")
	echo "# agent: $a orphan-rst records; v1: $n" >&3
	[ "$a" = 30000 ] && [ "$n" = 30000 ] && diff "$d/agent.all" "$d/v1.out" >"$d/diff" ||
		{ head -c 1500 "$d/diff"; return 1; }
}
check "the agent wrote every record, and v1 has each of them: a dead viewer costs nothing" \
	t_flood_seen
t_stopped() {
	kill -CONT "$PID_v5" || return 1
	sleep 2
	kill -0 "$APID" || { echo "the agent died"; return 1; }
	# what it could not take was dropped for it alone, and it was told
	wait_for "$d/v5.err" "records dropped by the agent for this viewer" 5 || true
	local got dropped
	got=$(grep -c '"orphan-rst"' "$d/v5.out")
	dropped=$(sed -n 's/.*dropped by the agent for this viewer.* (\([0-9]*\) in all).*/\1/p' \
		"$d/v5.err" | tail -1)
	echo "# v5: $got orphan-rst records, $dropped dropped for it and said" >&3
	# all 30 000 were the agent's; what v5 lacks is what it was told it lost
	[ -n "$dropped" ] && [ "$dropped" -gt 0 ] && [ $((got + dropped)) -eq 30000 ]
}
check "the stopped viewer resumes; the agent is alive" t_stopped
t_drop_metric() {
	sleep 1.2
	ip netns exec "$NS_S" curl -s http://127.0.0.1:9464/metrics >"$d/m2"
	grep -q '^closetrace_viewer_records_dropped_total ' "$d/m2" &&
		grep -q '^closetrace_events_lost_total 0$' "$d/m2" &&
		grep -qx 'closetrace_viewers 2' "$d/m2" &&
		! grep -qx 'closetrace_viewer_records_dropped_total 0' "$d/m2" ||
		{ grep -E 'viewer|lost' "$d/m2"; return 1; }
}
check "metrics: 2 viewers now, none of the agent's events lost, drops for viewers counted" \
	t_drop_metric

# --no-agent: a program of its own beside the agent's (tcx runs several)
t_beside() {
	ip netns exec "$NS_S" "$root/build/closetrace" watch -i s0 --no-agent -o json \
		>"$d/own.out" 2>"$d/own.err" &
	PIDS+=("$!")
	wait_for "$d/own.err" "watching s0" 5 || { cat "$d/own.err"; return 1; }
	[ "$(hooked "$NS_S" s0 | grep -cE ' ct_tc$')" = 4 ] || { hooked "$NS_S" s0; return 1; }
	PORT=41010
	ns_drive refused 1 && sleep 1 && grep -q '"clt_port":41010' "$d/own.out" &&
		grep -q '"clt_port":41010' "$d/v1.out"
}
check "--no-agent attaches beside the agent (tcx), and both see the close" t_beside

# --wait-interface: the agent (restarted with it) waits for s0, deleted and made again
pair_again() {
	local cmac smac
	ip link add c0 netns "$NS_C" type veth peer name s0 netns "$NS_S" || return 1
	ip -n "$NS_C" addr add "$C4/24" dev c0 && ip -n "$NS_S" addr add "$S4/24" dev s0 &&
		ip -n "$NS_C" link set c0 up && ip -n "$NS_S" link set s0 up || return 1
	cmac=$(ip -n "$NS_C" -br link show c0 | awk '{print $3}')
	smac=$(ip -n "$NS_S" -br link show s0 | awk '{print $3}')
	ip -n "$NS_C" neigh add "$S4" lladdr "$smac" dev c0 nud permanent &&
		ip -n "$NS_S" neigh add "$C4" lladdr "$cmac" dev s0 nud permanent
}
t_wait_iface() {
	local back
	kill "$APID" && wait "$APID"
	back=$(grep -c "the agent is back" "$d/v1.err")
	agent --storm-rate 0 --wait-interface || return 1
	until [ "$(grep -c "the agent is back" "$d/v1.err")" -gt "$back" ]; do sleep 0.1; done
	ip -n "$NS_C" link del c0 || return 1
	wait_for "$d/agent.err" "s0: interface disappeared; waiting for it to come back" 5 ||
		return 1
	sleep 1
	kill -0 "$APID" || { echo "the agent ended"; return 1; }
	pair_again || return 1
	wait_for "$d/agent.err" "s0: back (index [0-9]*): watched again" 5 || return 1
	PORT=41020
	ns_drive refused 1 && sleep 1.5
	# the agent's close, with this host's reason found under the new index; the viewer's
	agent_closes | grep '"clt_port":41020' | grep -q '"rst_reason":"no-socket"' &&
		grep -q '"clt_port":41020' "$d/v1.out" || { tail -5 "$d/agent.err"; return 1; }
}
check "--wait-interface: s0 deleted and made again is watched again (reasons, viewers too)" \
	t_wait_iface

check "the agent stops: viewers are told, the socket is removed" sh -c "
	kill $APID; while kill -0 $APID 2>/dev/null; do sleep 0.1; done
	[ ! -e '$SOCK' ]"
done_testing
