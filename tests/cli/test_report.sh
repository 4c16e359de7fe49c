#!/usr/bin/env bash
# test_report.sh - `closetrace report`: one self-contained HTML file, opened in Debian's
# headless Chromium inside a network namespace of its own (nothing can leave it, and the
# page must load nothing anyway: its Content-Security-Policy forbids it). The DOM must
# hold each chart with the right number of points, the findings and the tables; the
# browser must log no console message (a blocked load would be one); a screenshot is
# taken. Also the errors of the command.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
DATA=$here/../data
d=$T_DIR
need_root
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "not ok 1 - chromium is missing (make deps)"; echo "1..1"; exit 1; }

# browse ARGS...: headless Chromium in a new network namespace (no route anywhere)
browse() {
	unshare -n timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update \
		--enable-logging=stderr --v=0 --user-data-dir="$d/profile" "$@"
}

check "report of pop3_pop3.pcap written, one line on stderr" sh -c "
	'$CT' report -r '$DATA/zeek/pop3_pop3.pcap' -o '$d/r.html' 2>'$d/r.err' &&
	[ \"\$(cat '$d/r.err')\" = 'closetrace: pop3_pop3.pcap: 2 findings, written to $d/r.html' ]"
t_static() {
	# nothing to load: no src, href, url(), import, script, link or image
	! grep -Eqi '(src|href)=|url\(|@import|<script|<link|<img' "$d/r.html" &&
	grep -q "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"" \
		"$d/r.html"
}
check "self-contained: nothing to load, and a policy that forbids loading" t_static
check "Chromium renders it from file://" sh -c "$(declare -f browse); d='$d' CHROMIUM='$CHROMIUM'
	browse --dump-dom 'file://$d/r.html' >'$d/dom.html' 2>'$d/dom.err'"
t_dom() {
	# pop3: six 1/60 slices of its 151 s have connections: six points a line
	grep -q '<svg id="rst-per-conn" data-points="6"' "$d/dom.html" &&
	[ "$(grep -c '<circle class="pt-clt"' "$d/dom.html")" = 6 ] &&
	[ "$(grep -c '<circle class="pt-srv"' "$d/dom.html")" = 6 ] &&
	grep -q '<svg id="closes-by-kind" data-bars="6"' "$d/dom.html" &&
	[ "$(grep -c '<rect class="k' "$d/dom.html")" = 6 ] &&
	[ "$(grep -c '<td class="critical">critical</td><td>refused</td>' "$d/dom.html")" = 2 ] &&
	grep -q '<td>212.227.15.171:110</td><td>3</td><td>3</td>' "$d/dom.html" &&
	grep -q '<td>192.168.0.0/24</td><td>11</td><td>6</td>' "$d/dom.html" &&
	grep -q '11 connections ended: 5 graceful, 6 refused (6 abnormal)' "$d/dom.html"
}
check "the DOM: Figure 5 with 6 points a side, 6 bars of closes, the findings, top servers and zones" t_dom
t_console() {
	! grep -Ei 'CONSOLE|Refused to|Content Security Policy' "$d/dom.err" ||
		{ grep -Ei 'CONSOLE|Refused to|Content Security Policy' "$d/dom.err"; return 1; }
}
check "no console message: no error, no blocked load" t_console
check "a screenshot" sh -c "$(declare -f browse); d='$d' CHROMIUM='$CHROMIUM'
	browse --screenshot='$d/r.png' --window-size=1100,1800 'file://$d/r.html' 2>/dev/null &&
	[ \"\$(head -c 8 '$d/r.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ] &&
	[ \"\$(stat -c %s '$d/r.png')\" -gt 20000 ] &&
	echo \"# screenshot: \$(stat -c %s '$d/r.png') bytes\" >&3"
t_zones() {
	printf '192.168.0.0/16 office\n' >"$d/z" &&
	"$CT" report -r "$DATA/zeek/pop3_pop3.pcap" --zones "$d/z" -o - 2>/dev/null |
		grep -q '<td>office</td><td>11</td><td>6</td>'
}
check "--zones names the client zones; -o - writes to stdout" t_zones
t_errors() {
	local e
	e=$("$CT" report -r "$DATA/zeek/pop3_pop3.pcap" 2>&1); [ $? = 2 ] &&
	[ "$(head -1 <<<"$e")" = "closetrace report: -o FILE, where the report goes, is required" ] &&
	e=$("$CT" report -o "$d/x.html" 2>&1); [ $? = 2 ] &&
	[ "$(head -1 <<<"$e")" = "closetrace report: -r FILE, the capture, or -i IFACE is required" ] &&
	"$CT" report -r "$d/none.pcap" -o "$d/x.html" 2>"$d/e1"; [ $? = 1 ] &&
	[ "$(wc -l <"$d/e1")" = 1 ] && [ ! -e "$d/x.html" ] &&
	"$CT" report -r "$DATA/zeek/pop3_pop3.pcap" -o "$d/no/dir.html" 2>"$d/e2"; [ $? = 1 ] &&
	grep -q 'No such file or directory' "$d/e2"
}
check "errors: usage in one line (exit 2), a missing capture or unwritable output (exit 1)" t_errors
done_testing
