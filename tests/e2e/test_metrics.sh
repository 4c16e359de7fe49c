#!/usr/bin/env bash
# test_metrics.sh - `--metrics` end to end, in namespaces the test makes (netns.sh): a real
# Prometheus (Debian's), config and data in the test's directory, listening on the server
# namespace's loopback with a 1 s scrape interval, scrapes a watch of two interfaces while
# real connections end refused, reset, FIN then RST and gracefully. What Prometheus holds
# must equal what the events said, per interface; every PromQL expression of the example
# dashboard and alert rules must parse and return data. Then: a scrape that promtool finds
# clean, flag counts equal to the per-flow counts, -o none, an address in use, and a
# silent client, 100 concurrent scrapes and a 1 MB request while events keep flowing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
ns_cleanup_on_exit
CT=${CLOSETRACE:-$root/build/closetrace}
DRIVE=$root/build/tests/tcpdrive
need_root
d=$T_DIR
PM=9464 PP=9090 PDEAD=9465

for tool in prometheus promtool curl jq openssl htpasswd python3; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
check "namespaces and veth pairs are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5

PORT=44000
traffic() {
	ns_drive refused 12 && ns_drive reset-server 5 && ns_drive fin-reset 2 && ns_drive graceful 3
}
# in_s CMD...: in the server's namespace, where closetrace and Prometheus listen
in_s() { ip netns exec "$NS_S" "$@"; }
scrape() { in_s curl -s --max-time 5 "http://127.0.0.1:$PM/metrics"; }
# promql EXPR: the query's JSON answer
promql() {
	in_s curl -s --max-time 5 --get --data-urlencode "query=$1" \
		"http://127.0.0.1:$PP/api/v1/query"
}
# watch_start NAME ARGS...: a watch in S (a bare ip netns exec: no tracefs, reasons from
# BTF), ready to serve
watch_start() {
	local name=$1
	shift
	ns_start "$name" ip netns exec "$NS_S" "$CT" -v watch "$@"
}

# --- a real Prometheus scraping a watch of two interfaces ----------------------------
# s0 and m0, the mirror port, whose egress carries a copy of every s0 packet: two
# interfaces with the same connections, which the kernel must count apart.
check "watch -i s0,m0 --metrics starts" watch_start a -i s0,m0 --all -o json \
	--metrics "$PM" --metrics-ports 8001,8002,8009
cat >"$d/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$root/examples/prometheus/alerts.yml" ]
scrape_configs:
  - job_name: closetrace
    static_configs:
      - targets: [ "127.0.0.1:$PM", "127.0.0.1:$PDEAD" ]
EOF
ns_bg "$NS_S" prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/tsdb" \
	--web.listen-address="127.0.0.1:$PP" --log.level=warn >"$d/prometheus.log" 2>&1
t_prom_ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		in_s curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null && return 0
		sleep 0.1
	done
	cat "$d/prometheus.log"
	return 1
}
check "Prometheus starts, on the namespace's loopback" t_prom_ready
# Prometheus applies its targets a few seconds after it starts: the traffic waits for
# three scrapes, so that rates see it happen
t_scraping() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(promql "count_over_time(up{instance=\"127.0.0.1:$PM\"}[1m]) >= 3" |
			jq '.data.result | length')" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
check "Prometheus scrapes closetrace" t_scraping
traffic || echo "# driver failed" >&3
sleep 3	# the watch's scan and publish, then a scrape

# per interface: "iface close count" of the events, of Prometheus's latest samples
events_by() { jq -r '"\(.iface) \(.close)"' "$d/a.out" | sort | uniq -c | awk '{print $2, $3, $1}'; }
prom_by() {
	promql 'sum by (iface, close) (closetrace_closes_total{job="closetrace"}) > 0' |
		jq -r '.data.result[] | "\(.metric.iface) \(.metric.close) \(.value[1])"' | sort
}
t_closes_equal() {
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$(events_by)" = "$(prom_by)" ] && [ -n "$(prom_by)" ] && break
		sleep 0.5
	done
	diff <(events_by) <(prom_by) >&2 || return 1
	echo "# $(events_by | tr '\n' ';')" >&3
	# both interfaces, each with its own refusals
	[ "$(events_by | grep -c ' refused 12$')" = 2 ]
}
check "Prometheus: closes_total by interface and kind equal the events watch printed" \
	t_closes_equal

t_ports() {
	[ "$(promql 'sum(closetrace_server_closes_total{iface="s0",port="8009",close="refused"})' |
		jq -r '.data.result[0].value[1]')" = 12 ] &&
	[ "$(promql 'sum(closetrace_server_closes_total{iface="s0",port="8002",close="reset-server"})' |
		jq -r '.data.result[0].value[1]')" = 5 ]
}
check "Prometheus: closes by server port (8009 refused, 8002 reset by the server)" t_ports

