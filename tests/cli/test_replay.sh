#!/usr/bin/env bash
# test_replay.sh - `closetrace replay` from the command line: output formats, exit codes,
# one clear line for every kind of bad input with what was read before still reported,
# names with control bytes shown escaped, usage errors, a reader that goes away, and a
# 1 GiB capture in bounded memory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
GEN="python3 $here/pcapgen.py"
DATA=$here/../data
need_root

d=$T_DIR
$GEN refused "$d/r3.pcap" 3
for k in bad-link zero-len snap-cut corrupt; do $GEN "$k" "$d/$k.pcap"; done
# 24-byte file header, 70-byte records: cut inside the third record's header
head -c 172 "$d/r3.pcap" >"$d/truncated.pcap"
echo "this is not a capture" >"$d/text.pcap"
: >"$d/empty.pcap"

# run ARGS...: stdout to $d/o, stderr to $d/e, exit status to $rc
run() {
	"$CT" "$@" >"$d/o" 2>"$d/e"
	rc=$?
}

t_text() {
	run replay "$d/r3.pcap" && [ "$rc" = 0 ] && [ "$(grep -c ' refused ' "$d/o")" = 3 ] &&
		head -1 "$d/o" | grep -q '^TIME ' &&
		[ "$(cat "$d/e")" = "closetrace: 3 connections ended: 3 refused (3 abnormal); 3 records printed" ]
}
check "text: a header and one line per refused connection, exit 0, and one summary line" t_text

