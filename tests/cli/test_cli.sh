#!/usr/bin/env bash
# test_cli.sh - the command line as a new user meets it, without privileges: every
# command's --help exits 0 and equals `closetrace help CMD`; every option a help lists is
# one the command's parser takes (with or without a value, as help says); usage errors are
# one line plus a hint, exit 2; names from outside never reach the terminal raw;
# closetrace(8) and --help agree on -v.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
README=${README:-$here/../../README.md}
MAN8=${MAN8:-$here/../../man/closetrace.8.scd.in}
d=$T_DIR

cmds=$("$CT" help | awk '/^Commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {exit}')

t_commands_listed() {
	[ "$(echo $cmds)" = "watch top replay diagnose report cleanup check help version" ]
}
check "closetrace help lists the commands" t_commands_listed

t_help() {
	local c
	for c in $cmds; do
		"$CT" "$c" --help >"$d/h.$c" 2>"$d/e.$c" || { echo "$c --help: exit $?"; return 1; }
		[ ! -s "$d/e.$c" ] || { echo "$c --help wrote to stderr"; return 1; }
		head -1 "$d/h.$c" | grep -q "^Usage: closetrace $c" || { echo "$c: no usage"; return 1; }
		"$CT" help "$c" | cmp -s - "$d/h.$c" || { echo "help $c differs"; return 1; }
		"$CT" "$c" -h | cmp -s - "$d/h.$c" || { echo "$c -h differs"; return 1; }
	done
	for c in watch top replay diagnose report cleanup check; do
		grep -q '^EXAMPLES:' "$d/h.$c" || { echo "$c: no examples"; return 1; }
	done
}
check "every command's --help and -h exit 0, equal to 'closetrace help CMD'" t_help

