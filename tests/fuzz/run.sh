#!/usr/bin/env bash
# run.sh - fuzzes the filter language for a bounded time and reports in TAP. The fuzzer
# binary is $1, or ${BUILD:-build}/fuzz/fuzz_filter when called without arguments (as
# tests/run.sh does). It runs on a copy of tests/fuzz/corpus, so the seeds stay as they
# are; a reproducer of a finding is kept in the fuzzer's directory. Exit status: non-zero
# on a finding or when the fuzzer cannot run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${CLOSETRACE_FUZZ_SECS:-30}
if [ $# -ge 1 ]; then
	bin=$1
else
	build=${BUILD:-build}
	case $build in
	/*) bin=$build/fuzz/fuzz_filter ;;
	*) bin=$root/$build/fuzz/fuzz_filter ;;
	esac
fi

if [ ! -x "$bin" ]; then
	echo "not ok 1 - fuzz_filter: no fuzzer at $bin (make $bin)"
	echo "1..1"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
cp "$here"/corpus/* "$tmp/corpus/"

"$bin" -max_total_time="$secs" -max_len=512 -timeout=5 -rss_limit_mb=2048 \
	-artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/log" 2>&1
rc=$?

done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$tmp/log" | tail -n1)
runs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/p' <<<"$done_line")
time=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/p' <<<"$done_line")
found=$(ls -A "$tmp/artifacts")

if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ -z "$found" ]; then
	echo "ok 1 - fuzz_filter: $runs runs in $time s, no finding"
	echo "1..1"
	exit 0
fi

echo "not ok 1 - fuzz_filter: exit status $rc${runs:+ after $runs runs in $time s}"
# keep the reproducers next to the fuzzer: the temporary directory goes away
for a in $found; do
	cp "$tmp/artifacts/$a" "$(dirname "$bin")/" &&
		echo "# reproducer: $(dirname "$bin")/$a (run: $bin $(dirname "$bin")/$a)"
done
tail -n 30 "$tmp/log" | sed 's/^/# /'
echo "1..1"
exit 1
