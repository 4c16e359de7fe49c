#!/usr/bin/env bash
# test_diagnose.sh - each rule of `closetrace diagnose` on a capture made to fire it, and on
# one close to it that must not (diaggen.py): the right rule comes first, and a near miss
# raises nothing at warning or above. Then --fail-on's exit status, the threshold options
# (each moves its rule's decision), and the same findings from the BPF engine (as root).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
d=$T_DIR

gen() {
	[ -s "$d/$1.pcap" ] || python3 "$here/diaggen.py" "$1" "$d/$1.pcap"
}

# findings SCENARIO [OPTIONS...]: its findings as "severity rule" lines, most severe first
findings() {
	local s=$1
	shift
	gen "$s" && "$CT" diagnose -o json "$@" "$d/$s.pcap" 2>/dev/null |
		jq -r '"\(.severity) \(.rule)"'
}

# fires SCENARIO "SEVERITY RULE" [OPTIONS...]: the first finding
fires() {
	local first
	first=$(findings "$1" "${@:3}" | head -1)
	[ "$first" = "$2" ] || { echo "first finding of $1: '$first', not '$2'"; return 1; }
}

# quiet SCENARIO [OPTIONS...]: nothing at warning or above
quiet() {
	local out
	out=$(findings "$@") || return 1
	if grep -Ev '^info ' <<<"$out"; then
		echo "above: raised on $1"
		return 1
	fi
}

# lacks SCENARIO RULE [OPTIONS...]: no finding of RULE
lacks() {
	local out
	out=$(findings "$1" "${@:3}") || return 1
	! grep -E " $2\$" <<<"$out"
}

check "normal traffic: nothing at warning or above" quiet normal
check "normal traffic: health checks said to be normal (info no-data)" \
	sh -c "grep -qx 'info no-data' <<EOF
$(findings normal)
EOF"
t_web() {
	local out
	out=$(findings web) && [ -z "$out" ] || { echo "$out"; return 1; }
}
check "no-data: web sessions alone, without health checks: no finding at all" t_web
check "refused: 20 refusals of :1194 come first, critical" fires refused "critical refused"
check "refused: 2 refusals raise nothing" quiet refused-quiet
t_refused_path() {
	fires refused-path "critical refused" &&
	"$CT" diagnose "$d/refused-path.pcap" 2>/dev/null | head -1 | grep -q \
		"connections to 10.2.0.10:8443 are refused: 10 of 10 .* the RSTs came at TTL 250, the host's SYN-ACKs at 57: not its stack but a device on the path"
}
check "refused by a device on the path: RSTs at TTL 250 where the host's SYN-ACKs come at 57" \
	t_refused_path
t_refused_host() {
	gen refused-path-quiet &&
	"$CT" diagnose "$d/refused-path-quiet.pcap" 2>/dev/null | head -1 | grep -qx \
		"critical refused: 10.2.0.10:8443 refuses connections: 10 of 10 attempts refused (REJ), from 10 clients (zones 10.1.9.0/24 10)"
}
check "refused at the host's own TTL: the host refuses, no device named" t_refused_host
check "middlebox-reset: RSTs in the server's name at TTL 61, its SYN-ACKs at 57" fires \
	path-reset "warning middlebox-reset"
check "middlebox-reset: ... and not said to be the server's resets" lacks path-reset resets-sessions
check "middlebox-reset: the same RSTs at the server's TTL are its own (resets-sessions)" \
	fires path-reset-quiet "warning resets-sessions"
check "middlebox-reset: ... and no device named" lacks path-reset-quiet middlebox-reset
check "unanswered: 8 SYNs sent 3 times, never answered" fires unanswered "warning unanswered"
check "unanswered: a lost SYN, answered on retransmission, raises nothing" quiet unanswered-quiet
check "resets-sessions: every session ended by the server's RST" fires resets \
	"warning resets-sessions"
check "resets-sessions: 2 of 20 sessions reset raise nothing" quiet resets-quiet
check "user-interrupt: client FIN then RST during a download is info, and only that" \
	sh -c "[ \"\$(grep -v 'no-data' <<EOF
$(findings interrupt)
EOF
)\" = 'info user-interrupt' ]"
check "user-interrupt: completed downloads say nothing of it" lacks interrupt-quiet user-interrupt
check "reset-storm: a crash (30 open connections reset within 40 ms) comes first, critical" \
	fires storm "critical reset-storm"
check "reset-storm: the refusals that followed name the storm" sh -c \
	"gen() { :; }; '$CT' diagnose '$d/storm.pcap' 2>/dev/null |
	 grep -q '^warning  refused: 10.2.0.6:6379 refuses connections: 10 of 50 .*refused since it ended its connections at 2023-11-14T22:14:20Z: down, or restarting'"
check "reset-storm: an application resetting 20 sessions a second is no storm" \
	lacks storm-quiet reset-storm
check "reset-storm: ... but is said to reset every session" fires storm-quiet \
	"warning resets-sessions"
check "reset-storm: 30 clients served at once, each reset 5 ms after its reply, is no storm" \
	lacks storm-young reset-storm
check "reset-storm: ... but resets every session" fires storm-young "warning resets-sessions"
check "mass-close: 30 open connections closed by the server at once (info: graceful)" \
	sh -c "grep -qx 'info mass-close' <<EOF
$(findings mass-close)
EOF"
check "mass-close: ... its refusals after come first" fires mass-close "warning refused"
check "mass-close: a server closing 50 short sessions a second raises nothing" \
	quiet mass-close-quiet