# Every option in a help is taken by that command's parser: a flag followed by an unknown
# option fails on the unknown one; an option that takes a value, given none, says so.
t_help_options_parse() {
	local c line opt meta n=0 err
	for c in $cmds; do
		while read -r opt meta; do
			if [ -n "$meta" ]; then
				err=$("$CT" "$c" "$opt" 2>&1 >/dev/null)
				[ "$err" = "closetrace $c: $opt needs a value ($meta)
try 'closetrace $c --help'" ] || { echo "$c $opt: $err"; return 1; }
			else
				[ "$opt" = --help ] && continue
				err=$("$CT" "$c" "$opt" --zz-none 2>&1 >/dev/null | head -1)
				[ "$err" = "closetrace $c: unknown option '--zz-none'" ] ||
					{ echo "$c $opt: $err"; return 1; }
			fi
			n=$((n + 1))
		done < <(sed -n 's/^  \(-[a-zA-Z], \|    \)\(--[a-z-]*\)\( [A-Z]*\)\?  .*/\2\3/p' "$d/h.$c")
	done
	echo "# $n options checked against their parsers" >&3
	[ "$n" -ge 40 ]
}
check "every option a --help lists is parsed as it says (value or flag)" t_help_options_parse

# usage CMD ARGS...: exit 2, one line "closetrace CMD: ...", then the hint, nothing else
usage() {
	local c=$1 err
	err=$("$CT" "$@" 2>&1 >/dev/null)
	[ $? = 2 ] || { echo "exit status not 2"; return 1; }
	[ "$(wc -l <<<"$err")" = 2 ] || { echo "$err"; return 1; }
	grep -q "^closetrace $c: " <<<"$err" && [ "$(tail -1 <<<"$err")" = "try 'closetrace $c --help'" ]
}
check "usage: watch without -i" usage watch
check "usage: watch --flows (gone: --table-size)" usage watch -i lo --flows 5000
check "usage: top --flows" usage top -r x.pcap --flows 5000
check "usage: replay --flows (gone: --final)" usage replay --flows x.pcap
check "usage: replay without a file" usage replay
check "usage: top with both -i and -r" usage top -i lo -r x.pcap
check "usage: top -i twice the same" usage top -i lo -i lo
check "usage: cleanup with an argument" usage cleanup eth0
check "usage: cleanup with an unknown option" usage cleanup --all
check "usage: check with an argument" usage check now
check "usage: check with an unknown option" usage check --bogus
check "usage: --table-size too large for the kernel's memory" usage watch -i lo --table-size 67108864
check "usage: --table-size below 1024" usage replay --table-size 100 x.pcap
check "usage: --mode bpf" usage watch -i lo --mode bpf
check "usage: --metrics with a malformed address" usage watch -i lo --metrics 1.2.3:9464
check "usage: --metrics with a port out of range" usage top -i lo --metrics 65536
check "usage: --metrics-ports without --metrics" usage watch -i lo --metrics-ports 22
check "usage: --metrics-ports with a bad port" usage watch -i lo --metrics 9464 --metrics-ports 22,0
check "usage: --metrics on replay" usage replay --metrics 9464 x.pcap
check "usage: an unknown command" bash -c "
	err=\$('$CT' frobnicate 2>&1); [ \$? = 2 ] &&
	[ \"\$err\" = \"closetrace: unknown command 'frobnicate'
try 'closetrace --help'\" ]"

t_table_memory() {
	"$CT" watch -i lo --table-size 67108864 2>&1 | head -1 |
		grep -qx "closetrace watch: --table-size: a table of 67108864 flows would take 24.5 GiB of kernel memory; closetrace takes at most 16777216 flows (6.1 GiB)"
}
check "--table-size: a table too large is refused with the memory it would take" t_table_memory

t_filter_error() {
	local err
	err=$("$CT" replay -f 'port.srv = 70000' x.pcap 2>&1)
	[ $? = 2 ] && [ "$(tail -1 <<<"$err")" = "the fields and operators: 'closetrace help filter'" ] &&
		grep -qx 'closetrace replay: bad filter: port.srv takes 0 to 65535' <<<"$err"
}
check "a bad filter: the caret, then the hint, exit 2" t_filter_error

# `closetrace help filter` lists every field of the parser's table (read from the source,
# so a field added without help, or help for a field the parser lacks, fails), and every
# field it lists is one the parser takes.
t_help_filter() {
	local src f n=0 err
	src=$(ls "$here"/../../user/filter.c "$here"/../../user/*/filter.c 2>/dev/null | head -1)
	"$CT" help filter >"$d/hf" 2>"$d/hf.err" || { echo "help filter: exit $?"; return 1; }
	[ ! -s "$d/hf.err" ] || { echo "help filter wrote to stderr"; return 1; }
	sed -n 's/^\t\[F_[A-Z_]*\] = "\([a-z.]*\)",$/\1/p' "$src" | sort >"$d/hf.table"
	[ "$(wc -l <"$d/hf.table")" -ge 20 ] || { echo "no field table in $src"; return 1; }
	awk '/^Fields:/ {f = 1; next} f && /^$/ {exit} f && /^  [a-z]/ {print $1}' "$d/hf" |
		sort >"$d/hf.listed"
	diff "$d/hf.table" "$d/hf.listed" || { echo "fields: table (<) and help (>) differ"; return 1; }
	for f in $(cat "$d/hf.listed"); do
		err=$("$CT" replay -f "$f = 1" /nonexistent 2>&1)
		! grep -q "unknown field" <<<"$err" || { echo "$f: $err"; return 1; }
		n=$((n + 1))
	done
	err=$("$CT" replay -f 'nosuchfield = 1' x.pcap 2>&1)
	grep -q 'unknown field' <<<"$err" || { echo "an unknown field was taken: $err"; return 1; }
	grep -q '^Operators:' "$d/hf" && awk 'length > 80 {exit 1}' "$d/hf" ||
		{ echo "no operators, or a line past 80 columns"; return 1; }
	grep -q "help filter" <("$CT" help) || { echo "'closetrace help' does not mention it"; return 1; }
	echo "# $n filter fields listed and parsed" >&3
}
check "help filter lists every field of the parser's table, each one it parses" t_help_filter

# One truth for -v: the verifier's log is at -v (tests/test_bpf.c proves the routing),
# and --help and closetrace(8) (the reference; README points to it) say so; neither
# closetrace(8) nor README ties it to -vv.
t_verbose_doc() {
	grep -q "verifier's log" <("$CT" --help | sed -n '/-v, --verbose/,/-h, --help/p') &&
		! grep -n -- "-vv[^.;]*verifier\|log with [\`*]-vv" "$README" "$MAN8" &&
		tr '\n' ' ' <"$MAN8" | grep -q -- "\*-v\*[^.]*the verifier's log"
}
check "closetrace(8) and --help agree: -v shows the verifier's log" t_verbose_doc

# Names from outside (an interface, a command typed) never reach the terminal raw.
t_escaped() {
	"$CT" watch -i $'x\e[31m' >"$d/esc.out" 2>"$d/esc.err"
	[ $? = 1 ] && grep -qxF 'closetrace: x\x1b[31m: no such interface' "$d/esc.err" || return 1
	"$CT" $'wat\ech' 2>>"$d/esc.err"
	[ $? = 2 ] && grep -qF "unknown command 'wat\x1bch'" "$d/esc.err" &&
		! LC_ALL=C grep -q $'\e' "$d/esc.err"
}
check "an interface or command name holding ESC is printed escaped" t_escaped

# CLOSETRACE_DISABLE: known names pass (any order, commas), an unknown one is an error
# naming the known ones, before the command runs
t_disable_env() {
	CLOSETRACE_DISABLE=scan-iter,tcx "$CT" help >/dev/null || return 1
	CLOSETRACE_DISABLE=resets, "$CT" help >/dev/null || return 1
	CLOSETRACE_DISABLE=tcx,scan-iterator "$CT" help >/dev/null 2>"$d/dis.err"
	[ $? = 2 ] && [ "$(wc -l <"$d/dis.err")" = 1 ] &&
		grep -qx "closetrace: CLOSETRACE_DISABLE: no feature is called 'scan-iterator' (known: tcx, resets, scan-iter, owners)" \
			"$d/dis.err"
}
check "CLOSETRACE_DISABLE takes the features' names, and refuses others in one sentence" \
	t_disable_env

done_testing