# Every expression of the example alert rules and dashboard parses and returns data. An
# alert that this scenario does not set off (nothing was lost or evicted) must return data
# once its threshold is taken off: its metrics are there.
t_exprs() {
	local e a n=0 empty=0
	while IFS= read -r e; do
		a=$(promql "$e")
		[ "$(jq -r .status <<<"$a")" = success ] || { echo "does not parse: $e: $a"; return 1; }
		if [ "$(jq '.data.result | length' <<<"$a")" = 0 ]; then
			a=$(promql "$(sed -E 's/ (>|<|==|!=|>=|<=) [0-9.]+$//' <<<"$e")")
			[ "$(jq '.data.result | length' <<<"$a")" != 0 ] ||
				{ echo "no data: $e: $a"; return 1; }
			empty=$((empty + 1))
		fi
		n=$((n + 1))
	done < <(bash "$root/tests/prometheus/exprs.sh")
	echo "# $n expressions answered ($empty alerts quiet here, with data under them)" >&3
	[ "$n" -ge 16 ]
}
check "every PromQL expression of the dashboard and the alert rules parses and has data" t_exprs

t_alerts() {
	local a
	for ((i = 0; i < 20; i++)); do
		a=$(promql 'ALERTS{alertname="ClosetraceTargetDown"}')
		[ "$(jq '.data.result | length' <<<"$a")" != 0 ] && break
		sleep 0.5
	done
	jq -e '.data.result[] | select(.metric.instance == "127.0.0.1:'$PDEAD'")' <<<"$a" >/dev/null
}
check "the target-down alert is pending for the dead target, not for closetrace" t_alerts

t_promtool() {
	scrape >"$d/scrape.txt" && [ -s "$d/scrape.txt" ] &&
		promtool check metrics <"$d/scrape.txt" >"$d/promtool.out" 2>&1 &&
		[ ! -s "$d/promtool.out" ] || { cat "$d/promtool.out"; return 1; }
}
check "promtool check metrics on a real scrape: no error, no warning" t_promtool
t_headers() {
	in_s curl -s -D - -o /dev/null "http://127.0.0.1:$PM/metrics" |
		grep -qi '^Content-Type: text/plain; version=0.0.4' &&
	[ "$(in_s curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PM/metrics")" = 405 ] &&
	[ "$(in_s curl -s -D - -o /dev/null -X DELETE "http://127.0.0.1:$PM/metrics" |
		grep -ci '^Allow: GET, HEAD')" = 1 ] &&
	[ "$(in_s curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PM/")" = 404 ] &&
	[ "$(in_s curl -s -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PM/metrics")" = 200 ] &&
	[ -z "$(in_s curl -s -I "http://127.0.0.1:$PM/metrics" | sed '/^\r$/,$!d' | tail -n +2)" ]
}
check "HTTP: text format 0.0.4 on GET and HEAD (no body), 405 with Allow, 404 elsewhere" t_headers
t_only_loopback() {
	# a bare port listens on 127.0.0.1 only: not on the server's own address
	! in_s curl -s --max-time 2 "http://$S4:$PM/metrics" >/dev/null
}
check "a bare port listens on loopback only" t_only_loopback
ns_stop
check "watch with --metrics exits 0 on SIGINT" test $? = 0

# --- flag counts against the per-flow counts ------------------------------------------
t_flags() {
	watch_start b -i s0 --all --final -o json --metrics "$PM" || return 1
	traffic || return 1
	sleep 2.5
	scrape >"$d/b.scrape" || return 1
	ns_stop
	local m f
	# the final record of every flow (those still open come at exit)
	f=$(jq -s '[ (map(.syn) | add), (map(.synack) | add), (map(.fin_clt) | add),
		(map(.fin_srv) | add), (map(.rst_clt) | add), (map(.rst_srv) | add) ] | @tsv' \
		-r "$d/b.out")
	m=$(awk -F'[ }]' '
		/^closetrace_tcp_flags_total/ { split($0, a, " "); v[$1 "}"] = a[2] }
		END {
			printf "%d\t%d\t%d\t%d\t%d\t%d\n",
			v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"syn\",side=\"client\"}"] + v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"syn\",side=\"server\"}"],
			v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"synack\",side=\"client\"}"] + v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"synack\",side=\"server\"}"],
			v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"fin\",side=\"client\"}"],
			v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"fin\",side=\"server\"}"],
			v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"rst\",side=\"client\"}"],
			v["closetrace_tcp_flags_total{iface=\"s0\",flag=\"rst\",side=\"server\"}"] }' \
		"$d/b.scrape")
	echo "# flows: $f; metrics: $m (syn synack fin.c fin.s rst.c rst.s)" >&3
	[ "$f" = "$m" ] && [ "$(cut -f1 <<<"$f")" -ge 22 ] || return 1
	# closes by kind, from the final records, equal the metric too
	diff <(jq -r 'select(.close != "open") | .close' "$d/b.out" | sort | uniq -c |
		awk '{print $2, $1}') \
		<(grep '^closetrace_closes_total{iface="s0"' "$d/b.scrape" | grep -v ' 0$' |
		sed -E 's/.*close="([a-z-]+)"\} ([0-9]+)/\1 \2/' | sort) >&2
}
check "tcp_flags_total by flag and side, and closes_total, equal the per-flow counts summed" t_flags

