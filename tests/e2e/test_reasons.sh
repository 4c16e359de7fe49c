#!/usr/bin/env bash
# test_reasons.sh - why this host sent a RST, end to end, in namespaces the test makes
# (netns.sh): the server's sockets are made to reset for each reason real sockets can
# provoke (a port with no listener, close with unread data, SO_LINGER 0, FIN_WAIT2 with
# linger2 < 0, data after close, data for a timewait socket, a keepalive that times out
# against a client whose answers are dropped), and watch on the server's interface must
# report the kernel's reason and socket state on each close event. The reasons come from
# BTF, without tracefs: the watch runs under a bare ip netns exec (a fresh /sys, no
# tracefs), and once more in a mount namespace of its own with tracefs and debugfs
# unmounted. Also: the reason in text output, in a filter and in top; and a watch on a
# kernel without BTF (hidden in a mount namespace) says so once under -v and reports "-",
# nothing else changing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
trap 'ns_teardown; rm -rf "$T_DIR"' EXIT
CT=${CLOSETRACE:-$here/../../build/closetrace}
DRIVE=$here/../../build/tests/tcpdrive
need_root
d=$T_DIR

for tool in jq nft unshare; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
# the reasons below are those of a kernel whose tcp_send_reset passes one (6.10+): said
# here, from the kernel's BTF, apart from closetrace; an older kernel fails this first
t_reason_arg() {
	bpftool btf dump file /sys/kernel/btf/vmlinux format raw | grep -q "ENUM 'sk_rst_reason'" ||
		{ echo "this kernel has no enum sk_rst_reason (before 6.10): no reasons to test"; return 1; }
}
check "this kernel names its reset reasons (BTF enum sk_rst_reason, 6.10+)" t_reason_arg
check "namespaces and veth pairs are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5
# the client stops answering the keepalive connection (port 8008) after its handshake
check "the client drops the keepalive server's packets after the handshake" \
	ip netns exec "$NS_C" nft -f - <<'EOF'
table inet ctkeep {
	chain in {
		type filter hook input priority 0;
		tcp sport 8008 tcp flags & syn == 0 drop
	}
}
EOF

check "no tracefs under ip netns exec: the reasons must come from elsewhere" \
	ip netns exec "$NS_S" sh -c '! grep -q " tracefs " /proc/self/mounts &&
		[ ! -e /sys/kernel/tracing/events/tcp ]'

# start_watch NAME ARGS...: closetrace watch on s0 under a bare ip netns exec;
# $d/NAME.out, .err; stop_watch NAME leaves its exit status in $d/NAME.rc
WPID=
start_watch() {
	local name=$1
	shift
	(exec ip netns exec "$NS_S" "$CT" -v watch -i s0 "$@") >"$d/$name.out" 2>"$d/$name.err" &
	WPID=$!
	wait_for "$d/$name.err" watching 10 && note_progs $WPID
}
stop_watch() {
	sleep 0.5
	kill -INT $WPID
	wait $WPID
	echo $? >"$d/$1.rc"
}

PORT=47000
# kind, server port, close, rst_by, rst_reason, rst_state, the kernel's name for the reason
CASES=(
	"refused 8009 refused srv no-socket - NO_SOCKET"
	"unread-close 8005 reset-server srv closed-unread close TCP_ABORT_ON_CLOSE"
	"reset-server 8002 reset-server srv app-abort close TCP_STATE"
	"linger2 8006 fin-reset srv linger2-abort close TCP_ABORT_ON_LINGER"
	"data-after-close 8010 fin-reset srv data-after-close close TCP_ABORT_ON_DATA"
	"timewait 8007 fin-reset srv time-wait time-wait TCP_TIMEWAIT_SOCKET"
	"keepalive 8008 reset-server srv keepalive-timeout established TCP_KEEPALIVE_TIMEOUT"
)
check "watch starts with the reset tracepoint" start_watch reasons -o json
for c in "${CASES[@]}"; do
	set -- $c
	for srv in "$S4" "$S6"; do
		ip netns exec "$NS_C" "$DRIVE" client "$1" "$srv" $PORT || echo "# $1 failed" >&3
		PORT=$((PORT + 1))
	done
