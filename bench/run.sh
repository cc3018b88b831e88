#!/bin/sh
# bench/run.sh BUILD_DIR: runs every benchmark program in BUILD_DIR/bench/
# (ring_bench first, then the others in name order), showing their output as
# it comes, then reprints together, at the very end, every line of the form
# `name value unit` that they printed. Exit status: 1 if any program failed.
b=${1:-build}
dir=$b/bench
if [ ! -d "$dir" ]; then
	echo "run.sh: no $dir; build with: make bench" >&2
	exit 2
fi
log=$(mktemp); all=$(mktemp)
trap 'rm -f "$log" "$all"' EXIT INT TERM
figure='^[a-z0-9_.]+ [-0-9.eE+]+ [A-Za-z/%]+$'

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
echo "command: make bench ($(date -u '+%Y-%m-%d %H:%M UTC'))"
failed=0
progs=$( { [ -x "$dir/ring_bench" ] && echo "$dir/ring_bench"
           for p in "$dir"/*; do
               case $p in *.d|*.o|*/ring_bench) continue ;; esac
               [ -f "$p" ] && [ -x "$p" ] && echo "$p"
           done; } )
for p in $progs; do
	name=$(basename "$p")
	echo
	echo "==== $name"
	start=$(date +%s)
	# Output is shown as it comes (tee) and kept for the summary.
	{ "$p"; echo $? > "$log.rc"; } 2>&1 | tee "$log"
	rc=$(cat "$log.rc" 2>/dev/null || echo 1); rm -f "$log.rc"
	echo "==== $name: exit $rc, $(( $(date +%s) - start )) s"
	[ "$rc" -ne 0 ] && failed=1
	grep -E "$figure" "$log" >> "$all"
done

echo
echo "==== figures (name value unit)"
cat "$all"
exit $failed
