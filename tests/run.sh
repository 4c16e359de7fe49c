#!/usr/bin/env bash
# run.sh - runs the test programs given as arguments and prints one closing total. cmocka
# binaries are read from their "[  PASSED  ]"/"[  FAILED  ]"/"[  SKIPPED ]" lines, shell
# tests (*.sh) from their TAP lines ("ok", "not ok", "# SKIP"). Exit status: non-zero if a
# test failed, a program crashed or reported nothing, or anything was skipped while
# CLOSETRACE_REQUIRE_PRIV=1 (CI, where every privileged test must run). A program that
# runs past CLOSETRACE_TEST_TIMEOUT seconds (default 1200) is stopped and fails.
set -u
passed=0 failed=0 skipped=0 broken=0
# the longest any one test program may take (CLOSETRACE_TEST_TIMEOUT, seconds)
limit=${CLOSETRACE_TEST_TIMEOUT:-1200}
for t in "$@"; do
	name=${t##*/}
	# the unit tests run twice in make test: the second time built with the sanitizers
	case $t in */asan/*) name="$name (ASan+UBSan)" ;; esac
	echo "== $name"
	# a test that hangs (a wait on a process that never ends) fails, and the run goes on
	out=$(timeout -k 10 "$limit" "$t" 2>&1)
	rc=$?
	[ "$rc" = 124 ] && out+=$'\n'"run.sh: $name did not end within $limit s; stopped"
	printf '%s\n' "$out"
	case $t in
	*.sh)
		s=$(grep -c '^ok .*# SKIP' <<<"$out")
		p=$(($(grep -c '^ok ' <<<"$out") - s))
		f=$(grep -c '^not ok ' <<<"$out")
		[ "$((p + f + s))" -gt 0 ] || p=
		;;
	*)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -n1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -n1)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -n1)
		;;
	esac
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	# a crash, or a program that reported nothing, is a failure of its own
	if [ -z "$p$f" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
		echo "run.sh: $name exited $rc without reporting a failed test" >&2
		broken=$((broken + 1))
	fi
done
failed=$((failed + broken))
echo "closetrace tests: $passed passed, $failed failed, $skipped skipped"
if [ "${CLOSETRACE_REQUIRE_PRIV:-0}" = 1 ] && [ "$skipped" -gt 0 ]; then
	echo "run.sh: $skipped test(s) skipped with CLOSETRACE_REQUIRE_PRIV=1" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