done
stop_watch reasons
check "watch exits 0" test "$(cat "$d/reasons.rc")" = 0
check "-v says nothing about missing reasons when the tracepoint is there" \
	bash -c "! grep -q 'reasons show as -' $d/reasons.err"
port=47000
for c in "${CASES[@]}"; do
	set -- $c
	for fam in 4 6; do
		t_case() {
			local got
			got=$(jq -r "select(.clt_port == $port) |
				\"\(.srv_port) \(.close) \(.rst_by) \(.rst_reason) \(.rst_state) \(.rst_reason_kernel)\"" \
				"$d/reasons.out")
			[ "$got" = "$2 $3 $4 $5 $6 SK_RST_REASON_$7" ] ||
				{ echo "got '$got', want '$2 $3 $4 $5 $6 SK_RST_REASON_$7'"; return 1; }
		}
		check "$1 over IPv$fam: $3, reason $5 (the kernel's $7), socket state $6" t_case "$@"
		port=$((port + 1))
	done
done
{
	echo "# the events (client port, close, rst_reason, rst_state):"
	jq -r '"#   \(.clt_port) \(.close) \(.rst_reason) \(.rst_state)"' "$d/reasons.out"
} >&3

# a RST that comes in and that the server's socket takes (the client aborts)
check "watch starts again" start_watch accepted -o json
ip netns exec "$NS_C" "$DRIVE" client reset-client "$S4" $PORT
ip netns exec "$NS_C" "$DRIVE" client reset-client "$S6" $((PORT + 1))
stop_watch accepted
t_accepted() {
	local p got
	for p in $PORT $((PORT + 1)); do
		got=$(jq -r "select(.clt_port == $p) | \"\(.close) \(.rst_by) \(.rst_accepted)\"" \
			"$d/accepted.out")
		[ "$got" = "reset-client clt true" ] || { echo "port $p: got '$got'"; return 1; }
	done
}
check "a RST the server's socket accepted: rst_accepted, one event each, v4 and v6" t_accepted
PORT=$((PORT + 2))

# text output and the filter: only the closed-unread reset, its reason in the line (with
# the state under -w); the filter also takes the kernel's name
check "text watch with -f 'rst.reason = closed-unread' starts" \
	start_watch text -f 'rst.reason = closed-unread'
ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $PORT
ip netns exec "$NS_C" "$DRIVE" client unread-close "$S4" $((PORT + 1))
stop_watch text
t_text() {
	sed -n 1p "$d/text.out" | grep -q ' REASON  *CLIENT  *SERVER$' &&
	[ "$(wc -l <"$d/text.out")" = 2 ] &&
	sed -n 2p "$d/text.out" | grep -Eq "^[0-9:]{8} s0 +reset-server +srv .* closed-unread +192\.0\.2\.1:$((PORT + 1)) +192\.0\.2\.2:8005\$"
}
check "text: one line, the reason in the REASON column" t_text
PORT=$((PORT + 2))
check "text watch -w with the kernel's name in -f starts" \
	start_watch textw -w -f 'rst.reason = TCP_ABORT_ON_CLOSE'
ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $PORT
ip netns exec "$NS_C" "$DRIVE" client unread-close "$S4" $((PORT + 1))
stop_watch textw
t_textw() {
	[ "$(wc -l <"$d/textw.out")" = 2 ] &&
	# APP last: under ip netns exec no cgroup2 mount is seen, so the process alone
	sed -n 2p "$d/textw.out" | grep -Eq "^[-0-9T:.]+Z s0 +reset-server +RSTR +srv .* closed-unread/close +192\.0\.2\.1:$((PORT + 1)) +192\.0\.2\.2:8005 +tcpdrive\[[0-9]+\]\$"
}
check "text -w: the reason and the socket's state; the kernel's name selects it" t_textw
PORT=$((PORT + 2))

# top shows the reason with the last abnormal close
t_top() {
	(exec ip netns exec "$NS_S" "$CT" -v top -i s0 -b -n 2 -d 1) >"$d/top.out" 2>"$d/top.err" &
	local tp=$!
	# the refusal once the programs are attached (-v says so)
	wait_for "$d/top.err" watching 10 || return 1
	ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $PORT
	wait $tp || return 1
	grep -Eq '^192\.0\.2\.2:8009 .*  refused/no-socket [0-9]+s ago$' "$d/top.out"
}
check "top: the last abnormal close with its reason (refused/no-socket)" t_top
PORT=$((PORT + 1))

