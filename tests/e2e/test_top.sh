#!/usr/bin/env bash
# test_top.sh - `closetrace top` end to end, in namespaces the test makes (netns.sh).
# Batch mode over real connections is checked line by line; batch over a capture is
# checked against replay's own per-flow records summed with jq; the interactive view runs
# in a private tmux server, driven with send-keys and read with capture-pane: ranking,
# sort keys, grouping, the live filter with an error shown in place, pause, help, reset,
# a resize, and quit (or a signal) leaving a sane terminal and nothing attached. Past
# --max-flows and --max-groups, (other) holds the rest and the rows still add up. Batch
# output to a reader that stopped reading: frames dropped and said, the session going on,
# and SIGTERM, SIGINT or SIGHUP ending top within a second, as they end the screen.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
TMUX_SOCK=
cleanup() {
	[ -n "$TMUX_SOCK" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	ns_teardown
	rm -rf "$T_DIR"
}
trap cleanup EXIT
CT=${CLOSETRACE:-$here/../../build/closetrace}
DRIVE=$here/../../build/tests/tcpdrive
DATA=$here/../data
need_root
d=$T_DIR
export LANG=C.UTF-8 LC_ALL=C.UTF-8

for tool in tmux jq; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
check "namespaces and veth pairs are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5

PORT=43000
traffic() {
	ns_drive reset-server 4 && ns_drive refused 2 && ns_drive graceful 3 && ns_drive fin-reset 1
}

# --- batch mode, live ------------------------------------------------------------------
ip netns exec "$NS_S" "$CT" -v top -i s0 -b -n 4 -d 1 >"$d/batch.out" 2>"$d/batch.err" &
bpid=$!
# traffic once the programs are attached (-v says so)
wait_for "$d/batch.err" watching 10 || echo "# top did not start" >&3
traffic || echo "# driver failed" >&3
wait $bpid
check "top -b -n 4 exits 0" test $? = 0
check "top -b printed 4 frames" test "$(grep -c '^closetrace top - s0 (tc) - ' "$d/batch.out")" = 4
# the last frame, every line: all connections ended by then and still count
awk '/^closetrace top/{n++} n==4' "$d/batch.out" >"$d/last"
frame_ok() {
	local f=$d/last
	sed -n 1p $f | grep -Eq '^closetrace top - s0 \(tc\) - [0-9-]{10} [0-9:]{8} UTC - every 1\.0 s - window 60 s$' &&
	sed -n 2p $f | grep -Eq '^conn/s [0-9.]+  closes/s [0-9.]+: graceful [0-9.]+ refused [0-9.]+ reset-client [0-9.]+ reset-server [0-9.]+ fin-reset [0-9.]+ unanswered [0-9.]+ other [0-9.]+$' &&
	# 4 + 2 server RSTs (reset-server, refused), 1 client RST (fin-reset), over 10
	# connections
	sed -n 3p $f | grep -Eq '^RST/conn 0\.70 \(clt 0\.10 srv 0\.60\) over 10 conn  table [0-9]+/131072  ended kept [0-9]+  events lost 0$' &&
	sed -n 4p $f | grep -Eq '^RST/conn clt \[.*\] max [0-9.]+$' &&
	sed -n 5p $f | grep -Eq '^RST/conn srv \[.*[▁▂▃▄▅▆▇█].*\] max [0-9.]+$' &&
	sed -n 6p $f | grep -qx 'group server  sort RST.S  filter none' &&
	sed -n 7p $f | grep -qx '' &&
	sed -n 8p $f | grep -Eq '^SERVER +CONN +CT +SYN/C +FIN\.C +FIN\.S +RST\.C +RST\.S +REFUSED +RESETS +FINRST +UNANS +RST/C +LAST$' &&
	sed -n 9p $f | grep -Eq '^192\.0\.2\.2:8002 +4 +4 +1\.00 +0 +0 +0 +4 +0 +4 +0 +0 +1\.00  reset-server/app-abort [0-9]+s ago$' &&
	sed -n 10p $f | grep -Eq '^192\.0\.2\.2:8009 +2 +0 +1\.00 +0 +0 +0 +2 +2 +0 +0 +0 +1\.00  refused/no-socket [0-9]+s ago$' &&
	sed -n 11p $f | grep -Eq '^192\.0\.2\.2:8001 +3 +3 +1\.00 +3 +3 +0 +0 +0 +0 +0 +0 +0\.00  -$' &&
	sed -n 12p $f | grep -Eq '^192\.0\.2\.2:8003 +1 +1 +1\.00 +1 +0 +1 +0 +0 +0 +1 +0 +1\.00  fin-reset [0-9]+s ago$' &&
	sed -n 13p $f | grep -qx '' && [ "$(wc -l <$f)" = 13 ]
}
check "the last batch frame, line by line" frame_ok
[ "$T_FAIL" = 0 ] || sed 's/^/# /' "$d/last" >&3

check "batch with a filter and a grouping" bash -c "
	ip netns exec $NS_S $CT -v top -i s0 -b -n 2 -d 0.5 -g client-ip -s CONN \
		-f 'close = \"refused\" or close = \"reset-server\"' >$d/f.out 2>$d/f.err &
	$(declare -f wait_for); wait_for $d/f.err watching 5; PORT=$PORT
	ip netns exec $NS_C $DRIVE client refused $S4 $((PORT)) &&
	ip netns exec $NS_C $DRIVE client graceful $S4 $((PORT + 1)) && wait \$! 2>/dev/null; wait
	awk '/^closetrace top/{n++} n==2' $d/f.out >$d/f.last
	grep -q '^group client-ip  sort CONN  filter close = \"refused\" or close = \"reset-server\"\$' $d/f.last &&
	grep -Eq '^CLIENT IP +CONN ' $d/f.last &&
	grep -Eq '^192\.0\.2\.1 +1 +0 +1\.00 +0 +0 +0 +1 +1 ' $d/f.last"
PORT=$((PORT + 2))

check "a bad filter: caret under the column, exit 2" bash -c "
	$CT top -i lo -b -f 'rst.count > 0 and port.srv = 70000' 2>$d/bad.err; [ \$? = 2 ] &&
	grep -qx 'closetrace top: bad filter: port.srv takes 0 to 65535' $d/bad.err &&
	grep -qx '  rst.count > 0 and port.srv = 70000' $d/bad.err &&
	grep -qx \"\$(printf '%31s^' '')\" $d/bad.err"
check "usage errors exit 2" bash -c "
	$CT top -b 2>/dev/null; [ \$? = 2 ] || exit 1
	$CT top -i lo -r x.pcap 2>/dev/null; [ \$? = 2 ] || exit 1
	$CT top -i lo -d 0 2>/dev/null; [ \$? = 2 ] || exit 1
	$CT top -i lo -g nope 2>/dev/null; [ \$? = 2 ] || exit 1
	$CT top -i lo -s nope 2>/dev/null; [ \$? = 2 ]"
check "interactive view without a terminal: a clear error" bash -c "
	ip netns exec $NS_S $CT top -i s0 </dev/null >/dev/null 2>$d/tty.err; [ \$? = 1 ] &&
	grep -q 'needs a terminal; use -b' $d/tty.err"

check "batch: a reader that goes away (| head -3) ends top, status 0" bash -c "
	ip netns exec $NS_S timeout 10 $CT top -i s0 -b -d 0.2 2>$d/head.err | head -3 >/dev/null
	[ \${PIPESTATUS[0]} = 0 ] && ! ct_hooked $NS_S s0"

# nothing of closetrace on s0: no tcx link, tc filter nor XDP program (build/tests/hooks)
nothing_attached() { ! ct_hooked "$NS_S" s0; }

# a thread of PID blocked writing to a pipe
blocked_in_write() {
	grep -q pipe_write /proc/"$1"/task/*/wchan 2>/dev/null
}

# PID has exited (a zombie until waited for)
exited() {
	[ ! -e /proc/"$1" ] || [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ]
}

# t_stalled SIG: top -b live writes to a FIFO whose reader never reads. Once stdout is
# stuck, more refusals still reach the counters (the session drains the ring buffer);
# SIG ends top within 1 s, status 0, saying how many frames were dropped; nothing is left
# attached.
t_stalled() {
	local sig=$1 tpid reader t0 t1 rc n ms i
	rm -f "$d/stall"
	mkfifo "$d/stall"
	sleep 60 <"$d/stall" &
	reader=$!
	# flow rows: frames of several KiB, past the pipe's 64 KiB within a few frames
	ip netns exec "$NS_S" "$CT" -v top -i s0 -b -d 0.1 -g flow --metrics 9464 \
		>"$d/stall" 2>"$d/stall.$sig.err" &
	tpid=$!
	wait_for "$d/stall.$sig.err" "watching" 10 || return 1
	ns_drive refused 40 || return 1
	for ((i = 0; i < 100; i++)); do
		blocked_in_write $tpid && break
		sleep 0.1
	done
	blocked_in_write $tpid || { echo "stdout never stalled" >&2; return 1; }
	ns_drive refused 20 || return 1
	sleep 1.5
	n=$(ip netns exec "$NS_S" curl -s http://127.0.0.1:9464/metrics |
		sed -n 's/^closetrace_closes_total{iface="s0",close="refused"} //p')
	blocked_in_write $tpid || { echo "stdout no longer stalled" >&2; return 1; }
	t0=$(date +%s%N)
	kill -"$sig" $tpid
	# a top that hangs must not hang the test: 5 s, then SIGKILL
	for ((i = 0; i < 500; i++)); do
		exited $tpid && break
		sleep 0.01
	done
	t1=$(date +%s%N)
	exited $tpid || kill -KILL $tpid
	wait $tpid
	rc=$?
	kill $reader 2>/dev/null
	wait $reader 2>/dev/null
	ms=$(((t1 - t0) / 1000000))
	echo "# top -b, stdout stalled: $n refusals counted meanwhile; SIG$sig to exit $ms ms; $(grep 'frames were dropped' "$d/stall.$sig.err")" >&3
	[ "$n" = 60 ] && [ $rc = 0 ] && [ $ms -lt 1000 ] &&
		grep -Eq '[0-9]+ frames were dropped: stdout did not take them$' \
			"$d/stall.$sig.err" && nothing_attached
}
for sig in TERM INT HUP; do
	check "top -b, a reader that stops reading: closes still counted, SIG$sig ends top within 1 s" \
		t_stalled $sig
done

# --- batch over a capture, against replay's own records ---------------------------------
cap=$DATA/zeek/ssh_ssh.pcap
replay_sums() {
	# per server: CONN CT FIN.C FIN.S RST.C RST.S REFUSED, from every flow's final record
	# (or, with records=--all, from every close)
	# (a loss record, when the table was too small, is no connection)
	"$CT" replay ${records:---final} --all -o json $opts "$cap" 2>/dev/null | jq -rs '
		map(select(.type != "loss")) | group_by("\(.srv_ip):\(.srv_port)")[] |
		"\(.[0].srv_ip):\(.[0].srv_port) \(length) \(map(.ct) | add) \(map(.fin_clt) | add) \(map(.fin_srv) | add) \(map(.rst_clt) | add) \(map(.rst_srv) | add) \(map(select(.close == "refused")) | length)"' |
		sort
}
top_sums() {
	"$CT" top -r "$cap" -b $opts 2>/dev/null | awk 'f && NF {print $1, $2, $3, $5, $6, $7, $8, $9} /^SERVER /{f=1}' | sort
}
sums="$(declare -f replay_sums top_sums); cap=$cap CT=$CT"
check "top -r -b: per-server counts equal replay's flow records summed" bash -c "
	$sums; diff <(replay_sums) <(top_sums) >&2 && [ \$(top_sums | wc -l) -gt 5 ]"

# top -r takes replay's options: on a capture with more connections open at once than a
# small table holds, and SYNs repeated after a short SYN timeout, its totals equal replay's
# with the same options, and differ from what the defaults give. Flows evicted after their
# close have no final record, so the closes are what top's counts equal here. The server
# RSTs of evicted flows start flows of their own, joined midstream: their roles come from
# the ports (80, 443 and 8080 are servers' ports), so each server's row has all 1000 of its
# connections and RSTs, none taken for a client's.
python3 "$here/../cli/pcapgen.py" pressure "$d/pressure.pcap" 3000
sums="$(declare -f replay_sums top_sums); cap=$d/pressure.pcap CT=$CT"
opts="--table-size 1024 --syn-timeout 2 --idle-timeout 60"
check "top -r with --table-size, --syn-timeout, --idle-timeout: per-server counts equal replay's" bash -c "
	$sums; opts='$opts' records=--all; replay_sums >$d/p.replay; top_sums >$d/p.top
	diff $d/p.replay $d/p.top >&2 &&
	[ \"\$(awk '\$2 == 1000 && \$7 == 1000 {print \$1}' $d/p.top | sort | tr '\n' ' ')\" = \
		'10.2.0.2:443 10.2.0.2:80 10.2.0.2:8080 ' ]"
check "... and its total of connections equals replay's records" bash -c "
	n=\$('$CT' replay --all -o json $opts $d/pressure.pcap 2>/dev/null | grep -c '\"type\":\"close\"')
	'$CT' top -r $d/pressure.pcap -b $opts 2>/dev/null | grep -q \"over \$n conn\" && [ \$n -gt 1000 ]"
check "... and the options change the result (not the defaults)" bash -c "
	$sums; opts=; top_sums >$d/p.default; ! cmp -s $d/p.default $d/p.top &&
	grep -q ':80 1000 1000 ' $d/p.default"
check "... and the evictions are said once, naming --table-size" bash -c "
	'$CT' top -r $d/pressure.pcap -b $opts 2>&1 >/dev/null | grep -q 'raise --table-size'"
# a storm summarised: its closes go to (other), and the total stays every connection
python3 "$here/../cli/pcapgen.py" storm "$d/storm.pcap" 5000
check "top -r -b --storm-rate: the summarised closes said, in (other), the total exact" bash -c "
	'$CT' top -r $d/storm.pcap -b --storm-rate 100 >$d/storm.top 2>/dev/null
	s=\$('$CT' replay -o json --storm-rate 100 $d/storm.pcap 2>/dev/null |
		jq -s '[.[] | select(.type == \"summary\") | .count] | add')
	grep -q 'over 5130 conn' $d/storm.top && grep -q \"^storm: \$s closes summarised in (other)\" $d/storm.top &&
	grep -q '^(other) ' $d/storm.top"
# past the caps: the flows beyond --max-flows are folded, the groups beyond --max-groups
# summed, both into (other), the last row; the rows still add up to every connection and
# every RST (flows folded while open, then closed, count once)
check "top -r -b past --max-flows and --max-groups: the caps said, (other) last, rows add up" bash -c "
	n=\$('$CT' replay --all -o json $opts $d/pressure.pcap 2>/dev/null | grep -c '\"type\":\"close\"')
	rst=\$('$CT' replay --all -o json $opts $d/pressure.pcap 2>/dev/null | jq -rs '
		map(select(.type == \"close\")) | \"\\(map(.rst_clt) | add) \\(map(.rst_srv) | add)\"')
	'$CT' top -r $d/pressure.pcap -b $opts -g client-ip --max-flows 100 --max-groups 10 \
		>$d/caps.out 2>/dev/null
	kept=\$(sed -n 's/^RST.conn .* over [0-9]* conn  flows \([0-9]*\)\$/\1/p' $d/caps.out)
	grep -q \"over \$n conn  flows \$kept\$\" $d/caps.out &&
	grep -Eq \"^over caps: flows folded \$((n - kept)) \\(--max-flows 100\\) of which open [0-9]+  groups in \\(other\\) [0-9]+ \\(--max-groups 10\\)\$\" $d/caps.out &&
	tail -2 $d/caps.out | head -1 | grep -q '^(other) ' &&
	[ \$(awk 'f && NF {r++} /^CLIENT IP /{f=1} END {print r}' $d/caps.out) = 11 ] &&
	[ \$(awk 'f && NF {s += \$2} /^CLIENT IP /{f=1} END {print s}' $d/caps.out) = \$n ] &&
	[ \"\$(awk 'f && NF {c += \$7; s += \$8} /^CLIENT IP /{f=1} END {print c, s}' $d/caps.out)\" = \"\$rst\" ] &&
	[ \$n -gt 1000 ]"
# a capture: totals, not rates; LAST before the capture's end; no key hints
check "top -r -b: totals of the capture, LAST before its end, no key hints" bash -c "
	$CT top -r $DATA/zeek/pop3_pop3.pcap -b >$d/pop3.top 2>/dev/null &&
	grep -qx 'conn 11  closes 11: graceful 5 refused 6 reset-client 0 reset-server 0 fin-reset 0 unanswered 0 other 0' $d/pop3.top &&
	[ \$(grep -c '  refused 2m before end\$' $d/pop3.top) = 2 ] && ! grep -q ' ago\$' $d/pop3.top &&
	grep -qx 'group server  sort RST.S  filter none' $d/pop3.top && ! grep -q '(/)\|(g)\|(< >)' $d/pop3.top"
check "top -r of what is not a capture: its error alone, no frame, exit 1" bash -c "
	$CT top -r $here/../README.md -b >$d/notcap.out 2>$d/notcap.err; [ \$? = 1 ] &&
	[ ! -s $d/notcap.out ] && [ \$(wc -l <$d/notcap.err) = 1 ] &&
	grep -q 'not a pcap or pcapng capture' $d/notcap.err &&
	$CT top -r $d/nonexistent.pcap -b >$d/notcap.out 2>/dev/null; [ \$? = 1 ] && [ ! -s $d/notcap.out ]"
check "top -r -b -n 2 prints two frames" bash -c "
	[ \$($CT top -r $cap -b -n 2 2>/dev/null | grep -c '^closetrace top - ssh_ssh.pcap (replay)') = 2 ]"

# --- the interactive view in tmux ---------------------------------------------------------
# a private server whose socket lives in the test's directory, removed with it
TMUX_SOCK=$d/tmux.sock
tm() { tmux -S "$TMUX_SOCK" "$@"; }
pane() { tm capture-pane -p -t top; }
# until PATTERN shows in the pane (extended regex), for up to SECONDS
screen_has() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		pane | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$1'; the screen:" >&2
	pane >&2
	return 1
}
# the first table row, once the table is there
first_row() { pane | awk 'f && NF {print; exit} /^(SERVER|CLIENT|SERVER IP|CLIENT IP|TUNNEL) /{f=1}'; }

check "tmux starts a shell" tm -f /dev/null new-session -d -s top -x 150 -y 40 \
	"env -i PATH=$PATH HOME=/root TERM=screen LANG=C.UTF-8 bash --norc --noprofile -i"
tm send-keys -t top "PS1='sh$ '; stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo|isig)\$' | sort | tr '\n' ' ' >$d/stty.before; echo" Enter
tm send-keys -t top "ip netns exec $NS_S $CT top -i s0 -d 0.5; echo top-exit=\$?" Enter
check "the view comes up" screen_has '^closetrace top - s0 \(tc\)' 10
traffic || echo "# driver failed" >&3
check "servers ranked by server RST: the aborting server first" screen_has '^192\.0\.2\.2:8002 +4 +4 ' 10
check "the sparkline shows server RSTs" screen_has '^RST/conn srv \[.*[▁▂▃▄▅▆▇█]' 5
pane >"$d/screen.ranked"
check "the sort column is RST.S" screen_has 'sort RST\.S \(s < >\)' 1
tm send-keys -t top '>'
check "> sorts by the next column, REFUSED: the refusing port first" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has 'sort REFUSED' 5 && first_row | grep -Eq '^192\.0\.2\.2:8009 '"
tm send-keys -t top '<' '<'
check "< < sorts by RST.C: the fin-reset port first" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has 'sort RST\.C' 5 && first_row | grep -Eq '^192\.0\.2\.2:8003 '"
tm send-keys -t top '>'
tm send-keys -t top g
check "g groups by server IP: one row with all 10 connections" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has '^SERVER IP +CONN' 5 && first_row | grep -Eq '^192\.0\.2\.2 +10 +'"
tm send-keys -t top g
check "g again groups by client IP" screen_has '^CLIENT IP +CONN.*' 5
tm send-keys -t top g
check "g again groups by flow" screen_has '^CLIENT > SERVER +CONN' 5
check "flows show client > server" screen_has '^192\.0\.2\.1:[0-9]+ > 192\.0\.2\.2:8002 ' 5
tm send-keys -t top g
# this host's processes: the servers' (tcpdrive), and refusals by the port nobody listens on
check "g again groups by app: the servers' process, the refused port" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has '^APP +CONN' 5 && screen_has '^tcpdrive ' 1 && screen_has '^no listener on :8009 ' 1"
tm send-keys -t top g
check "g again groups by unit" screen_has '^UNIT +CONN' 5
tm send-keys -t top g
check "g again groups by client zone: its /24" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has '^CLIENT ZONE +CONN' 5 && first_row | grep -Eq '^192\.0\.2\.0/24 +10 +'"
tm send-keys -t top g
check "g again groups by server zone" screen_has '^SERVER ZONE +CONN' 5
tm send-keys -t top g
check "g again groups by tunnel: none here, one row" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has '^TUNNEL +CONN' 5 && first_row | grep -Eq '^\(no tunnel\) +'"
tm send-keys -t top g
check "g again is back to servers" screen_has '^SERVER +CONN' 5
tm send-keys -t top / C-u
check "/ edits the filter beside its label" screen_has '^group server \(g\)  sort RST\.S \(s < >\)  filter:$' 5
tm send-keys -t top 'port.srv = 70000' Enter
check "/ with a bad filter: the error in place, under the filter" \
	screen_has '^ +\^ port\.srv takes 0 to 65535$' 5
check "... its caret under the column" bash -c "
	$(declare -f pane tm); TMUX_SOCK=$TMUX_SOCK
	line=\$(pane | grep -A1 '  filter: port.srv = 70000\$')
	g=\$(head -1 <<<\"\$line\") e=\$(tail -1 <<<\"\$line\")
	pre=\${g%%filter: *}
	[ \"\${e%%^*}\" = \"\$(printf '%*s' \$((\${#pre} + 8 + 11)) '')\" ]"
tm send-keys -t top BSpace
check "... and gone as soon as the text changes" bash -c "
	$(declare -f screen_has pane tm); TMUX_SOCK=$TMUX_SOCK
	screen_has 'filter: port\.srv = 7000\$' 5 && ! pane | grep -q 'takes 0 to 65535'"
tm send-keys -t top C-u 'port.srv = 8009' Enter
check "a good filter applies: only the refusing port is left" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has 'filter port\.srv = 8009 \(/\)' 5 && first_row | grep -Eq '^192\.0\.2\.2:8009 +2 ' &&
	[ \$(pane | grep -c '^192\.0\.2\.2:') = 1 ]"
tm send-keys -t top / C-u Enter
check "an empty filter clears it" screen_has 'filter none \(/\)' 5
tm send-keys -t top p
check "p pauses" screen_has ' - PAUSED$' 5
tm send-keys -t top p
check "p again resumes" bash -c "
	$(declare -f pane tm); TMUX_SOCK=$TMUX_SOCK; sleep 1.2; ! pane | grep -q PAUSED"
tm send-keys -t top '?'
check "? shows the keys" screen_has '^  g +group by server' 5
tm send-keys -t top x
check "any key closes the help" screen_has '^SERVER +CONN' 5
tm send-keys -t top s
check "s opens the sort menu: every column, what it counts" bash -c "
	$(declare -f screen_has pane tm); TMUX_SOCK=$TMUX_SOCK
	screen_has '^sort by: ' 5 && pane | grep -Eq '^> g  RST\.S +RSTs the servers sent' &&
	[ \$(pane | grep -Ec '^[ >] [a-m]  ') = 13 ]"
tm send-keys -t top h
check "... its letter chooses: h sorts by REFUSED, the refusing port first" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has 'sort REFUSED \(s < >\)' 5 && first_row | grep -Eq '^192\.0\.2\.2:8009 '"
tm send-keys -t top s Down Down Down Enter
check "... or Down and Enter: UNANS" screen_has 'sort UNANS \(s < >\)' 5
tm send-keys -t top s Escape
check "... Esc keeps the sort" bash -c "
	$(declare -f screen_has pane tm); TMUX_SOCK=$TMUX_SOCK
	sleep 0.3; screen_has 'sort UNANS \(s < >\)' 5 && ! pane | grep -q '^sort by: '"
tm send-keys -t top s g
# 80x24: the least telling columns go first; CONN, REFUSED, UNANS, RST/C and LAST stay
tm resize-window -t top -x 80 -y 24
check "at 80x24 UNANS, RST/C and LAST stay; FIN.C, FIN.S and CT go" bash -c "
	$(declare -f screen_has pane tm); TMUX_SOCK=$TMUX_SOCK
	screen_has '^SERVER +CONN .*REFUSED .*UNANS +RST/C +LAST$' 5 &&
	! pane | grep -Eq '^SERVER .*(FIN\.C|FIN\.S| CT )' &&
	pane | grep -Eq '^192\.0\.2\.2:8002 +4 ' &&
	[ \$(pane | awk '{ if (length(\$0) > m) m = length(\$0) } END { print m }') -le 80 ]"
tm send-keys -t top s d
check "... a column left out comes back when it is the sort column (FIN.C)" \
	screen_has '^SERVER +CONN .*FIN\.C .*LAST$' 5
tm send-keys -t top s g
tm resize-window -t top -x 150 -y 40
tm resize-window -t top -x 90 -y 20
check "a resize redraws to the new width" bash -c "
	$(declare -f screen_has pane tm); TMUX_SOCK=$TMUX_SOCK
	screen_has '^SERVER +CONN' 5 && sleep 0.6 &&
	[ \$(pane | awk '{ if (length(\$0) > m) m = length(\$0) } END { print m }') -le 90 ] &&
	[ \$(pane | wc -l) -le 20 ] && pane | grep -q '^closetrace top - s0'"
# the kernel table empties once the ended flows linger out (5 s); reset then forgets them
check "the table empties in the kernel" screen_has 'table 0/131072' 15
tm send-keys -t top r
check "r resets: ended flows and the history are forgotten" bash -c "
	$(declare -f screen_has pane tm first_row); TMUX_SOCK=$TMUX_SOCK
	screen_has 'over 0 conn' 5 && [ -z \"\$(first_row)\" ]"
tm send-keys -t top q
check "q quits with status 0" screen_has '^top-exit=0$' 5
tm send-keys -t top "stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo|isig)\$' | sort | tr '\n' ' ' >$d/stty.after; echo" Enter
check "the terminal is as before (icanon, echo, isig)" bash -c "
	sleep 0.5; [ -s $d/stty.after ] && diff $d/stty.before $d/stty.after >&2 &&
	grep -q '^echo icanon isig' $d/stty.after"
check "nothing is left attached to s0" bash -c "
	! ct_hooked $NS_S s0"

# a terminal ncurses does not know: one sentence, status 1, nothing left attached
tm send-keys -t top "TERM=no-such-term ip netns exec $NS_S $CT top -i s0; echo top-exit=\$?" Enter
check "an unknown terminal: a clear error, status 1" screen_has "^closetrace top: cannot drive terminal 'no-such-term'" 10
check "... status 1" screen_has '^top-exit=1$' 5
check "... and nothing left attached to s0" bash -c "
	! ct_hooked $NS_S s0"
tm send-keys -t top clear Enter

# a signal instead of q: the terminal is restored too, within 1 s of the signal
t_screen_signal() {
	local sig=$1 delay=$2 pid t0 t1 i
	tm send-keys -t top clear Enter
	tm send-keys -t top "ip netns exec $NS_S $CT top -i s0 -d $delay; echo top-exit=\$?" Enter
	screen_has '^closetrace top - s0 \(tc\)' 10 || return 1
	pid=$(pgrep -f "^$CT top -i s0 -d $delay\$") || return 1
	t0=$(date +%s%N)
	kill -"$sig" "$pid"
	for ((i = 0; i < 500; i++)); do
		exited "$pid" && break
		sleep 0.01
	done
	t1=$(date +%s%N)
	exited "$pid" || { kill -KILL "$pid"; return 1; }
	echo "# the screen: SIG$sig to exit $(((t1 - t0) / 1000000)) ms" >&3
	[ $(((t1 - t0) / 1000000)) -lt 1000 ] && screen_has '^top-exit=0$' 5 || return 1
	tm send-keys -t top "stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo|isig)\$' | sort | tr '\n' ' ' >$d/stty.$sig; echo" Enter
	sleep 0.5
	diff "$d/stty.before" "$d/stty.$sig" >&2 && nothing_attached
}
check "SIGTERM ends the screen within 1 s, status 0, the terminal restored, nothing attached" \
	t_screen_signal TERM 0.5
check "SIGHUP too" t_screen_signal HUP 0.6
check "SIGINT too" t_screen_signal INT 0.7
tm kill-server
TMUX_SOCK=
done_testing
