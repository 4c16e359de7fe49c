#!/usr/bin/env bash
# test_layers.sh - the house plan of user/ (ARCHITECTURE.md), checked on every #include:
# include/ <- lib <- model <- {kernel, io} <- run <- cli. An include may point down or
# stay in its folder, never up; kernel/ and io/ never include each other; only cli/ sees
# the option structs (options.h); the BPF sources (bpf/) and the skeletons are kernel/'s.
# Run by make check; it fails on the first rule broken, naming the file and line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
user=$(cd "$here/../../user" && pwd)
top=$(cd "$here/../.." && pwd)

declare -A RANK=([include]=0 [lib]=1 [model]=2 [kernel]=3 [io]=3 [run]=4 [cli]=5)
LAYERS="lib model kernel io run cli"

# where a header lives: a layer of user/, include, bpf, skel (generated), or system
declare -A HOME_OF
index_headers() {
	local l h
	for l in $LAYERS; do
		for h in "$user/$l"/*.h; do
			[ -e "$h" ] && HOME_OF[$(basename "$h")]=$l
		done
	done
	for h in "$top"/include/*.h; do HOME_OF[$(basename "$h")]=include; done
	for h in "$top"/bpf/*.h; do HOME_OF[$(basename "$h")]=bpf; done
}

t_layout() {
	local l n=0
	for l in $LAYERS; do
		[ -d "$user/$l" ] || { echo "no user/$l"; return 1; }
		n=$((n + $(ls "$user/$l" | grep -c '\.[ch]$')))
	done
	# every source is in a layer: nothing left at the top of user/
	[ -z "$(ls "$user" | grep '\.[ch]$')" ] || { echo "sources at the top of user/: $(ls "$user" | grep '\.[ch]$' | xargs)"; return 1; }
	echo "# $n files in $(echo $LAYERS | wc -w) layers" >&3
}
check "every source of user/ is in a layer folder" t_layout

t_includes() {
	local l f inc home bad=0 n=0 line
	index_headers
	for l in $LAYERS; do
		for f in "$user/$l"/*.[ch]; do
			[ -e "$f" ] || continue
			while IFS=: read -r line inc; do
				inc=${inc#*\"}
				inc=${inc%\"*}
				n=$((n + 1))
				case $inc in
				*.skel.h) home=kernel ;;
				*) home=${HOME_OF[$inc]:-} ;;
				esac
				if [ -z "$home" ]; then
					echo "user/$l/$(basename "$f"):$line: \"$inc\" is no header of the project"
					bad=1
				elif [ "$home" = bpf ]; then
					[ "$l" = kernel ] || { echo "user/$l/$(basename "$f"):$line: \"$inc\" is the BPF side's, for kernel/ only"; bad=1; }
				elif [ "$inc" = options.h ] && [ "$l" != cli ]; then
					echo "user/$l/$(basename "$f"):$line: options.h is cli/'s alone"
					bad=1
				elif [ "$home" != "$l" ] && [ "${RANK[$home]}" -ge "${RANK[$l]}" ]; then
					echo "user/$l/$(basename "$f"):$line: \"$inc\" ($home/) points up or across from $l/"
					bad=1
				fi
			done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include /\1:/')
		done
	done
	echo "# $n includes checked" >&3
	return $bad
}
check "no include points up, or across between kernel/ and io/; options.h only in cli/" \
	t_includes

# the check itself: a file that breaks the rule is caught (in a copy of the tree)
t_catches() {
	local copy=$T_DIR/tree out
	mkdir -p "$copy/tests" && cp -r "$top/user" "$top/include" "$top/bpf" "$copy/" &&
		cp -r "$top/tests/cli" "$copy/tests/" || return 1
	sed -i '0,/^#include "/s//#include "session.h"\n#include "/' "$copy/user/model/record.c"
	out=$(CT_LAYERS_INNER=1 bash "$copy/tests/cli/test_layers.sh" 2>&1)
	grep -q 'user/model/record.c:[0-9]*: "session.h" (run/) points up or across from model/' \
		<<<"$out" || { echo "$out"; return 1; }
}
[ -z "${CT_LAYERS_INNER:-}" ] && check "a model/ file that includes run/ is caught" t_catches

done_testing
