# lib.sh - TAP helpers for the shell tests: ok/not ok lines, skips that CI refuses,
# a temporary directory removed on exit.
# shellcheck shell=bash
T_N=0
T_FAIL=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/closetrace-test.XXXXXX")
exec 3>&1	# diagnostics a test prints as TAP comments, even when it passes
trap 'rm -rf "$T_DIR"' EXIT

# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds
check() {
	local desc=$1
	shift
	T_N=$((T_N + 1))
	if "$@" >"$T_DIR/out.$T_N" 2>&1; then
		echo "ok $T_N - $desc"
	else
		echo "not ok $T_N - $desc"
		sed 's/^/#   /' "$T_DIR/out.$T_N" | head -n 20
		T_FAIL=$((T_FAIL + 1))
	fi
}

# need_root: in CI (CLOSETRACE_REQUIRE_PRIV=1) a missing privilege fails, else skips all
need_root() {
	[ "$(id -u)" = 0 ] && return 0
	if [ "${CLOSETRACE_REQUIRE_PRIV:-0}" = 1 ]; then
		echo "not ok 1 - needs root (CLOSETRACE_REQUIRE_PRIV=1)"
		echo "1..1"
		exit 1
	fi
	echo "ok 1 - all skipped # SKIP needs root"
	echo "1..1"
	exit 0
}

done_testing() {
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ]
}

# --- the expiry scans' two paths (CLOSETRACE_DISABLE=scan-iter forces the second) --------
# scan_path_want [ENV...]: the path a watch run with ENV takes here: "cut" where the kernel
# loads a bare map iterator (build/tests/canload, apart from closetrace's code) and ENV does
# not turn it off, else "lookups"
scan_path_want() {
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	case " $* " in *CLOSETRACE_DISABLE=*scan-iter*) echo lookups; return;; esac
	if "$top/build/tests/canload" "$top/build/bpf/iterprobe.bpf.o" >/dev/null; then
		echo cut
	else
		echo lookups
	fi
}

# scan_path_of ERRFILE: the path a `closetrace -v watch` says its expiry scans took
scan_path_of() {
	if grep -q "expiry scans go through the kernel's cut" "$1"; then
		echo cut
	elif grep -q "expiry scans read the whole flow table" "$1"; then
		echo lookups
	else
		echo none
	fi
}