t_reasons() {
	# the server's own RSTs (refused, reset-server) carry the kernel's reason
	grep '^closetrace_resets_sent_total{iface="s0"' "$d/b.scrape" | grep -v ' 0$' >&3
	[ "$(grep '^closetrace_resets_sent_total{iface="s0"' "$d/b.scrape" |
		awk '{s += $2} END {print s}')" -ge 17 ] &&
		grep -q '^closetrace_resets_sent_total{iface="s0",reason="no-socket"} 12$' \
			"$d/b.scrape"
}
check "resets_sent_total: the server's RSTs by the kernel's reason (no-socket for refusals)" \
	t_reasons

t_reasons_notrace() {
	# a mount namespace of its own where tracefs and debugfs are surely absent: the
	# reasons still come (from BTF), and every RST this host sends counts once
	ip netns exec "$NS_S" unshare -m --propagation private sh -c '
		umount -l /sys/kernel/tracing /sys/kernel/debug/tracing /sys/kernel/debug \
			2>/dev/null
		! grep -qE " (tracefs|debugfs) " /proc/self/mounts || exit 99
		exec "$@"' sh "$CT" -v watch -i s0 -o none --metrics "$PM" \
		>/dev/null 2>"$d/ut.err" &
	local w=$!
	wait_for "$d/ut.err" "watching " 5 || return 1
	ns_drive refused 2 && ns_drive reset-server 1 || return 1
	sleep 1.5
	scrape >"$d/ut.scrape"
	kill -INT $w
	wait $w || return 1
	grep '^closetrace_resets_sent_total{iface="s0"' "$d/ut.scrape" >&3
	grep -q '^closetrace_resets_sent_total{iface="s0",reason="no-socket"} 2$' "$d/ut.scrape" &&
		grep -q '^closetrace_resets_sent_total{iface="s0",reason="app-abort"} 1$' \
			"$d/ut.scrape" &&
		[ "$(grep '^closetrace_resets_sent_total{iface="s0"' "$d/ut.scrape" |
			grep -vc ' 0$')" = 2 ]
}
check "resets_sent_total without tracefs or debugfs: the RSTs sent by the kernel's reason" \
	t_reasons_notrace

t_none() {
	watch_start c -i s0 -o none --metrics "$PM" || return 1
	ns_drive refused 2 || return 1
	sleep 2
	scrape >"$d/c.scrape"
	ns_stop
	[ ! -s "$d/c.out" ] &&
		grep -q '^closetrace_closes_total{iface="s0",close="refused"} 2$' "$d/c.scrape"
}
check "-o none: no records on stdout, the metrics count them" t_none

t_top() {
	in_s "$CT" -v top -i s0 -b -n 4 -d 1 --metrics "$PM" --metrics-ports 8009 \
		>"$d/top.out" 2>"$d/top.err" &
	local tpid=$!
	wait_for "$d/top.err" "watching " 5 || return 1
	ns_drive refused 3 || return 1
	sleep 1.5
	scrape >"$d/top.scrape"
	wait $tpid || return 1
	grep -q '^closetrace_closes_total{iface="s0",close="refused"} 3$' "$d/top.scrape" &&
		grep -q '^closetrace_server_closes_total{iface="s0",port="8009",close="refused"} 3$' \
			"$d/top.scrape" && grep -q '^192.0.2.2:8009 ' "$d/top.out"
}
check "top --metrics: the same endpoint while the view runs" t_top

