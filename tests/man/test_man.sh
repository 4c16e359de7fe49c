#!/usr/bin/env bash
# test_man.sh - the man pages as built from man/*.scd.in and the binary's help: each lints
# clean (groff -ww, as lintian and man --warnings read it; mandoc for errors), renders to
# text, and names every option its command's --help lists, so a page cannot lose one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
CT=${CLOSETRACE:-$build/closetrace}
d=$T_DIR

for tool in scdoc groff mandoc man; do
	if ! command -v "$tool" >/dev/null; then
		if [ "${CLOSETRACE_REQUIRE_PRIV:-0}" = 1 ]; then
			echo "not ok 1 - $tool is not installed (make deps)"
			echo "1..1"
			exit 1
		fi
		echo "ok 1 - all skipped # SKIP $tool is not installed (make deps)"
		echo "1..1"
		exit 0
	fi
done

pages="closetrace.8 closetrace-watch.8 closetrace-top.8 closetrace-replay.8
       closetrace-cleanup.8 closetrace-check.8 closetrace-filter.7"

# plain make builds the pages with the binary: what it would do in a fresh build folder
t_make_builds_pages() {
	local plan p
	plan=$(make -n -C "$root" BUILD="$T_DIR/fresh" 2>&1) || { echo "$plan" | tail -3; return 1; }
	for p in $pages; do
		grep -q "scdoc < $T_DIR/fresh/man/$p.scd > $T_DIR/fresh/man/$p" <<<"$plan" ||
			{ echo "make would not build $p"; return 1; }
	done
}
check "make (all) builds every page with the binary" t_make_builds_pages
check "make man builds every page" make -s -C "$root" BUILD="$build" man

t_lint() {
	local p bad=0
	for p in $pages; do
		[ -s "$build/man/$p" ] || { echo "$p: missing"; bad=1; continue; }
		# groff: every warning (-ww) is printed; tbl/preconv as man would
		LC_ALL=C.UTF-8 groff -ww -z -k -t -man "$build/man/$p" 2>&1 | sed "s|^|$p: |" |
			grep . && bad=1
		mandoc -T lint -W error "$build/man/$p" 2>&1 | grep . && bad=1
	done
	return $bad
}
check "every page lints clean: groff -ww -z, mandoc -T lint -W error" t_lint

t_lintian_style() {
	local p bad=0
	# what lintian's manpage check runs
	for p in $pages; do
		LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z \
			"$build/man/$p" 2>&1 >/dev/null | sed "s|^|$p: |" | grep . && bad=1
	done
	return $bad
}
check "man --warnings (lintian's check) says nothing" t_lintian_style

t_render() {
	local p n
	for p in $pages; do
		MANWIDTH=80 man -l "$build/man/$p" 2>/dev/null | col -b >"$d/$p.txt"
		n=$(wc -l <"$d/$p.txt")
		[ "$n" -ge 20 ] || { echo "$p: $n lines rendered"; return 1; }
		for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			[ "$p" = closetrace-filter.7 ] && [ "$s" = "EXIT STATUS" ] && continue
			grep -q "^$s" "$d/$p.txt" || { echo "$p: no $s section"; return 1; }
		done
	done
}
check "every page renders with man -l, with its sections" t_render

# every option of a help: in its page ("-" is closetrace itself, closetrace(8))
t_options() {
	local c p opt n=0
	for c in - watch top replay diagnose report cleanup check; do
		if [ "$c" = - ]; then p=closetrace.8; "$CT" --help; else
			p=closetrace-$c.8; "$CT" "$c" --help; fi >"$d/help.$c"
		[ -s "$d/$p.txt" ] || MANWIDTH=200 man -l "$build/man/$p" | col -b >"$d/$p.txt"
		while read -r opt; do
			grep -q -- "$opt" "$d/$p.txt" || { echo "$p lacks $opt"; return 1; }
			n=$((n + 1))
		done < <(sed -n 's/^  \(-[a-zA-Z], \|    \)\(--[a-z0-9-]*\).*/\2/p;
				 s/^  \(-[a-zA-Z]\), .*/\1/p' "$d/help.$c")
	done
	echo "# $n options found in their pages" >&3
	[ "$n" -ge 50 ]
}
check "every option of 'closetrace CMD --help' is in that command's page" t_options

t_fields() {
	local f n=0
	while read -r f; do
		grep -q "^ *$f (" "$d/closetrace-filter.7.txt" || { echo "no $f"; return 1; }
		n=$((n + 1))
	done < <("$CT" help filter | awk '/^Fields:/ {f = 1; next} f && /^$/ {exit}
					    f && /^  [a-z]/ {print $1}')
	echo "# $n fields in closetrace-filter(7)" >&3
	[ "$n" -ge 20 ]
}
check "closetrace-filter(7) lists every field of 'closetrace help filter'" t_fields

# the reasons' legend: each name 'closetrace help reasons' gives (and the filter takes) is
# in closetrace-watch(8)'s RESET REASONS
t_reasons() {
	local r n=0
	awk '/^RESET REASONS/ {f = 1; next} f && /^[A-Z]/ {exit} f' "$d/closetrace-watch.8.txt" \
		>"$d/reasons.txt"
	while read -r r; do
		grep -qE "(^|[ ,])$r([ ,]|\$)" "$d/reasons.txt" || { echo "no $r"; return 1; }
		# rst-received is the text's word for rst_accepted, not a reason to select on
		[ "$r" = rst-received ] ||
			! "$CT" replay -f "rst.reason = $r" /dev/null 2>&1 | grep -q 'unknown reset reason' ||
			{ echo "the filter refuses $r"; return 1; }
		n=$((n + 1))
	done < <("$CT" help reasons | awk '/^Examples:/ {exit} /^  [a-z-]/ {print $1}')
	echo "# $n reasons in closetrace-watch(8), each taken by -f" >&3
	[ "$n" -ge 25 ]
}
check "closetrace-watch(8) explains every reason of 'closetrace help reasons'" t_reasons

t_version() {
	local v
	v=$("$CT" version | sed 's/^closetrace //')
	grep -q "closetrace $v" "$d/closetrace.8.txt"
}
check "the pages carry the binary's version" t_version

# One minimum kernel, said once and true: the binary's (check --help), README's
# Requirements and closetrace(8)'s, and no other "Linux X.Y or later" that is not a
# feature's own version.
t_min_kernel() {
	local min readme man others
	min=$("$CT" check --help | grep -o 'Needs Linux [0-9.]* or later' | awk '{print $3}')
	readme=$(grep -o '^- Linux [0-9.]* or later' "$root/README.md" | awk '{print $3}')
	man=$(sed -n '/^REQUIREMENTS/,/^[A-Z]/p' "$d/closetrace.8.txt" | tr -s ' \n' ' ' |
		grep -o 'Linux [0-9.]* or later' | head -1 | awk '{print $2}')
	# any other stated minimum (">= 5.x", "needs 5.x") in the docs and the sources
	others=$(grep -rnE '(>= ?|needs (Linux )?)[0-9]\.[0-9]+' "$root/README.md" "$root/man" \
		"$root/user" | grep -v "$min" | grep -vi 'libbpf\|tcx\|6\.[0-9]' || true)
	echo "# minimum kernel: binary $min, README $readme, closetrace(8) $man" >&3
	[ -n "$min" ] && [ "$readme" = "$min" ] && [ "$man" = "$min" ] && [ -z "$others" ] ||
		{ echo "others: $others"; return 1; }
}
check "one minimum kernel version in the binary, README and closetrace(8)" t_min_kernel

done_testing
