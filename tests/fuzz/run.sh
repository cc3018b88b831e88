#!/bin/sh
# tests/fuzz/run.sh BUILD_DIR SECONDS: runs every harness of BUILD_DIR/fuzz
# (built with libFuzzer, ASan and UBSan by `make fuzz`) for SECONDS each,
# one after the other. Each starts from its seeds in tests/fuzz/<harness>/
# (replayed first, so a crash once fixed is checked again) and the inputs
# it found in earlier runs (BUILD_DIR/fuzz-corpus/<harness>/). A crash,
# leak, timeout or broken check stops that harness and leaves its input in
# BUILD_DIR/fuzz-crashes/<harness>/; the script ends with
# "N passed, N failed" and fails if any harness found something.
b=$1; secs=${2:-600}
passed=0; failed=0
for bin in "$b"/fuzz/*; do
	case $bin in *.d|*.o) continue ;; esac
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus=$b/fuzz-corpus/$name; crashes=$b/fuzz-crashes/$name
	log=$b/fuzz-logs/$name.log
	mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
	start=$(date +%s)
	# stdout and stderr of the code under test closed (-close_fd_mask=3):
	# libFuzzer and the sanitizers still report on their own descriptor.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$corpus" "tests/fuzz/$name" \
		>"$log" 2>&1 &
	pid=$!
	wait $pid; rc=$?
	# A harness that died leaves its bus (names carry its pid).
	rm -rf /dev/shm/barbus.fuzz-*-"$pid".* /dev/shm/fuzz-*-"$pid"-*
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	secs_taken=$(( $(date +%s) - start ))
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok   fuzz/$name (${runs:-?} runs, ${secs_taken}s)"
	else
		failed=$((failed + 1))
		echo "FAIL fuzz/$name (exit $rc, ${secs_taken}s): input in $crashes/"
		grep -v '^#[0-9]' "$log" | tail -n 40 | sed 's/^/    /'
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
