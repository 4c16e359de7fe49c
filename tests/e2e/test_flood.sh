#!/usr/bin/env bash
# test_flood.sh - floods, end to end, in namespaces the test makes (netns.sh). A SYN flood
# from 50 000 spoofed sources into a table of 4096 that holds 100 established, idle
# connections: none of them is evicted, their 100 closes are all reported, and the
# evictions are counted exactly. Then 500 000 orphan RSTs interleaved with 100 refused
# connections: every refusal is printed, and each orphan RST is either printed or in a
# summary, exactly. Frames are sent on the client's veth (AF_PACKET, tcpdrive flood),
# from 198.18.0.0/15 sources that exist only on that link.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
ns_cleanup_on_exit
CT=${CLOSETRACE:-$here/../../build/closetrace}
DRIVE=$here/../../build/tests/tcpdrive
need_root
d=$T_DIR
command -v jq >/dev/null || { echo "not ok 1 - jq is missing (make deps)"; exit 1; }

check "namespaces and veth pairs are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5
SMAC=$(ip -n "$NS_S" -br link show s0 | awk '{print $3}')
TABLE=4096 HELD=100 SYNS=50000 RSTS=500000 REFUSED=100

# sum FILE JQ-FILTER: the sum of the numbers the filter selects from the NDJSON in FILE
sum() {
	jq -s "[.[] | $2] | add // 0" "$1"
}

# --- a SYN flood against held connections ------------------------------------------------
mkfifo "$d/go"
check "watch starts with a table of $TABLE" ns_start syn ip netns exec "$NS_S" "$CT" watch \
	-i s0 -a -o json -v --table-size $TABLE --syn-timeout 120 --idle-timeout 120
# the fifo opened read-write by the holder's shell: a line on it lets the holder go
ns_bg "$NS_C" sh -c "exec '$DRIVE' hold $HELD $S4 20000 <>'$d/go'" >"$d/hold.out"
check "$HELD connections are established and idle" wait_for "$d/hold.out" "held $HELD" 10
t_flood() {
	ip netns exec "$NS_C" "$DRIVE" flood syn c0 "$SMAC" "$S4" 8001 $SYNS 7
}
check "$SYNS SYNs from as many spoofed sources are sent" t_flood
sleep 1.5	# a scan and a loss record
echo go >"$d/go"
check "the held connections close gracefully" wait_for "$d/hold.out" "closed $HELD" 10
sleep 1.5
check "watch exits on SIGINT" ns_stop
t_held_closes() {
	local n
	n=$(jq -s '[.[] | select(.type == "close" and .close == "graceful" and
		.srv_port == 8001)] | length' "$d/syn.out")
	echo "graceful closes: $n"
	[ "$n" = $HELD ]
}
check "all $HELD closes of the established connections are reported" t_held_closes
t_syn_evictions() {
	local flows emb est untracked
	flows=$(sed -n 's/.*, \([0-9]*\) flows$/\1/p' "$d/syn.err")
	emb=$(sum "$d/syn.out" 'select(.type == "loss") | .evicted_embryonic')
	est=$(sum "$d/syn.out" 'select(.type == "loss") | .evicted_established')
	untracked=$(sum "$d/syn.out" 'select(.type == "loss") | .untracked')
	echo "flows $flows, evicted $emb embryonic, $est established, untracked $untracked" >&3
	# nothing expired on its own (timeouts of 120 s): the table is full, all else went
	[ "$flows" = $((HELD + SYNS)) ] && [ "$emb" = $((HELD + SYNS - TABLE)) ] &&
		[ "$est" = 0 ] && [ "$untracked" = 0 ] &&
		grep -q "^closetrace: $emb flows evicted from the full flow table ($emb embryonic, 0 established)" "$d/syn.err"
}
check "evictions are counted exactly, by class, in loss records and on stderr" t_syn_evictions
check "no event was lost" bash -c "! grep -q 'events lost' '$d/syn.err'"

# --- an orphan-RST storm with refusals in it ---------------------------------------------
check "watch starts (default storm rate)" ns_start rst ip netns exec "$NS_S" "$CT" watch \
	-i s0 -o json -v
ns_bg "$NS_C" "$DRIVE" flood rst c0 "$SMAC" "$S4" 8001 $RSTS 3
FLOOD=$!
PORT=30000
check "$REFUSED connections are refused during the storm" ns_drive refused $REFUSED
check "the $RSTS orphan RSTs are sent" wait "$FLOOD"
sleep 1.5
check "watch exits on SIGINT" ns_stop
t_refused() {
	local n
	n=$(jq -s '[.[] | select(.type == "close" and .close == "refused" and
		.srv_port == 8009)] | length' "$d/rst.out")
	echo "refused: $n"
	[ "$n" = $REFUSED ]
}
check "every refusal is printed" t_refused
t_orphans() {
	local printed summed keyed
	printed=$(jq -s '[.[] | select(.type == "close" and .close == "orphan-rst")] | length' \
		"$d/rst.out")
	summed=$(sum "$d/rst.out" 'select(.type == "summary" and .close == "orphan-rst") | .count')
	keyed=$(sum "$d/rst.out" 'select(.type == "summary" and .srv_ip == "'"$S4"'" and
		.srv_port == 8001) | .count')
	echo "orphan RSTs: $printed printed + $summed summarised ($keyed under $S4:8001)" >&3
	[ $((printed + summed)) = $RSTS ] && [ "$summed" -gt 0 ] && [ "$keyed" = "$summed" ] &&
		! grep -q 'events lost' "$d/rst.err" &&
		grep -q "^closetrace: $summed closes were counted in storm summaries" "$d/rst.err"
}
check "orphan RSTs: sent = printed + summarised, exactly" t_orphans
t_summary_shape() {
	jq -e -s '[.[] | select(.type == "summary")] | length > 0 and
		all(.v == 1 and .iface == "s0" and (.first <= .last) and .count > 0)' "$d/rst.out"
}
check "summary records carry interface, server, count, first and last" t_summary_shape

done_testing
