#!/usr/bin/env bash
# test_engines.sh - the two replay engines give the same records: the flow code compiled
# into closetrace (--engine user, the default) and the BPF program in the kernel through
# BPF_PROG_TEST_RUN (--engine bpf). Every capture in tests/data, generated ones (evictions
# from a small table, storms, damaged files, every link type), and damaged copies of all
# of them (bits flipped in headers, packets cut short, swapped, repeated, files cut: a
# fixed seed each) are replayed by both in text, JSON, final-state and storm-summary
# modes; stdout must hold the same lines (a scan walks the table in hash order, which
# the kernel randomises: compared as sorted lines), stderr the same lines in the same
# order (with -v: the packet, TCP, malformed and flow counters), exit status the same.
# Past --storm-rate, which unanswered SYNs a scan reports one by one and which it
# summarises follows that order too (the kernel engine differs from run to run there):
# those compare as how many went out one by one, and how many in all for each server.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
GEN="python3 $here/pcapgen.py"
DATA=$here/../data
need_root

d=$T_DIR
mkdir -p "$d/gen" "$d/mut"
$GEN refused "$d/gen/refused.pcap" 40
$GEN storm "$d/gen/storm.pcap" 3000
$GEN pressure "$d/gen/pressure.pcap" 3000
$GEN small "$d/gen/small.pcap" 60000 5000
for k in zero-len snap-cut corrupt; do $GEN "$k" "$d/gen/$k.pcap"; done
for dlt in 0 1 101 108 113 276 228; do $GEN link "$d/gen/link$dlt.pcap" "$dlt"; done
orig=("$DATA"/zeek/*.pcap "$DATA"/zeek/*.pcapng "$DATA"/zeek/*.trace "$DATA"/tcpdump/*.pcap)
gen=("$d"/gen/*.pcap)
# four damaged copies of each (seed 3: the file cut too)
mut=()
for f in "${orig[@]}" "${gen[@]}"; do
	for seed in 1 2 3 4; do
		m="$d/mut/$seed.$(basename "$f")"
		$GEN mutate "$f" "$m" "$seed"
		mut+=("$m")
	done
done
echo "# ${#orig[@]} captures of tests/data, ${#gen[@]} generated, ${#mut[@]} damaged copies" >&3

records=0
# view FILE: its records in an order of their own; unanswered SYNs under a storm rate, as
# how many were reported one by one, and how many in all (reported or summarised) by server
view() {
	if [ -z "$storm" ]; then
		sort "$1"
		return
	fi
	jq -c 'select(.close != "unanswered" or (.type != "close" and .type != "summary"))' "$1" |
		sort
	jq -rs '[.[] | select(.close == "unanswered") |
		 select(.type == "close" or .type == "summary")] |
		"unanswered one by one: \(map(select(.type == "close")) | length)",
		(group_by([.iface, .srv_ip, .srv_port])[] |
		 "\(.[0].iface) \(.[0].srv_ip) \(.[0].srv_port): \(map(.count // 1) | add)")' "$1"
}

# same ARGS...: both engines on ARGS; the same records, messages and exit status
same() {
	local rb ru storm=
	case " $* " in *" --storm-rate "*) storm=1 ;; esac
	"$CT" replay --engine bpf "$@" >"$d/b.out" 2>"$d/b.err"
	rb=$?
	"$CT" replay --engine user "$@" >"$d/u.out" 2>"$d/u.err"
	ru=$?
	[ "$rb" = "$ru" ] || { echo "exit status: bpf $rb, user $ru"; return 1; }
	view "$d/b.out" >"$d/b.sorted"
	view "$d/u.out" >"$d/u.sorted"
	diff "$d/b.sorted" "$d/u.sorted" | head -n 8 >"$d/diff" ||
		{ echo "records differ (< bpf, > user):"; cat "$d/diff"; return 1; }
	diff "$d/b.err" "$d/u.err" | head -n 8 >"$d/diff" ||
		{ echo "stderr differs (< bpf, > user):"; cat "$d/diff"; return 1; }
	records=$((records + $(wc -l <"$d/u.out")))
}

# every mode over a set of captures, all in one replay (one BPF load per mode)
modes() {
	local what=$1
	shift
	check "$what: text, abnormal closes" same -v "$@"
	check "$what: JSON, abnormal closes" same -o json "$@"
	check "$what: JSON, every flow's final state" same --final --all -o json "$@"
	check "$what: JSON, every close, storms summarised past 5/s, 2 s SYN timeout" \
		same -v --all -o json --storm-rate 5 --syn-timeout 2 "$@"
	check "$what: a table of 1024 flows, 2 s SYN and 3 s idle timeouts" \
		same -v --final --all -o json --table-size 1024 --syn-timeout 2 \
		--idle-timeout 3 "$@"
}

modes "tests/data" "${orig[@]}"
modes "generated" "${gen[@]}"
modes "damaged" "${mut[@]}"

# one capture at a time too: no capture's flows or clock carried into the next
t_each() {
	local f n=0
	for f in "${orig[@]}" "${gen[@]}"; do
		same -v --final --all -o json "$f" || { echo "in $f"; return 1; }
		n=$((n + 1))
	done
	echo "# $n captures replayed one by one" >&3
}
check "each capture on its own: JSON, every flow's final state" t_each

t_enough() {
	echo "# $records records compared" >&3
	[ "$records" -gt 100000 ]
}
check "more than 100 000 records compared in all" t_enough
done_testing
