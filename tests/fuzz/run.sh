#!/usr/bin/env bash
# run.sh - runs each libFuzzer harness for a bounded time and reports in TAP, one line per
# fuzzer: fuzz_filter (the filter language) and fuzz_pcap (the capture reader). The
# fuzzers are the arguments, or fuzz_filter and fuzz_pcap under ${BUILD:-build}/fuzz when
# called without any (as tests/run.sh does). Each runs on a copy of its seeds, so they stay
# as they are: tests/fuzz/corpus for the filter; tests/fuzz/corpus_pcap and the captures of
# tests/data (cut to -max_len) for the reader. The random seed is fixed, so a run is
# reproducible up to where the time limit stops it. A reproducer of a finding is kept in
# the fuzzer's directory. Exit status: non-zero on a finding or when a fuzzer cannot run.
#
# CLOSETRACE_FUZZ_SECS: seconds per fuzzer (30); CLOSETRACE_FUZZ_SEED: libFuzzer's -seed (1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${CLOSETRACE_FUZZ_SECS:-30}
seed=${CLOSETRACE_FUZZ_SEED:-1}
if [ $# -ge 1 ]; then
	bins=("$@")
else
	build=${BUILD:-build}
	case $build in
	/*) ;;
	*) build=$root/$build ;;
	esac
	bins=("$build/fuzz/fuzz_filter" "$build/fuzz/fuzz_pcap")
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0

# seeds NAME DIR: copies the seeds of fuzzer NAME into DIR; prints its -max_len
seeds() {
	case $1 in
	fuzz_filter)
		cp "$here"/corpus/* "$2/"
		echo 512
		;;
	fuzz_pcap)
		cp "$here"/corpus_pcap/* "$2/"
		for f in "$root"/tests/data/*/*.pcap "$root"/tests/data/*/*.pcapng \
			"$root"/tests/data/*/*.trace; do
			[ -e "$f" ] && cp "$f" "$2/data-${f##*/}"
		done
		echo 4096
		;;
	*)
		return 1
		;;
	esac
}

for bin in "${bins[@]}"; do
	n=$((n + 1))
	name=${bin##*/}
	work=$tmp/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $name: no fuzzer at $bin (make $bin)"
		bad=1
		continue
	fi
	if ! maxlen=$(seeds "$name" "$work/corpus"); then
		echo "not ok $n - $name: no seeds known for it"
		bad=1
		continue
	fi

	"$bin" -max_total_time="$secs" -seed="$seed" -max_len="$maxlen" -timeout=5 \
		-rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" "$work/corpus" \
		>"$work/log" 2>&1
	rc=$?

	done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$work/log" | tail -n1)
	runs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/p' <<<"$done_line")
	time=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/p' <<<"$done_line")
	found=$(ls -A "$work/artifacts")

	if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ -z "$found" ]; then
		echo "ok $n - $name: $runs runs in $time s (seed $seed), no finding"
		continue
	fi

	bad=1
	echo "not ok $n - $name: exit status $rc${runs:+ after $runs runs in $time s} (seed $seed)"
	# keep the reproducers next to the fuzzer: the temporary directory goes away
	for a in $found; do
		cp "$work/artifacts/$a" "$(dirname "$bin")/" &&
			echo "# reproducer: $(dirname "$bin")/$a (run: $bin $(dirname "$bin")/$a)"
	done
	tail -n 30 "$work/log" | sed 's/^/# /'
done
echo "1..$n"
exit "$bad"