# a mount namespace of the watch's own where tracefs and debugfs are surely absent
# (unmounted if ip netns exec's fresh /sys had them): the reasons are the same
NOTRACE='umount -l /sys/kernel/tracing /sys/kernel/debug/tracing /sys/kernel/debug 2>/dev/null
	if grep -qE " (tracefs|debugfs) " /proc/self/mounts; then
		echo "tracefs or debugfs still mounted" >&2; exit 99; fi
	exec "$@"'
t_notrace() {
	(exec ip netns exec "$NS_S" unshare -m --propagation private sh -c "$NOTRACE" sh \
		"$CT" -v watch -i s0 -o json) >"$d/notrace.out" 2>"$d/notrace.err" &
	WPID=$!
	wait_for "$d/notrace.err" watching 10 || { cat "$d/notrace.err"; return 1; }
	note_progs $WPID
	ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $PORT
	ip netns exec "$NS_C" "$DRIVE" client unread-close "$S6" $((PORT + 1))
	ip netns exec "$NS_C" "$DRIVE" client timewait "$S4" $((PORT + 2))
	stop_watch notrace
	[ "$(cat "$d/notrace.rc")" = 0 ] || return 1
	local want=("refused no-socket -" "reset-server closed-unread close"
		    "fin-reset time-wait time-wait") got
	for i in 0 1 2; do
		got=$(jq -r "select(.clt_port == $((PORT + i))) |
			\"\(.close) \(.rst_reason) \(.rst_state)\"" "$d/notrace.out")
		[ "$got" = "${want[$i]}" ] || { echo "port $((PORT + i)): got '$got'"; return 1; }
	done
}
check "no tracefs nor debugfs in the watch's mount namespace: the same reasons" t_notrace
PORT=$((PORT + 3))

# without kernel BTF (hidden in a mount namespace of the watch's own, with the files
# libbpf would fall back to): said once under -v, the reason is "-", the closes as before
NOBTF='mount -t tmpfs none /sys/kernel/btf || exit 99
	r=$(uname -r)
	for f in /boot/vmlinux-$r /lib/modules/$r/vmlinux-$r /lib/modules/$r/build/vmlinux \
		/usr/lib/modules/$r/kernel/vmlinux /usr/lib/debug/boot/vmlinux-$r \
		/usr/lib/debug/boot/vmlinux-$r.debug /usr/lib/debug/lib/modules/$r/vmlinux; do
		[ ! -e "$f" ] || mount --bind /dev/null "$f" || exit 99
	done
	exec "$@"'
t_nobtf() {
	(exec ip netns exec "$NS_S" unshare -m --propagation private sh -c "$NOBTF" sh \
		"$CT" -v watch -i s0 -o json) >"$d/nobtf.out" 2>"$d/nobtf.err" &
	WPID=$!
	wait_for "$d/nobtf.err" watching 10 || { cat "$d/nobtf.err"; return 1; }
	note_progs $WPID
	ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $PORT
	ip netns exec "$NS_C" "$DRIVE" client unread-close "$S4" $((PORT + 1))
	stop_watch nobtf
	[ "$(cat "$d/nobtf.rc")" = 0 ] &&
	[ "$(grep -c 'reset reasons show as -' "$d/nobtf.err")" = 1 ] &&
	grep -q 'no BTF' "$d/nobtf.err" &&
	[ "$(jq -r "select(.clt_port == $PORT) | \"\(.close) \(.rst_reason) \(.rst_state)\"" \
		"$d/nobtf.out")" = "refused - -" ] &&
	[ "$(jq -r "select(.clt_port == $((PORT + 1))) | \"\(.close) \(.rst_by)\"" \
		"$d/nobtf.out")" = "reset-server srv" ]
}
check "no kernel BTF: stated once under -v, reason '-', the closes unchanged" t_nobtf
PORT=$((PORT + 2))
check "nothing left loaded: none of the programs the watches held (packets, tracepoints)" \
	none_loaded
done_testing
