#!/bin/sh
# tests/run.sh BUILD_DIR [unit] [stress] [fuzz] [python]: runs the Criterion
# suites, the plain stress programs, the fuzz corpus replays and pytest over
# the Python package (readers/python/tests), then prints one
# closing "N passed, N failed" line.
# Last, one more check: no barbus.* segment the run made is left in the
# shared-memory directory. Other runs may share it, so a segment counts as
# made by a program of this run when it appeared while the program ran and
# its name holds the program's pid (stress programs name their buses so),
# or, for the short Criterion and fuzz programs (whose forked workers name
# them), a pid given out meanwhile; one a live writer holds is not counted.
# Each program's own closing line is parsed. A failure, named, is also: a
# program that dies, one that ran no check at all (unless it printed a line
# "skipped: why", listed as a skip), and a test source whose program is not
# built or cannot be run.
b=$1; shift
passed=0; failed=0; skipped=0; log=$(mktemp)
trap 'rm -f "$log" "$log.pre" "$log.made" "$log.pid"' EXIT INT TERM
shm=${BB_SHM_DIR:-/dev/shm}
segments() { ls "$shm" 2>/dev/null | grep '^barbus\.' | sort; }
: > "$log.made"

# Segments that appeared since $log.pre and name a pid in [$1, $2].
made_between() {
	segments | comm -13 "$log.pre" - | while read -r seg; do
		for n in $(echo "$seg" | grep -o '[0-9][0-9]*'); do
			if { [ "$1" -le "$2" ] && [ "$n" -ge "$1" ] && [ "$n" -le "$2" ]; } ||
			   { [ "$1" -gt "$2" ] && { [ "$n" -ge "$1" ] || [ "$n" -le "$2" ]; }; }; then
				echo "$seg"
				break
			fi
		done
	done
}

fail_line() { # $1: name, $2: why
	echo "FAIL $1 ($2)"
	failed=$((failed + 1))
}

count() { # $1: program, $2: kind
	name=$(basename "$1")
	start=$(date +%s)
	segments > "$log.pre"
	# In the foreground (a background job would ignore SIGINT), its pid
	# from the shell it is exec'd from.
	sh -c 'echo $$ > "$1"; exec "$0"' "$1" "$log.pid" >"$log" 2>&1; rc=$?
	first=$(cat "$log.pid")
	if [ "$2" = stress ]; then
		made_between "$first" "$first" >> "$log.made"
	else
		made_between "$first" "$(sh -c 'echo $$')" >> "$log.made"
	fi
	secs=$(( $(date +%s) - start ))
	if [ "$2" = unit ]; then
		line=$(grep 'Synthesis:' "$log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
		f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
		f=$(( $(echo "$f" | awk '{print $1 + $2}') + 0 ))
	else
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	fi
	p=${p:-0}; f=${f:-0}
	skip=$(grep -m 1 '^skipped: ' "$log")
	if [ -n "$skip" ] && [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "skip $name (${skip#skipped: })"
		skipped=$((skipped + 1))
		return
	fi
	why=""
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; why="exit $rc"; fi
	if [ -z "$line" ] && [ "$f" -eq 0 ]; then f=1; why="no closing line"; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; why="ran no checks"; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name ($p passed, $f failed, exit $rc, ${secs}s${why:+, $why})"
		sed 's/^/    /' "$log" | tail -n 60
	else
		echo "ok   $name ($p passed, ${secs}s)"
	fi
}

# pytest over readers/python/tests against this build: its closing line
# ("N passed, N failed in Ss") is shown and counted; exit 5 (no tests
# collected) is a failure like any other non-zero exit.
run_pytest() {
	start=$(date +%s)
	BARBUS_BUILD=$b "${PYTHON:-/usr/bin/python3}" -m pytest -q \
		-p no:cacheprovider readers/python/tests >"$log" 2>&1; rc=$?
	secs=$(( $(date +%s) - start ))
	line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p')
	e=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) error.*/\1/p')
	p=${p:-0}; f=$(( ${f:-0} + ${e:-0} ))
	why=""
	[ "$rc" -eq 5 ] && why="no tests collected"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; why=${why:-"exit $rc"}; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL pytest ($p passed, $f failed, exit $rc, ${secs}s${why:+, $why})"
		sed 's/^/    /' "$log" | tail -n 60
	else
		echo "ok   pytest ($p passed, ${secs}s)"
	fi
	echo "pytest: ${line:-no closing line}"
}

for kind in "$@"; do
	case $kind in
	python) run_pytest; continue ;;
	unit)   dir=$b/tests;  src=tests/*_test.c ;;
	stress) dir=$b/stress; src=tests/stress/*.c ;;
	fuzz)   dir=$b/fuzz;   src= ;; # the fuzz corpora replayed (tests/fuzz/replay.c)
	*) echo "run.sh: unknown kind $kind" >&2; exit 2 ;;
	esac
	# Every test source must have a runnable program.
	for s in $src; do
		[ -e "$s" ] || continue
		t=$dir/$(basename "$s" .c)
		[ -f "$t" ] && [ -x "$t" ] || fail_line "$(basename "$s" .c)" \
			"$s: no runnable program at $t"
	done
	[ -d "$dir" ] || continue
	for t in "$dir"/*; do
		case $t in *.d|*.o) continue ;; esac
		if [ -f "$t" ] && [ -x "$t" ]; then
			count "$t" "$kind"
		else
			fail_line "$(basename "$t")" "cannot be run"
		fi
	done
done
# Segments the run made and still there, but for live writers'.
segments > "$log.pre"
left=$(sort -u "$log.made" | comm -12 - "$log.pre")
live=$("$b/bin/barbus-bus" list 2>/dev/null | awk '$NF ~ /^live/ { print $1 }')
for bus in $live; do
	left=$(echo "$left" | grep -v "^barbus\.$bus\." || true)
done
if [ -n "$left" ]; then
	fail_line shm-leftovers "segments left in $shm: $(echo $left | cut -c1-300)"
else
	echo "ok   shm-leftovers (no segment of the run left in $shm)"
	passed=$((passed + 1))
fi
echo "$passed passed, $failed failed${skipped:+, $skipped skipped}" | sed 's/, 0 skipped$//'
[ "$failed" -eq 0 ]