check "mass-close: ... and is no mass close" lacks mass-close-quiet mass-close
check "orphan-rst: 10 RSTs for no connection" fires orphan "warning orphan-rst"
check "orphan-rst: 1 raises nothing" quiet orphan-quiet
check "scan: one client refused by 20 ports comes first" fires scan "warning scan"
check "scan: refused by 3 ports raises nothing" quiet scan-quiet
check "scan: one client's SYNs to 30 hosts unanswered (a sweep)" fires sweep "warning scan"
check "scan: to 5 hosts raises nothing" quiet sweep-quiet
check "spike: 40 refusals in 10 s against one every 30 s" sh -c \
	"grep -qx 'warning spike' <<EOF
$(findings spike)
EOF"
check "spike: ranked after the cause (refused first)" fires spike "critical refused"
check "spike: the same refusals spread evenly make none" lacks spike-quiet spike

# --fail-on: 3 when a finding that severe was found, else 0
t_fail_on() {
	local r
	"$CT" diagnose --fail-on warning "$d/storm.pcap" >/dev/null 2>&1
	r=$?
	[ $r = 3 ] || { echo "storm, --fail-on warning: $r"; return 1; }
	"$CT" diagnose --fail-on warning "$d/normal.pcap" >/dev/null 2>&1 ||
		{ echo "normal, --fail-on warning: $?"; return 1; }
	"$CT" diagnose --fail-on critical "$d/resets.pcap" >/dev/null 2>&1 ||
		{ echo "resets, --fail-on critical: $?"; return 1; }
	"$CT" diagnose --fail-on info "$d/normal.pcap" >/dev/null 2>&1
	r=$?
	[ $r = 3 ] || { echo "normal, --fail-on info: $r"; return 1; }
}
check "--fail-on: 3 at or above the severity, else 0" t_fail_on

# each threshold option moves its rule
check "--min-closes 25: the 20 refusals are not enough" lacks refused refused --min-closes 25
check "--refused-share 100: 10 of 50 refused ... stays a warning" sh -c \
	"grep -qx 'warning refused' <<EOF
$(findings storm --refused-share 100)
EOF"
check "--refused-share 20: ... is critical" sh -c "grep -qx 'critical refused' <<EOF
$(findings storm --refused-share 20)
EOF"
check "--reset-share 5 (--min-closes 2): 2 of 20 reset is every session enough" fires \
	resets-quiet "warning resets-sessions" --reset-share 5 --min-closes 2
check "--storm-conns 31: 30 together is no storm" lacks storm reset-storm --storm-conns 31
check "--storm-window 0.01: 40 ms is too long" lacks storm reset-storm --storm-window 0.01
check "--scan-ports 21: 20 ports is no scan" lacks scan scan --scan-ports 21
check "--scan-ports 3: 3 ports is" fires scan-quiet "warning scan" --scan-ports 3
check "--scan-window 1: 20 ports in 2 s is no scan" lacks scan scan --scan-window 1
check "--scan-hosts 31: 30 hosts is no sweep" lacks sweep scan --scan-hosts 31
check "--scan-hosts 5: 5 hosts is" fires sweep-quiet "warning scan" --scan-hosts 5
check "--spike-min 50: 40 refusals make no spike" lacks spike spike --spike-min 50
check "--spike-factor 200: 41 against 0.3 is 123 times, no spike" lacks spike spike \
	--spike-factor 200
check "--spike-window 5: 20 refusals in 5 s against the intervals before" sh -c \
	"grep -qx 'warning spike' <<EOF
$(findings spike --spike-window 5)
EOF"
check "--spike-window 60: 4 minutes are less than the 6 intervals of history a baseline needs" \
	lacks spike spike --spike-window 60
t_bad() {
	local e
	e=$("$CT" diagnose --refused-share 0 "$d/normal.pcap" 2>&1 >/dev/null)
	grep -q -- '--refused-share' <<<"$e" || { echo "$e"; return 1; }
	e=$("$CT" diagnose --scan-ports 40 "$d/normal.pcap" 2>&1 >/dev/null)
	grep -q -- '--scan-ports' <<<"$e" || { echo "$e"; return 1; }
}
check "a threshold out of range is refused, naming the option" t_bad

# the JSON of a storm: its evidence, one object per finding
t_json() {
	"$CT" diagnose -o json "$d/storm.pcap" 2>/dev/null | head -1 |
		jq -e '.rule == "reset-storm" and .evidence.server == "10.2.0.6:6379" and
		       .evidence.ended_together == 30 and .evidence.by_rst == 30 and
		       .evidence.clients == 10 and .evidence.at == "2023-11-14T22:14:20Z"' >/dev/null
}
check "reset-storm in JSON: server, ended together, by RST, clients, when" t_json

# the kernel's classification (BPF engine) gives the same findings
if [ "$(id -u)" = 0 ]; then
	t_engine() {
		local s
		for s in refused unanswered resets storm mass-close orphan scan sweep spike normal \
			refused-path path-reset; do
			diff <("$CT" diagnose -o json "$d/$s.pcap" 2>/dev/null) \
				<("$CT" diagnose --engine bpf -o json "$d/$s.pcap" 2>/dev/null) ||
				{ echo "engines differ on $s"; return 1; }
		done
	}
	check "--engine bpf: the same findings on every scenario" t_engine
elif [ "${CLOSETRACE_REQUIRE_PRIV:-0}" = 1 ]; then
	check "--engine bpf needs root (CLOSETRACE_REQUIRE_PRIV=1)" false
else
	echo "ok $((T_N += 1)) - --engine bpf: the same findings # SKIP needs root"
fi

done_testing