# --- bad input ------------------------------------------------------------------------
t_in_use() {
	# Prometheus holds $PP
	in_s "$CT" watch -i s0 --metrics "$PP" >"$d/inuse.out" 2>"$d/inuse.err"
	[ $? = 1 ] && [ "$(wc -l <"$d/inuse.err")" = 1 ] &&
		grep -q "closetrace: --metrics 127.0.0.1:$PP: the address is in use" "$d/inuse.err" &&
		! ct_hooked "$NS_S" s0
}
check "an address in use: one sentence, exit 1, nothing attached" t_in_use
t_malformed() {
	in_s "$CT" watch -i s0 --metrics 127.0.0.1:99999 2>"$d/bad.err"
	[ $? = 2 ] && ! ct_hooked "$NS_S" s0
}
check "a malformed port: exit 2, nothing attached" t_malformed

# A client that connects and sends nothing, 100 scrapes at once, and a 1 MB request: the
# events of connections made meanwhile still come out at once, and memory stays bounded.
t_hostile() {
	local i pids=() rss n
	watch_start h -i s0 --all -o json --metrics "$PM" || return 1
	in_s bash -c "exec 3<>/dev/tcp/127.0.0.1/$PM; sleep 12" &
	pids+=($!)
	head -c 1048576 /dev/zero | tr '\0' x >"$d/big"
	# a GET with a 1 MB body (read and dropped), and one with a 1 MB header (refused)
	in_s curl -s -o /dev/null -w '%{http_code}\n' -X GET --data-binary @"$d/big" \
		"http://127.0.0.1:$PM/metrics" >"$d/big.code" &
	pids+=($!)
	{ printf 'X-Big: '; head -c 1048000 "$d/big"; echo; } >"$d/bighdr"
	in_s curl -s -o /dev/null -w '%{http_code}\n' -H @"$d/bighdr" \
		"http://127.0.0.1:$PM/metrics" >"$d/bighdr.code" &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		in_s curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' \
			"http://127.0.0.1:$PM/metrics" >>"$d/many.codes" &
		pids+=($!)
	done
	ns_drive refused 5 || return 1
	# the events are out within a second of the last connection, while all that goes on
	wait_for "$d/h.out" "\"clt_port\":$((PORT - 1))," 1 || return 1
	wait "${pids[@]}"
	rss=$(awk '/^VmHWM/ {print $2}' "/proc/$(pgrep -f -n "closetrace -v watch -i s0")/status")
	ns_stop
	n=$(grep -c '^200$' "$d/many.codes")
	echo "# 100 concurrent scrapes: $n answered 200; 1 MB body: $(cat "$d/big.code"), 1 MB header: $(cat "$d/bighdr.code"); peak RSS ${rss} KiB" >&3
	[ "$n" = 100 ] && [ "$(grep -c refused "$d/h.out")" = 5 ] && [ "$rss" -lt 65536 ]
}
check "a silent client, 100 concurrent scrapes, a 1 MB request: events flow, memory bounded" \
	t_hostile

# Slowloris: 120 connections each holding half a request's headers, from one address (the
# scraper's too), then 120 from twenty loopback addresses that send a byte a second to look
# alive: a scrape meanwhile is answered within a second, and the closes still come out.
SLOW=$here/slowloris.py
t_slowloris() {
	local label=$1 srcs=$2 spid t n0
	shift 2
	watch_start slow -i s0 -o json --metrics "$PM" || return 1
	ip netns exec "$NS_S" python3 "$SLOW" "$PM" 120 "$srcs" "$@" >"$d/slow.$label" &
	spid=$!
	NS_PIDS+=("$spid")
	wait_for "$d/slow.$label" "connected 120" 10 || return 1
	sleep 2.5	# the attackers' connections are old by now: a real client's never are
	n0=$(grep -c refused "$d/slow.out")
	for i in 1 2 3; do
		t=$(in_s curl -s -o /dev/null --max-time 15 -w '%{http_code} %{time_total}' \
			"http://127.0.0.1:$PM/metrics")
		echo "# $label: scrape $i: $t" >&3
		[ "${t%% *}" = 200 ] && awk -v s="${t#* }" 'BEGIN { exit !(s < 1.0) }' || return 1
		ns_drive refused 1 || return 1
	done
	wait_for "$d/slow.out" "\"clt_port\":$((PORT - 1))," 1 || return 1
	kill "$spid"
	wait "$spid"
	echo "# $label: $(tail -1 "$d/slow.$label") of the 120 held connections, by the server" >&3
	ns_stop || return 1
	[ "$(grep -c refused "$d/slow.out")" = $((n0 + 3)) ]
}
check "slowloris, 120 half requests from the scraper's address: scrapes within 1 s, events flow" \
	t_slowloris one 127.0.0.1
