#!/usr/bin/env bash
# test_iter_kernel.sh - the expiry scans' kernel path on every machine, even one whose kernel
# refuses map iterators: test_bpf's scan tests run in a QEMU guest (guest.sh: software
# emulation, no KVM needed) booted on Debian's own cloud kernel, which loads them. Where this
# machine's kernel loads map iterators, the same path also runs natively (test_bpf,
# test_watch, test_service); here it runs regardless, so that it cannot rot. Nothing of the
# guest stays but the kernel package, kept in build/vm between runs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
. "$top/tests/cli/lib.sh"
. "$here/guest.sh"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
VM=$BUILD/vm
TEST_BPF=$BUILD/tests/test_bpf
d=$T_DIR

for tool in qemu-system-x86_64 busybox cpio apt-get dpkg-deb; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
[ -x "$TEST_BPF" ] || { echo "not ok 1 - $TEST_BPF is missing (make $BUILD/tests/test_bpf)"; exit 1; }
[ "$(dpkg --print-architecture)" = amd64 ] ||
	{ echo "not ok 1 - the guest is an amd64 Debian kernel; this machine is $(dpkg --print-architecture)"; exit 1; }

t_kernel() {
	guest_kernel "$VM" || return 1
	echo "# guest kernel: $(basename "$GUEST_PKG")" >&3
}
check "Debian's cloud kernel is at hand for the guest" t_kernel

# the guest runs the scan tests of test_bpf, by name, and powers off
cat >"$d/init" <<'EOF'
for f in '*probe agrees*' '*the kernel*s cut*' 'scan drains 1M expiring'; do
	echo "GUEST run $f"
	CLOSETRACE_REQUIRE_PRIV=1 CT_TEST_FILTER="$f" ./test_bpf 2>&1
	echo "GUEST rc $?"
done
EOF
check "an initramfs with test_bpf and its libraries" guest_initrd "$d/initrd.gz" "$d/init" "$TEST_BPF"

t_boot() {
	guest_run "$d/initrd.gz" "$d/guest.log"
	grep -a '^GUEST' "$d/guest.log" | sed 's/^/# /' >&3
	[ "$(grep -ac '^GUEST rc ' "$d/guest.log")" = 3 ] ||
		{ tail -20 "$d/guest.log"; return 1; }
}
check "the guest boots and runs the scan tests (QEMU, software emulation)" t_boot

# run N: the output of the Nth filtered run of test_bpf in the guest
run() { awk -v n="$1" '/^GUEST run / {k++} k == n' "$d/guest.log"; }
passed() {
	local out
	out=$(run "$1")
	grep -q "^GUEST rc 0$" <<<"$out" && grep -q '^\[  PASSED  \]' <<<"$out" &&
		! grep -q '^\[  FAILED  \]' <<<"$out" || { echo "$out" | tail -20; return 1; }
}
t_probe() {
	passed 1 && run 1 | grep -q "a bare map iterator: loaded; closetrace's probe: loaded"
}
check "in the guest a bare map iterator loads, and closetrace's probe says so" t_probe
t_cut() {
	passed 2 || return 1
	# the slices and each clock of the comparison went through the cut
	[ "$(run 2 | grep -c "^path: the kernel's cut (a map iterator)")" -ge 3 ]
}
check "the scan by slices and the cut's decisions, through the kernel's cut, pass" t_cut
t_drain() {
	passed 3 && run 3 | grep -q "^path: the kernel's cut (a map iterator)"
}
check "1M flows expire through the kernel's cut while events come, none lost" t_drain

done_testing
