# netns.sh - the test network: three namespaces made for the test, with random names so
# that runs never collide, removed on exit with everything in them.
#
#   client C: c0 192.0.2.1 2001:db8::1  ---veth---  server S: s0 192.0.2.2 2001:db8::2
#   S mirrors everything s0 receives and sends (u32 + mirred) out of m0 ---veth--- m1 in M,
#   a monitoring port that sees both directions as ingress.
#   192.0.2.99 and 2001:db8::99 lead to s0 from C (static neighbours) but S does not
#   own them: a SYN there is never answered.
# Addresses are documentation prefixes that exist only inside these namespaces.
# shellcheck shell=bash

NS_C= NS_S= NS_M=
NS_PIDS=()
C4=192.0.2.1 S4=192.0.2.2 X4=192.0.2.99
C6=2001:db8::1 S6=2001:db8::2 X6=2001:db8::99

ns_teardown() {
	local p
	for p in "${NS_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${NS_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in "$NS_C" "$NS_S" "$NS_M"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
	NS_PIDS=()
	return 0
}

# ns_cleanup_on_exit: on exit, the namespaces and what runs in them go, and the test's
# directory (lib.sh's T_DIR)
ns_cleanup_on_exit() {
	trap 'ns_teardown; rm -rf "$T_DIR"' EXIT
}

# ns_bg NS CMD...: run CMD in namespace NS in the background, killed at teardown
ns_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	NS_PIDS+=("$!")
}

ns_setup() {
	local id
	id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	NS_C=ct-c-$id NS_S=ct-s-$id NS_M=ct-m-$id
	ip netns add "$NS_C" && ip netns add "$NS_S" && ip netns add "$NS_M" || return 1
	ip link add c0 netns "$NS_C" type veth peer name s0 netns "$NS_S" || return 1
	ip link add m0 netns "$NS_S" type veth peer name m1 netns "$NS_M" || return 1
	for n in "$NS_C" "$NS_S" "$NS_M"; do
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	ip -n "$NS_C" addr add "$C4/24" dev c0
	ip -n "$NS_C" addr add "$C6/64" dev c0 nodad
	ip -n "$NS_S" addr add "$S4/24" dev s0
	ip -n "$NS_S" addr add "$S6/64" dev s0 nodad
	for l in "$NS_C c0" "$NS_S s0" "$NS_S m0" "$NS_M m1"; do
		set -- $l
		ip -n "$1" link set "$2" up || return 1
	done
	# no ARP or neighbour discovery on the wire: only the test's own packets
	local cmac smac
	cmac=$(ip -n "$NS_C" -br link show c0 | awk '{print $3}')
	smac=$(ip -n "$NS_S" -br link show s0 | awk '{print $3}')
	ip -n "$NS_C" neigh add "$S4" lladdr "$smac" dev c0 nud permanent
	ip -n "$NS_C" neigh add "$S6" lladdr "$smac" dev c0 nud permanent
	ip -n "$NS_C" neigh add "$X4" lladdr "$smac" dev c0 nud permanent
	ip -n "$NS_C" neigh add "$X6" lladdr "$smac" dev c0 nud permanent
	ip -n "$NS_S" neigh add "$C4" lladdr "$cmac" dev s0 nud permanent
	ip -n "$NS_S" neigh add "$C6" lladdr "$cmac" dev s0 nud permanent
	# the monitoring port: a copy of everything s0 receives and sends
	ip netns exec "$NS_S" tc qdisc add dev s0 clsact
	ip netns exec "$NS_S" tc filter add dev s0 ingress prio 1 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev m0 || return 1
	ip netns exec "$NS_S" tc filter add dev s0 egress prio 1 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev m0 || return 1
}

# ns_tag_mirror OBJ: the mirror's copies leave m0 tagged with VLAN 100 (BPF tagger)
ns_tag_mirror() {
	ip netns exec "$NS_S" tc qdisc add dev m0 clsact &&
		ip netns exec "$NS_S" tc filter add dev m0 egress prio 1 bpf direct-action \
			obj "$1" sec tc
}

ns_untag_mirror() {
	ip netns exec "$NS_S" tc qdisc del dev m0 clsact 2>/dev/null
	return 0
}