check "slowloris, 120 dripping half requests from 20 addresses: scrapes within 1 s, events flow" \
	t_slowloris twenty "$(seq -s, -f '127.0.0.%g' 2 21)" --drip

# --- TLS and basic authentication (--web-config), scraped by a real Prometheus -----------
PT=9466 PP2=9091
t_tls_setup() {
	local h
	mkdir -p "$d/tls" && cd "$d/tls" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
		-subj "/CN=closetrace test CA" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=127.0.0.1" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile ext 2>/dev/null || { cd - >/dev/null; return 1; }
	cd - >/dev/null
	h=$(htpasswd -nbBC 10 prom s3cret | cut -d: -f2)
	# the paths relative to the file, as the exporters' web configuration has them
	printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n' >"$d/tls/web.yml"
	printf 'basic_auth_users:\n  prom: %s\n' "$h" >>"$d/tls/web.yml"
	watch_start tls -i s0 -o none --metrics "$PT" --web-config "$d/tls/web.yml" &&
		grep -q "metrics at https://127.0.0.1:$PT/metrics" "$d/tls.err"
}
check "watch --web-config: TLS and a bcrypt user, from the exporters' web configuration file" \
	t_tls_setup

t_tls_curl() {
	local ok bad none plain
	ok=$(in_s curl -s -o /dev/null -w '%{http_code}' --cacert "$d/tls/ca.pem" -u prom:s3cret \
		"https://127.0.0.1:$PT/metrics")
	bad=$(in_s curl -s -o /dev/null -w '%{http_code}' --cacert "$d/tls/ca.pem" -u prom:wrong \
		"https://127.0.0.1:$PT/metrics")
	none=$(in_s curl -s -D "$d/tls/hdr" -o /dev/null -w '%{http_code}' --cacert "$d/tls/ca.pem" \
		"https://127.0.0.1:$PT/metrics")
	plain=$(in_s curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PT/metrics")
	echo "# right password $ok, wrong $bad, none $none, plain HTTP $plain" >&3
	[ "$ok" = 200 ] && [ "$bad" = 401 ] && [ "$none" = 401 ] && [ "$plain" = 000 ] &&
		grep -qi '^WWW-Authenticate: Basic realm="closetrace"' "$d/tls/hdr"
}
check "over TLS: the right password 200, a wrong one or none 401 (Basic realm), plain HTTP refused" \
	t_tls_curl

t_tls_prometheus() {
	local i up bad err
	cat >"$d/prom-tls.yml" <<EOF
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: tls
    scheme: https
    tls_config: { ca_file: "$d/tls/ca.pem" }
    basic_auth: { username: prom, password: s3cret }
    static_configs: [ { targets: [ "127.0.0.1:$PT" ] } ]
  - job_name: wrong
    scheme: https
    tls_config: { ca_file: "$d/tls/ca.pem" }
    basic_auth: { username: prom, password: wrong }
    static_configs: [ { targets: [ "127.0.0.1:$PT" ] } ]
EOF
	ns_bg "$NS_S" prometheus --config.file="$d/prom-tls.yml" --storage.tsdb.path="$d/tsdb2" \
		--web.listen-address="127.0.0.1:$PP2" --log.level=warn >"$d/prom-tls.log" 2>&1
	ns_drive refused 2 || return 1
	for ((i = 0; i < 300; i++)); do
		up=$(in_s curl -s --get --data-urlencode \
			'query=up{job="tls"} * on() group_left() max(closetrace_closes_total{job="tls",close="refused"})' \
			"http://127.0.0.1:$PP2/api/v1/query" | jq -r '.data.result[0].value[1] // empty')
		bad=$(in_s curl -s --get --data-urlencode 'query=up{job="wrong"}' \
			"http://127.0.0.1:$PP2/api/v1/query" | jq -r '.data.result[0].value[1] // empty')
		[ "$up" = 2 ] && [ "$bad" = 0 ] && break
		sleep 0.1
	done
	err=$(in_s curl -s "http://127.0.0.1:$PP2/api/v1/targets" |
		jq -r '.data.activeTargets[] | select(.labels.job == "wrong") | .lastError')
	echo "# Prometheus over TLS with basic auth: up x refusals = $up; with a wrong password: up $bad, '$err'" >&3
	[ "$up" = 2 ] && [ "$bad" = 0 ] && grep -q 401 <<<"$err"
}
check "Prometheus scrapes it over TLS with basic auth (scheme https), and a wrong password gets 401" \
	t_tls_prometheus
check "the TLS watch exits 0 on SIGINT" ns_stop

t_clean() {
	! ct_hooked "$NS_S" s0 && none_loaded
}
check "nothing left attached or loaded" t_clean

done_testing