# Text fits 120 columns with IPv4, CLOSE early and every column under its header, for one
# capture and for several (labelled #1, #2...), on every test capture; -w keeps IPv6 aligned.
t_width() {
	local f all=() wide=0 narrow=0 v6=0
	for f in "$DATA"/zeek/*.pcap "$DATA"/tcpdump/*.pcap; do all+=("$f"); done
	for f in "${all[@]}" ALL; do
		if [ "$f" = ALL ]; then "$CT" replay --all "${all[@]}"; else "$CT" replay --all "$f"; fi \
			>"$d/w.out" 2>/dev/null
		# the header's columns: every line's fields start where its header's do
		awk -v f="$f" '
			NR == 1 { for (i = 1; i <= NF; i++) h[i] = index($0, $i); lead = $2 == "IFACE" ? 4 : 3; next }
			/summary:/ { next }
			{
				# a connection inside a tunnel ends its line with it, past the columns
				sub(/ (vxlan|geneve|gtpu|teredo|gre|erspan)(:[0-9]+)?$/, "")
				if ($0 !~ /\[/ && length($0) > 120) { print f ": over 120: " $0; bad = 1 }
				# TIME, IFACE (with several), CLOSE, BY: left-aligned at their headers
				p = 0; n = split($0, w, / +/)
				for (i = 1; i <= lead && i <= n; i++) {
					p = index(substr($0, p + 1), w[i]) + p
					if (p != h[i]) { print f ": field " i " at " p ", header at " h[i] ": " $0; bad = 1 }
					p += length(w[i])
				}
			}
			END { exit bad }' "$d/w.out" || return 1
		narrow=$((narrow + $(wc -l <"$d/w.out") - 1))
	done
	# -w: IPv6 and IPv4 endpoints in the same columns
	"$CT" replay --all -w "${all[@]}" >"$d/w.out" 2>/dev/null
	awk 'NR == 1 { c = index($0, "CLIENT"); s = index($0, "SERVER"); next }
		/summary:/ { next }
		{ sub(/ (vxlan|geneve|gtpu|teredo|gre|erspan)(:[0-9]+)?$/, "")
		  if (index($0, " " $(NF - 1) " ") + 1 != c || length($0) - length($NF) + 1 != s) { print; bad = 1 }
		  if ($0 ~ /\[/) v6++ }
		END { print v6 > "/dev/stderr"; exit bad }' "$d/w.out" 2>"$d/w.v6" || return 1
	wide=$(($(wc -l <"$d/w.out") - 1)) v6=$(cat "$d/w.v6")
	echo "# $narrow narrow lines within 120 columns and aligned; $wide wide lines aligned, $v6 of them IPv6" >&3
	[ "$narrow" -gt 100 ] && [ "$v6" -gt 0 ]
}
check "text: 120 columns for IPv4, columns under their headers; -w aligns IPv6" t_width

# nothing abnormal is still said; -q says nothing
t_summary() {
	run replay "$DATA/zeek/tls_imap-starttls.pcap" && [ "$rc" = 0 ] && [ ! -s "$d/o" ] &&
		grep -q '^closetrace: [0-9]* connections\? ended: .* graceful.* (0 abnormal); 0 records printed$' "$d/e" ||
		{ cat "$d/e"; return 1; }
	run replay -q "$d/r3.pcap" && [ "$rc" = 0 ] && [ ! -s "$d/e" ] && [ -s "$d/o" ]
}
check "a capture with nothing abnormal says so in one line; -q silences it" t_summary

t_json() {
	local keys='v type ts iface close zeek rst_by history clt_ip clt_port srv_ip srv_port
		syn synack ct fin_clt fin_srv rst_clt rst_srv pkts_clt pkts_srv bytes_clt
		bytes_srv start dur'
	run replay -o json "$d/r3.pcap" && [ "$(wc -l <"$d/o")" = 3 ] || return 1
	for k in $keys; do
		[ "$(jq -r "has(\"$k\")" "$d/o" | sort -u)" = true ] || { echo "no key $k"; return 1; }
	done
	[ "$(jq -r '[.v, .type, .close, .zeek, .rst_by, .syn, .rst_srv] | @tsv' "$d/o" | sort -u)" = \
		"$(printf '1\tclose\trefused\tREJ\tsrv\t1\t1')" ]
}
check "json: every line parses, has every documented key and the right values" t_json

t_doc_keys() {
	# closetrace-watch(8), OUTPUT, lists the keys in the order records carry them, a tag
	# each (or a few, comma-separated), from "these keys in this order:" to its example
	# record, which carries them in the same order
	local page=$here/../../man/closetrace-watch.8.scd.in doc example
	doc=$(sed -n '/these keys in this order:/,/^```$/p' "$page" |
		grep -E '^\*[a-z\\_]+\*(, \*[a-z\\_]+\*)*$' | tr -d '*\\' | tr ',\n' '  ' | tr -s ' ' |
		sed 's/ $//')
	example=$(awk '/these keys in this order:/ {f = 1} f && /^```$/ {if (in_ex) exit; in_ex = 1; next}
		       in_ex' "$page" | tr -d '\n' | jq -r 'keys_unsorted | join(" ")') ||
		{ echo "closetrace-watch(8): the example record does not parse"; return 1; }
	[ "$(wc -w <<<"$doc")" -ge 20 ] || { echo "closetrace-watch(8): keys '$doc'"; return 1; }
	# app and listener, last, come only with a socket of this host's: never in a capture
	[ "${doc% app listener}" != "$doc" ] || { echo "closetrace-watch(8): no app, listener last"; return 1; }
	doc=${doc% app listener}
	# tunnel, after vlan, only inside a tunnel: a VXLAN capture's record has it there
	local tun=$doc
	[ "${doc/ vlan tunnel / vlan }" != "$doc" ] || { echo "closetrace-watch(8): no tunnel after vlan"; return 1; }
	doc=${doc/ vlan tunnel / vlan }
	python3 "$here/tungen.py" vxlan "$d/vx.pcap" &&
		[ "$("$CT" replay -o json "$d/vx.pcap" 2>/dev/null | head -1 | jq -r 'keys_unsorted | join(" ")')" = "$tun" ] ||
		{ echo "closetrace-watch(8): $tun"; echo "a record in VXLAN: $("$CT" replay -o json "$d/vx.pcap" 2>/dev/null | head -1)"; return 1; }
	run replay -o json "$d/r3.pcap" &&
		[ "$(head -1 "$d/o" | jq -r 'keys_unsorted | join(" ")')" = "$doc" ] &&
		[ "$example" = "$doc" ] ||
		{ echo "closetrace-watch(8): $doc"; echo "its example: $example"; return 1; }
}
check "closetrace-watch(8)'s key list and example are the records' keys, in their order" \
	t_doc_keys

t_pop3() {
	run replay "$DATA/zeek/pop3_pop3.pcap" && [ "$(grep -c ' refused ' "$d/o")" = 6 ] &&
		run replay -o json "$DATA/zeek/pop3_pop3.pcap" && jq -e . "$d/o" >/dev/null &&
		[ "$(jq -r .close "$d/o" | sort | uniq -c | tr -s ' ')" = " 6 refused" ]
}
check "pop3_pop3.pcap: the 6 refused connections; every JSON line parses with jq" t_pop3

t_flows() {
	run replay --final -o json "$DATA/zeek/pop3_pop3.pcap" && [ "$(wc -l <"$d/o")" = 11 ] &&
		[ "$(jq -r .type "$d/o" | sort -u)" = flow ] &&
		[ "$(jq -r 'select(.close == "graceful") | .zeek' "$d/o" | sort -u)" = SF ]
}
check "--final: every flow's final record (11 in pop3_pop3), graceful ones too" t_flows

t_all() {
	run replay --all -o json "$DATA/zeek/pop3_pop3.pcap" && [ "$(wc -l <"$d/o")" = 11 ] &&
		run replay -o json "$DATA/zeek/pop3_pop3.pcap" && [ "$(wc -l <"$d/o")" = 6 ]
}
check "--all adds the graceful closes; without it only abnormal ones" t_all

# Every link type replay reads gives the same connection as Ethernet does.
t_links() {
	local want got dlt
	$GEN link "$d/l1.pcap" 1
	run replay -o json "$d/l1.pcap"
	want=$(jq -c '[.close, .clt_ip, .clt_port, .srv_ip, .srv_port, .syn, .rst_srv]' "$d/o")
	[ "$want" = '["refused","10.1.0.1",40001,"10.2.0.2",80,1,1]' ] || return 1
	for dlt in 0 101 108 113 276 228; do
		$GEN link "$d/l$dlt.pcap" "$dlt"
		run replay -o json "$d/l$dlt.pcap"
		got=$(jq -c '[.close, .clt_ip, .clt_port, .srv_ip, .srv_port, .syn, .rst_srv]' "$d/o")
		[ "$rc" = 0 ] && [ "$got" = "$want" ] || { echo "DLT $dlt: rc $rc, $got"; return 1; }
	done
}
check "link types NULL, raw IP, LOOP, Linux SLL and SLL2, IPv4: same as Ethernet" t_links

# bad ARGS-FILE PATTERN [EXPECTED_CLOSES]: exit 1, one stderr line matching, closes kept
bad() {
	local file=$1 pat=$2 closes=${3:-0}
	run replay -o json "$file"
	[ "$rc" = 1 ] || { echo "exit $rc"; return 1; }
	[ "$(wc -l <"$d/e")" = 1 ] || { cat "$d/e"; return 1; }
	grep -q -- "$pat" "$d/e" || { cat "$d/e"; return 1; }
	grep -q -- "$file" "$d/e" || return 1
	[ "$(wc -l <"$d/o")" = "$closes" ] || { echo "closes: $(wc -l <"$d/o")"; return 1; }
}
check "missing file: one line naming it, exit 1" bad "$d/nope.pcap" "No such file"
check "a directory: one line, exit 1" bad "$d" "is a directory"
check "not a capture: one line, exit 1" bad "$d/text.pcap" "not a pcap or pcapng capture"
check "empty file: one line, exit 1" bad "$d/empty.pcap" "empty file"
check "truncated capture: the closes before it, then the packet, exit 1" \
	bad "$d/truncated.pcap" "packet 3" 1
check "corrupt record: the closes before it, then the packet, exit 1" \
	bad "$d/corrupt.pcap" "packet 3: invalid packet capture length" 1
check "unsupported link type: named, exit 1" bad "$d/bad-link.pcap" "IEEE802_11 (105)"
check "zero-length packet: named and skipped, the rest counted, exit 1" \
	bad "$d/zero-len.pcap" "packet 3: zero-length" 2
check "snap-truncated packet: named, not counted, the rest reported, exit 1" \
	bad "$d/snap-cut.pcap" "packet 3: cut by the snap length" 1

t_many() {
	run replay -o json "$d/nope.pcap" "$d/r3.pcap"
	[ "$rc" = 1 ] && [ "$(wc -l <"$d/o")" = 3 ] && grep -q nope.pcap "$d/e"
}
check "several files: a bad one is reported, the others replayed, exit 1" t_many

# A capture's name holding terminal controls (ESC, newline, tab, C0, DEL, a backslash, a
# C1 CSI in UTF-8) is shown escaped in text and on stderr, never obeyed; JSON escapes its own.
cname=$'a\e[31m\n\t\x01\x7f\\\xc2\x9bz.pcap'
cp "$d/r3.pcap" "$d/$cname"
# raw_controls FILE...: a byte that a terminal would obey, but the lines' tabs and newlines
raw_controls() {
	LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$@" ||
		LC_ALL=C grep -q $'\xc2[\x80-\x9f]' "$@"
}
t_name_text() {
	run -v replay "$d/$cname" "$d/r3.pcap"
	[ "$rc" = 0 ] && [ "$(grep -c ' refused ' "$d/o")" = 6 ] || { echo "exit $rc"; return 1; }
	! raw_controls "$d/o" "$d/e" || { cat -v "$d/o" "$d/e"; return 1; }
	# several captures: each line names its capture by label, each label is said once
	[ "$(grep -c '^[0-9:]\{8\} #1 ' "$d/o")" = 3 ] && [ "$(grep -c '^[0-9:]\{8\} #2 ' "$d/o")" = 3 ] ||
		{ cat "$d/o"; return 1; }
	grep -qxF 'closetrace: #1: '"$d"'/a\x1b[31m\n\t\x01\x7f\\\xc2\x9bz.pcap' "$d/e" &&
		grep -qxF "closetrace: #2: $d/r3.pcap" "$d/e" || { cat "$d/e"; return 1; }
	grep -qF 'a\x1b[31m\n\t\x01\x7f\\\xc2\x9bz.pcap: ' "$d/e" || { cat "$d/e"; return 1; }
}
check "text: a capture's name with control bytes is shown escaped, never raw" t_name_text
# two captures of the same file name in two folders: each its own label
t_same_name() {
	mkdir -p "$d/a" "$d/b" && cp "$d/r3.pcap" "$d/a/x.pcap" && cp "$d/r3.pcap" "$d/b/x.pcap" &&
		run replay "$d/a/x.pcap" "$d/b/x.pcap" && [ "$rc" = 0 ] &&
		[ "$(grep -c '^[0-9:]\{8\} #1 ' "$d/o")" = 3 ] &&
		[ "$(grep -c '^[0-9:]\{8\} #2 ' "$d/o")" = 3 ] ||
		{ cat "$d/o" "$d/e"; return 1; }
}
check "several captures of one file name: each line labelled with its own" t_same_name
t_name_json() {
	# JSON escapes bytes past 0x7e one by one, as \u00XX: names need not be UTF-8
	local jname='a\u001b[31m\n\t\u0001\u007f\\\u00c2\u009bz.pcap'
	run replay -o json "$d/$cname"
	[ "$rc" = 0 ] && [ "$(jq -r .close "$d/o" | sort | uniq -c | tr -s ' ')" = " 3 refused" ] &&
		! raw_controls "$d/o" &&
		[ "$(grep -cF "\"iface\":\"$jname\"" "$d/o")" = 3 ]
}
check "json: the same name JSON-escaped (\\u001b), every line parses" t_name_json
t_name_bad() {
	local f
	cp "$d/text.pcap" "$d/"$'text\e[31m.pcap'
	for f in $'nope\e[31m.pcap:No such file' $'text\e[31m.pcap:not a pcap or pcapng'; do
		run replay "$d/${f%%:*}"
		[ "$rc" = 1 ] && [ "$(wc -l <"$d/e")" = 1 ] && ! raw_controls "$d/e" &&
			grep -qF "${f%%$'\e'*}\\x1b[31m.pcap: ${f#*:}" "$d/e" ||
			{ cat -v "$d/e"; return 1; }
	done
}
check "a missing or bad capture named with ESC: one line, the name escaped" t_name_bad

usage() {
	run "$@"
	[ "$rc" = 2 ] && grep -q "try 'closetrace replay --help'" "$d/e"
}
check "usage: no file, exit 2" usage replay
check "usage: -o xml, exit 2" usage replay -o xml "$d/r3.pcap"
check "usage: --syn-timeout 0, exit 2" usage replay --syn-timeout 0 "$d/r3.pcap"
check "usage: --table-size abc, exit 2" usage replay --table-size abc "$d/r3.pcap"

t_help() {
	run replay --help && [ "$rc" = 0 ] && grep -q EXAMPLES "$d/o"
}
check "--help: usage with examples, exit 0" t_help

t_head() {
	$GEN refused "$d/r2000.pcap" 2000
	"$CT" replay -o json "$d/r2000.pcap" 2>"$d/e" | head -1 >"$d/o"
	[ "${PIPESTATUS[0]}" = 0 ] && [ "$(wc -l <"$d/o")" = 1 ] && [ ! -s "$d/e" ]
}
check "a reader that goes away (| head -1): quiet exit 0" t_head

# -f: the records kept are exactly those jq selects from the unfiltered output, on the
# captures of tests/data (with and without --final, the probe's filters and a prefix).
t_filter() {
	local f expr sel n=0 all=() flows
	for f in "$DATA"/zeek/*.pcap "$DATA"/tcpdump/*.pcap; do all+=("$f"); done
	while IFS='|' read -r expr sel; do
		for flows in "" --final; do
			"$CT" replay -o json --all $flows "${all[@]}" 2>/dev/null |
				jq -c "select($sel)" | sort >"$d/f.want"
			"$CT" replay -o json --all $flows -f "$expr" "${all[@]}" 2>/dev/null \
				>"$d/f.got"
			# the final scan walks the table in hash order: compare as sets
			jq -c . "$d/f.got" | sort | diff "$d/f.want" - >&2 ||
				{ echo "filter '$expr' $flows differs" >&2; return 1; }
			n=$((n + $(wc -l <"$d/f.got")))
		done
	done <<'EOF2'
rst.count > 0 and fin.count = 0|.rst_clt + .rst_srv > 0 and .fin_clt + .fin_srv == 0
rst.count > 0 and ct.count = 0|.rst_clt + .rst_srv > 0 and .ct == 0
midstream = 1 and rst.count > 0|.midstream and .rst_clt + .rst_srv > 0
midstream = 0 and port = 80|(.midstream | not) and (.srv_port == 80 or .clt_port == 80)
close = "refused" or close = fin-reset|.close == "refused" or .close == "fin-reset"
not (zeek = SF or zeek = S0) and port.srv < 1024|(.zeek != "SF" and .zeek != "S0") and .srv_port < 1024
ip.srv in 192.168.0.0/16 and rst.by = srv|(.srv_ip | startswith("192.168.")) and .rst_by == "srv"
ip.clt in ::/0 or dur >= 10.5|(.clt_ip | contains(":")) or .dur >= 10.5
EOF2
	echo "# filters kept $n records in all" >&3
	[ "$n" -gt 20 ]
}
check "-f keeps exactly the records jq selects, on every test capture" t_filter
t_bad_filter() {
	"$CT" replay -f 'rst.count >' "$DATA/zeek/ssh_ssh.pcap" >/dev/null 2>"$d/bf"
	[ $? = 2 ] && grep -q '^closetrace replay: bad filter: expected a number' "$d/bf" &&
	[ "$(sed -n 2p "$d/bf")" = "  rst.count >" ] && [ "$(sed -n 3p "$d/bf")" = "             ^" ]
}
check "a bad filter: the expression, a caret under the column, exit 2" t_bad_filter
# a capture cannot say why a host reset: every reason and socket state is "-"
t_no_reason() {
	"$CT" replay -o json --final --all "$DATA"/zeek/*.pcap 2>/dev/null >"$d/nr.json"
	[ "$(jq -r '"\(.rst_reason) \(.rst_state)"' "$d/nr.json" | sort -u)" = "- -" ] &&
	[ "$(jq -s 'map(select(.rst_clt + .rst_srv > 0)) | length' "$d/nr.json")" -gt 10 ]
}
check "replay: reset reason and socket state are '-'" t_no_reason
# a capture has no sockets: no app object anywhere; asked for one, it says so once
t_no_app() {
	"$CT" replay -o json --final --all "$DATA"/zeek/*.pcap 2>"$d/na.err" >"$d/na.json" &&
	[ "$(jq -s 'map(select(has("app") or has("listener"))) | length' "$d/na.json")" = 0 ] &&
	! grep -q 'no sockets' "$d/na.err" &&
	"$CT" replay -o json -f 'app.unit = "x.service" or rst.count > 0' "$DATA"/zeek/*.pcap \
		2>"$d/na2.err" >"$d/na2.json" &&
	[ "$(grep -c 'a capture has no sockets' "$d/na2.err")" = 1 ] &&
	[ -s "$d/na2.json" ] && ! grep -q '"app"' "$d/na2.json"
}
check "replay: no app fields; asked for one (-f app.unit), said once" t_no_app
# zones: a list's names, else the /24 (or --zone-prefix); in JSON, filters and top
t_zones() {
	printf '# pop3\n192.168.0.0/16 home\n212.227.15.0/24 mail # gmx\n' >"$d/zones"
	"$CT" replay -o json --zones "$d/zones" "$DATA"/zeek/pop3_pop3.pcap 2>/dev/null >"$d/z.json" &&
	[ "$(jq -r '"\(.clt_zone) \(.srv_zone)"' "$d/z.json" | sort -u)" = "home mail" ] &&
	"$CT" replay -o json "$DATA"/zeek/pop3_pop3.pcap 2>/dev/null >"$d/z2.json" &&
	[ "$(jq -r '.clt_zone' "$d/z2.json" | sort -u)" = "192.168.0.0/24" ] &&
	"$CT" replay -o json --zone-prefix 16,48 "$DATA"/zeek/pop3_pop3.pcap 2>/dev/null >"$d/z3.json" &&
	[ "$(jq -r '.srv_zone' "$d/z3.json" | sort -u)" = "212.227.0.0/16" ] &&
	[ "$("$CT" replay -o json --all --final --zones "$d/zones" -f 'srv.zone = mail and close = graceful' \
		"$DATA"/zeek/pop3_pop3.pcap 2>/dev/null | wc -l)" = 5 ] &&
	"$CT" top -b -r "$DATA"/zeek/pop3_pop3.pcap --zones "$d/zones" -g client-zone 2>/dev/null |
		grep -Eq '^home +11 ' &&
	printf '10.0.0.0/8\n' >"$d/zbad" &&
	[ "$("$CT" replay --zones "$d/zbad" "$DATA"/zeek/pop3_pop3.pcap 2>&1 | head -1)" = \
		"closetrace replay: --zones $d/zbad:1: expected 'CIDR NAME' (a name of one word)" ]
}
check "zones: names from --zones, /24 by default, --zone-prefix; clt_zone, srv.zone, top -g client-zone; a bad list named by line" t_zones
# diagnose: the findings of every test capture, as the golden file has them
t_diag_golden() {
	local f
	(cd "$DATA/zeek" && for f in *.pcap; do
		"$CT" diagnose -o json "$f" 2>/dev/null | sed "s|^|$f\t|"
	done) >"$d/diag"
	diff -u "$DATA/diagnose/zeek.golden" "$d/diag" &&
	jq -c . <(cut -f2 "$d/diag") >/dev/null
}
check "diagnose: the test captures' findings are the golden file's; every line parses" t_diag_golden
t_diag_text() {
	"$CT" diagnose "$DATA"/zeek/pop3_pop3.pcap >"$d/dt" 2>"$d/dte" &&
	[ "$(grep -c '^critical refused: 212\.227\.15\.1[78][18]:110 refuses connections: 3 of 3' "$d/dt")" = 2 ] &&
	grep -q '^         next: is the service on port 110 running' "$d/dt" &&
	grep -qx 'closetrace: 2 findings' "$d/dte" &&
	"$CT" diagnose "$DATA"/zeek/ssh_ssh.pcap 2>/dev/null | grep -qx 'no finding: nothing abnormal enough to report'
}
check "diagnose: text, most severe first, the next step; nothing on a normal capture" t_diag_text
t_diag_exit() {
	"$CT" diagnose --fail-on critical "$DATA"/zeek/pop3_pop3.pcap >/dev/null 2>&1
	[ $? = 3 ] || return 1
	"$CT" diagnose --fail-on warning "$DATA"/zeek/ldap_ldap-starttls.pcap >/dev/null 2>&1 || return 1
	"$CT" diagnose --fail-on info "$DATA"/zeek/ldap_ldap-starttls.pcap >/dev/null 2>&1
	[ $? = 3 ] || return 1
	"$CT" diagnose --min-closes 4 --fail-on warning "$DATA"/zeek/pop3_pop3.pcap >/dev/null 2>&1
}
check "diagnose --fail-on: 3 at or above the severity, else 0; --min-closes raises the bar" t_diag_exit
t_diag_usage() {
	local e
	e=$("$CT" diagnose 2>&1); [ $? = 2 ] &&
	[ "$(head -1 <<<"$e")" = "closetrace diagnose: a capture FILE or -i IFACE is required" ] &&
	e=$("$CT" diagnose --duration 5 "$DATA"/zeek/pop3_pop3.pcap 2>&1); [ $? = 2 ] &&
	[ "$(head -1 <<<"$e")" = "closetrace diagnose: --duration goes with -i IFACE" ] &&
	e=$("$CT" diagnose -o journal x.pcap 2>&1); [ $? = 2 ] &&
	e=$("$CT" diagnose --fail-on fatal x.pcap 2>&1); [ $? = 2 ] &&
	"$CT" diagnose --help | grep -q 'closetrace diagnose --fail-on warning'
}
check "diagnose: usage errors exit 2 in one line; --help has examples" t_diag_usage

# 1 GiB generated and replayed through a pipe (no disk): memory must not follow its size.
t_big() {
	local n rss lines
	rss=$(python3 -c '
import resource, subprocess, sys
gen = subprocess.Popen(sys.argv[3:8], stdout=subprocess.PIPE, stderr=open(sys.argv[2], "w"))
with open(sys.argv[1], "w") as out:
	r = subprocess.run(sys.argv[8:], stdin=gen.stdout, stdout=out)
gen.stdout.close()
gen.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(r.returncode, gen.returncode, ru)
' "$d/big.out" "$d/big.n" python3 "$here/pcapgen.py" big - 1024 \
		"$CT" replay --final --all -o json -)
	n=$(cat "$d/big.n")
	lines=$(wc -l <"$d/big.out")
	echo "# 1 GiB through a pipe: $n connections, $lines records, exit ${rss%% *}," \
		"max RSS of the larger process ${rss##* } KiB" >&3
	set -- $rss
	[ "$1" = 0 ] && [ "$2" = 0 ] && [ "$lines" = "$n" ] && [ "$3" -lt 65536 ]
}
check "1 GiB capture: every connection reported, max RSS under 64 MiB" t_big

# Storms: past --storm-rate a second (capture time), orphan RSTs and unanswered SYNs go
# into summaries by server port; each close is printed or summarised, exactly once, and
# the refusals in the storm are all printed. Replay's default is every close.
$GEN storm "$d/storm.pcap" 5000
t_storm() {
	"$CT" replay -o json "$d/storm.pcap" >"$d/storm.all" 2>/dev/null &&
	"$CT" replay -o json --storm-rate 100 "$d/storm.pcap" >"$d/storm.sum" 2>"$d/storm.err" &&
	jq -e -s --slurpfile all "$d/storm.all" '
		def n(k): [.[] | select(.type == "close" and .close == k)] | length;
		def s(k): [.[] | select(.type == "summary" and .close == k) | .count] | add // 0;
		($all | n("orphan-rst")) == 5000 and ($all | map(select(.type == "summary")) | length) == 0 and
		n("refused") == 100 and n("orphan-rst") + s("orphan-rst") == 5000 and
		n("orphan-rst") <= 600 and s("orphan-rst") > 0 and
		n("unanswered") + s("unanswered") == 30 and
		all(.[] | select(.type == "summary"); .srv_ip == "10.2.0.2" and
		    (.srv_port == 80 or .srv_port == 443) and .rst_by == "clt" and .first <= .last)
	' "$d/storm.sum" >/dev/null
}
check "replay --storm-rate: every close printed or in one summary, refusals all printed" t_storm
t_storm_text() {
	"$CT" replay --storm-rate 100 "$d/storm.pcap" 2>/dev/null |
		grep -Eq '^[0-9:]{8} +orphan-rst +summary: [0-9]+ closes to 10\.2\.0\.2:443 since '
}
check "replay --storm-rate: a summary's text line" t_storm_text

done_testing
