#!/usr/bin/env bash
# check.sh - the Prometheus and Grafana examples, checked with nothing but promtool and jq
# (TAP): the scrape config and the alert rules load without errors or lint warnings, the
# alert unit tests pass and cover each alert both ways, the dashboard is valid JSON with
# its variables, and every PromQL expression of either parses and names only metrics
# closetrace exports. Runs from any directory; skips when promtool or jq is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
top=$here/../..
CONFIG=$top/examples/prometheus/prometheus.yml
ALERTS=$top/examples/prometheus/alerts.yml
UNIT=$here/alerts_test.yml
DASH=$top/examples/grafana/closetrace.json
d=$T_DIR

for tool in promtool jq; do
	if ! command -v "$tool" >/dev/null; then
		echo "ok 1 - all skipped # SKIP $tool not installed (promtool: Debian package prometheus)"
		echo "1..1"
		exit 0
	fi
done

# the metric names closetrace exports, and Prometheus's own `up`
METRICS="closetrace_closes_total closetrace_tcp_flags_total closetrace_resets_sent_total
closetrace_handshakes_total closetrace_flows_created_total closetrace_packets_total
closetrace_flow_table_entries closetrace_flow_table_capacity closetrace_events_lost_total
closetrace_flows_evicted_total closetrace_flows_untracked_total closetrace_closes_summarised_total
closetrace_owners_untracked_total closetrace_app_closes_total
closetrace_build_info closetrace_server_closes_total
process_cpu_seconds_total process_resident_memory_bytes process_start_time_seconds
process_open_fds up"

# promtool says SUCCESS and nothing that looks like a warning
promtool_clean() {
	local out
	out=$("$@" 2>&1)
	local rc=$?
	printf '%s\n' "$out"
	[ "$rc" -eq 0 ] && grep -q SUCCESS <<<"$out" && ! grep -qiE 'warn|lint|error' <<<"$out"
}

# each alert has for:, a severity label, a summary and a description
t_alert_fields() {
	awk '/^[[:space:]]*- (alert|record):/ { flush(); name = $3; n = 0; next }
	     name != "" && /^[[:space:]]*(for|severity|summary|description):/ { n++ }
	     function flush() { if (name != "" && n != 4) { print name ": " n " of for, severity, summary, description"; bad = 1 } }
	     END { flush(); exit bad }' "$ALERTS"
}

# every alert of alerts.yml has a case where it fires and one where it stays quiet
t_unit_coverage() {
	local a bad=0
	while read -r a; do
		awk -v a="$a" '/alertname:/ { cur = $2 }
			cur == a && /exp_alerts:[[:space:]]*\[\]/ { quiet = 1 }
			cur == a && /exp_alerts:[[:space:]]*$/ { fires = 1 }
			END { if (!quiet) print a ": no case where it stays quiet"
			      if (!fires) print a ": no case where it fires"
			      exit !(quiet && fires) }' "$UNIT" || bad=1
	done < <(sed -n 's/^[[:space:]]*- alert:[[:space:]]*//p' "$ALERTS")
	return $bad
}

# the dashboard's data source and filter variables, and every query using them
t_dash_variables() {
	jq -e '[.templating.list[] | {(.name): .type}] | add
	       | .datasource == "datasource" and .instance == "query" and .iface == "query"' "$DASH" &&
	jq -e '[.. | objects | select(has("targets")) | .datasource.uid] | all(. == "${datasource}")' "$DASH" &&
	jq -e '[.. | objects | select(has("expr")) | .expr] | length > 0 and
	       all(contains("instance=~\"$instance\""))' "$DASH"
}

# the config is valid and loads the rules, which it resolves relative to itself
t_config() {
	promtool_clean promtool check config "$CONFIG" &&
		promtool check config "$CONFIG" 2>&1 | grep -qE 'SUCCESS: [1-9][0-9]* rule files found'
}

check "promtool check config examples/prometheus/prometheus.yml (and its rule_files)" t_config
check "promtool check rules examples/prometheus/alerts.yml (lint: all)" \
	promtool_clean promtool check rules --lint=all --lint-fatal "$ALERTS"
check "alerts have for:, severity, summary and description" t_alert_fields
check "promtool test rules tests/prometheus/alerts_test.yml" promtool_clean promtool test rules "$UNIT"
check "the unit tests make each alert fire and stay quiet" t_unit_coverage
check "jq . examples/grafana/closetrace.json" jq empty "$DASH"
check "dashboard: datasource, instance and iface variables, used by every query" t_dash_variables

# Every expression, variables substituted, becomes one recording rule of a rules file
# (JSON is YAML) that promtool parses: promtool 2.42 cannot check a bare expression.
t_exprs_sh() { "$here/exprs.sh" "$ALERTS" "$DASH" >"$d/exprs"; }
check "exprs.sh reads the alert and dashboard expressions" t_exprs_sh
n=$(grep -c . "$d/exprs")
na=$(grep -cE '^[[:space:]]*- alert:' "$ALERTS")
nd=$(jq '[.. | objects | select(has("expr"))] | length' "$DASH" 2>/dev/null || echo 0)
jq -Rn '{groups: [{name: "exprs", rules: [inputs] | to_entries
	 | map({record: "closetrace_check:expr_\(.key + 1)", expr: .value})}]}' \
	<"$d/exprs" >"$d/exprs.rules.json"
t_exprs_parse() {
	if [ "$n" -eq 0 ] || [ "$n" -ne $((na + nd)) ]; then
		echo "$n expressions, expected $na + $nd"
		return 1
	fi
	local out
	out=$(promtool check rules --lint=none "$d/exprs.rules.json" 2>&1) && return 0
	# promtool names rules by number: say which expressions they are
	printf '%s\n' "$out" | grep -vE '^[[:space:]]*$'
	sed -n 's/.*rule \([0-9]*\), .*/\1/p' <<<"$out" | while read -r i; do
		echo "expression $i: $(sed -n "${i}p" "$d/exprs")"
	done
	return 1
}
check "$n PromQL expressions parse ($na alert rules, $nd dashboard queries)" t_exprs_parse

t_known_metrics() {
	local m bad=0
	# names before a selector's {, and any closetrace_ name (also those without braces)
	for m in $( (grep -oE '[a-zA-Z_:][a-zA-Z0-9_:]*\{' "$d/exprs" | tr -d '{'
		grep -oE 'closetrace_[a-z_]+' "$d/exprs") | sort -u); do
		grep -qw -- "$m" <<<"$METRICS" || { echo "unknown metric: $m"; bad=1; }
	done
	[ -s "$d/exprs" ] && return $bad
}
check "the expressions name only metrics closetrace exports" t_known_metrics

done_testing
