#!/usr/bin/env bash
# demo.sh - closetrace on real TCP traffic without picking an interface: two network
# namespaces joined by a veth pair (addresses that exist only there), closetrace watching
# the server's end in tc mode, and connections made to end in each way. Everything is
# removed at the end, or on Ctrl-C. Run as root: `make demo`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$here/..
. "$top/tests/e2e/netns.sh"
CT=$top/build/closetrace
DRIVE=$top/build/tests/tcpdrive
out=$(mktemp -d "${TMPDIR:-/tmp}/closetrace-demo.XXXXXX")
WATCH=
cleanup() {
	[ -n "$WATCH" ] && kill -INT "$WATCH" 2>/dev/null && wait "$WATCH" 2>/dev/null
	ns_teardown
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, BPF)" >&2; exit 1; }
ns_setup || { echo "demo: cannot create the namespaces" >&2; exit 1; }
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$out/server"
wait_for "$out/server" ready 5 || exit 1

echo "closetrace demo: client $C4 and $C6 in namespace $NS_C,"
echo "                 server $S4 and $S6 in namespace $NS_S"
echo "watching the server's interface s0 (tc, both directions); --all shows graceful closes too"
echo
# a bare ip netns exec: reset reasons come from the kernel's BTF, no tracefs needed
(exec ip netns exec "$NS_S" "$CT" -v watch -i s0 --all --syn-timeout 2 --idle-timeout 3) \
	2>"$out/err" &
WATCH=$!
wait_for "$out/err" watching 10 || { cat "$out/err" >&2; exit 1; }

say() { printf '  -> %-13s %s\n' "$1" "$2" >&2; }
port=50000
for fam in 4 6; do
	[ $fam = 4 ] && srv=$S4 silent=$X4 || { srv=$S6 silent=$X6; }
	echo "IPv$fam:" >&2
	for k in graceful refused reset-client reset-server fin-reset unanswered half-closed \
		orphan-rst syn-reset; do
		case $k in
		graceful) what="request, answer, FIN both ways" ;;
		refused) what="SYN to a port with no listener" ;;
		reset-client) what="the client aborts (SO_LINGER 0)" ;;
		reset-server) what="the server aborts after the request" ;;
		fin-reset) what="the client closes; data still arrives; its stack resets" ;;
		unanswered) what="SYN to an address nobody owns (decided after 2 s)" ;;
		half-closed) what="the client shuts down its side; the server never does (3 s)" ;;
		orphan-rst) what="a RST for a connection that never existed (raw socket)" ;;
		syn-reset) what="SYN then RST, no answer (raw socket)" ;;
		esac
		say "$k" "$what"
		ip netns exec "$NS_C" "$DRIVE" client "$k" "$srv" $port "$silent"
		port=$((port + 1))
		sleep 0.2
	done
done
echo >&2
echo "waiting for the closes only time can tell (unanswered, half-closed)..." >&2
sleep 5
kill -INT "$WATCH"
wait "$WATCH"
WATCH=
echo
echo "done: closetrace detached, namespaces removed." >&2
