# guest.sh - a throw-away QEMU guest on Debian's own cloud kernel, for what this machine's
# kernel refuses (map iterators on some 6.18 builds): software emulation (a KVM inside a VM
# may not boot a guest at all, seen here), an initramfs made of busybox and the given
# programs with their libraries, output on the serial console, powered off at the end.
# Sourced by tests/vm/test_iter_kernel.sh and tests/bench/run.sh.
# shellcheck shell=bash

# guest_kernel DIR: fetch Debian's current cloud kernel (what linux-image-cloud-amd64 points
# to) into DIR once; GUEST_KERNEL is its vmlinuz, GUEST_PKG its package file
guest_kernel() {
	local dir=$1 pkg
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || { echo "apt does not know linux-image-cloud-amd64 (apt-get update?)"; return 1; }
	mkdir -p "$dir" || return 1
	GUEST_PKG=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | head -1)
	if [ -z "$GUEST_PKG" ]; then
		(cd "$dir" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ echo "cannot download $pkg"; return 1; }
		GUEST_PKG=$(ls "$dir/${pkg}"_*.deb | head -1)
	fi
	rm -rf "$dir/k" && dpkg-deb -x "$GUEST_PKG" "$dir/k" || return 1
	GUEST_KERNEL=$(ls "$dir"/k/boot/vmlinuz-* | head -1)
	[ -s "$GUEST_KERNEL" ]
}

# guest_initrd OUT INIT PROG...: an initramfs in OUT whose /init is the shell script INIT
# (busybox's sh, /proc, /sys and /tmp mounted before it runs), with each PROG in /t and the
# libraries they link
guest_initrd() {
	local out=$1 init=$2 r lib p
	shift 2
	r=$(mktemp -d "${TMPDIR:-/tmp}/closetrace-guest.XXXXXX") || return 1
	mkdir -p "$r"/{bin,proc,sys,tmp,t} && cp "$(command -v busybox)" "$r/bin/busybox" &&
		ln -s busybox "$r/bin/sh" || { rm -rf "$r"; return 1; }
	for p in "$@"; do
		cp "$p" "$r/t/" || { rm -rf "$r"; return 1; }
		for lib in $(ldd "$p" | awk '/=>/ {print $3} /^\t\/.*ld-linux/ {print $1}'); do
			mkdir -p "$r$(dirname "$lib")" && cp -L "$lib" "$r$lib" ||
				{ rm -rf "$r"; return 1; }
		done
	done
	{
		echo '#!/bin/sh'
		echo '/bin/busybox mount -t proc proc /proc'
		echo '/bin/busybox mount -t sysfs sys /sys'
		echo '/bin/busybox mount -t tmpfs tmp /tmp'
		echo 'echo; echo "GUEST kernel $(/bin/busybox uname -r)"'
		echo 'cd /t'
		cat "$init"
		echo '/bin/busybox poweroff -f'
	} >"$r/init"
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
	rm -rf "$r"
}

# guest_run INITRD LOG [SECONDS]: boot GUEST_KERNEL with INITRD (2 CPUs, 3 GiB), its
# console in LOG (carriage returns removed), within SECONDS (default 900)
guest_run() {
	timeout "${3:-900}" qemu-system-x86_64 -accel tcg -cpu max -m 3072 -smp 2 -nographic \
		-no-reboot -kernel "$GUEST_KERNEL" -initrd "$1" \
		-append "console=ttyS0 quiet panic=-1" </dev/null 2>&1 | tr -d '\r' >"$2"
}