# ns_drive KIND COUNT: COUNT connections of KIND from C to S over IPv4, each from a fresh
# client port ($PORT, which it advances), made by the traffic driver $DRIVE
ns_drive() {
	local i
	for ((i = 0; i < $2; i++)); do
		ip netns exec "$NS_C" "$DRIVE" client "$1" "$S4" "$PORT" || return 1
		PORT=$((PORT + 1))
	done
}

# ns_start NAME CMD...: CMD, a closetrace watch run with -v (through ip netns exec, or a
# function that execs it), in the background, its output in
# $d/NAME.out and $d/NAME.err, until it says it is watching; its pid in $WPID, killed at
# teardown. ns_stop: SIGINT, and its exit status.
ns_start() {
	local name=$1
	shift
	(if declare -F "$1" >/dev/null; then "$@"; else exec "$@"; fi) >"$d/$name.out" \
		2>"$d/$name.err" &
	WPID=$!
	NS_PIDS+=("$WPID")
	wait_for "$d/$name.err" "watching " 5 && note_progs "$WPID"
}

ns_stop() {
	kill -INT "$WPID" 2>/dev/null
	wait "$WPID"
}

# wait_for FILE PATTERN SECONDS: until FILE has a line matching PATTERN
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for '$2' in $1" >&2
	return 1
}

# --- what runs on an interface, seen by the tests' own helper (build/tests/hooks) ---------
HOOKS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tests/hooks
# hooked NS DEV: the programs attached to DEV in NS, "HOOK ID NAME" a line (tcx, XDP, tc)
hooked() { ip netns exec "$1" "$HOOKS" "$2"; }
# ct_hooked NS DEV: whether a program named like closetrace's runs on DEV; where the helper
# cannot tell, yes (so that "! ct_hooked" never passes for want of a look)
ct_hooked() {
	local out
	out=$(hooked "$1" "$2") || { echo "hooks: cannot read the hooks of $2" >&2; return 0; }
	grep -qE ' ct_(tc|xdp)$' <<<"$out"
}
# note_ids NS DEV: remember closetrace's programs on DEV (a watch is running there) for
# no_leftovers; their hooks in NOTED_HOOKS (tcx-ingress, tc-ingress, xdp, ...)
note_ids() {
	NOTED_NS=$1 NOTED_DEV=$2
	NOTED_IDS=$(hooked "$1" "$2" | awk '$3 ~ /^ct_(tc|xdp)$/ {print $2}' | sort -u | xargs)
	NOTED_HOOKS=$(hooked "$1" "$2" | awk '$3 ~ /^ct_(tc|xdp)$/ {print $1}' | sort -u | xargs)
}
# no_leftovers: the watch noted last has left nothing: none of its programs is still
# attached to its interface or loaded (scoped to this run: other closetraces on the
# machine, a service or a parallel test run, do not count)
no_leftovers() {
	local id
	[ -n "${NOTED_IDS:-}" ] || { echo "no closetrace program was seen attached"; return 1; }
	ct_hooked "$NOTED_NS" "$NOTED_DEV" && { echo "still attached: $(hooked "$NOTED_NS" "$NOTED_DEV")"; return 1; }
	for id in $NOTED_IDS; do
		bpftool prog show id "$id" >/dev/null 2>&1 && { echo "program $id still loaded"; return 1; }
	done
	return 0
}

# note_progs PID: remember the BPF programs process PID holds (every descriptor's prog_id:
# programs and links), for none_loaded
note_progs() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' \
		>>"$T_DIR/progs.seen"
}
# none_loaded: of the programs noted, none is loaded any more (and some were noted): the
# run's own, not every closetrace program on the machine
none_loaded() {
	local id n=0
	for id in $(sort -un "$T_DIR/progs.seen" 2>/dev/null); do
		n=$((n + 1))
		bpftool prog show id "$id" >/dev/null 2>&1 && { echo "program $id is still loaded"; return 1; }
	done
	[ "$n" -gt 0 ] || { echo "no program was noted"; return 1; }
	echo "# none of the $n programs this test's watches held is loaded" >&3
}
export HOOKS
export -f hooked ct_hooked
