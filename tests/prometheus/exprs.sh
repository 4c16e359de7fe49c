#!/usr/bin/env bash
# exprs.sh - prints every PromQL expression of the example alert rules and the Grafana
# dashboard, one a line, ready to send to a Prometheus (promtool, or /api/v1/query):
# Grafana's interval variables become 5m, and $instance / $iface, which the dashboard only
# uses as whole regex matchers (instance=~"$instance"), match everything (".*").
# Fails, naming the expression, on anything it cannot turn into plain PromQL: an `expr:`
# not on one line, or a variable used another way. Needs jq.
#   usage: exprs.sh [ALERTS_YML [DASHBOARD_JSON]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
alerts=${1:-$here/../../examples/prometheus/alerts.yml}
dashboard=${2:-$here/../../examples/grafana/closetrace.json}

# Rules: one `expr:` line per alert or recording rule, the expression a plain YAML scalar
# (a quoted, folded or empty one would need a YAML parser to read right).
rules=$(grep -cE '^[[:space:]]*- (alert|record):' "$alerts" || true)
exprs=$(sed -n 's/^[[:space:]]*expr:[[:space:]]*//p' "$alerts")
n=$(grep -c . <<<"$exprs" || true)
if [ "$n" -ne "$rules" ]; then
	echo "exprs.sh: $alerts: $rules rules but $n one-line expr: lines" >&2
	exit 1
fi
if bad=$(grep -E "^(['\"|>]|$)" <<<"$exprs"); then
	echo "exprs.sh: $alerts: expr not a plain one-line scalar: $bad" >&2
	exit 1
fi

# Dashboard: every "expr" at any depth (panel targets, rows' nested panels)
dexprs=$(jq -r '.. | objects | select(has("expr")) | .expr | gsub("\n"; " ")' "$dashboard")

printf '%s\n%s\n' "$exprs" "$dexprs" | grep -v '^[[:space:]]*$' |
	sed -E -e 's/\$\{?__(rate_interval|interval|range)\}?/5m/g' \
		-e 's/=~"\$\{?(instance|iface)\}?"/=~".*"/g' |
	while IFS= read -r e; do
		if grep -qE '\$\{?[A-Za-z_]' <<<"$e"; then
			echo "exprs.sh: a Grafana variable is left (use it as a whole =~ matcher): $e" >&2
			exit 1
		fi
		printf '%s\n' "$e"
	done
