#!/bin/sh
# tests/run.sh BUILD_DIR [unit] [stress] [fuzz]: runs the Criterion suites,
# the plain stress programs and the fuzz corpus replays, then prints one
# closing "N passed, N failed" line.
# Each program's own closing line is parsed; a program that dies counts as a
# failure even if it printed nothing.
b=$1; shift
passed=0; failed=0; log=$(mktemp); trap 'rm -f "$log"' EXIT INT TERM

count() { # $1: program, $2: kind
	name=$(basename "$1")
	start=$(date +%s)
	"$1" >"$log" 2>&1; rc=$?
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
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ -z "$line" ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name ($p passed, $f failed, exit $rc, ${secs}s)"
		sed 's/^/    /' "$log" | tail -n 60
	else
		echo "ok   $name ($p passed, ${secs}s)"
	fi
}

for kind in "$@"; do
	case $kind in
	unit)   dir=$b/tests ;;
	stress) dir=$b/stress ;;
	fuzz)   dir=$b/fuzz ;;   # the fuzz corpora replayed (tests/fuzz/replay.c)
	*) echo "run.sh: unknown kind $kind" >&2; exit 2 ;;
	esac
	[ -d "$dir" ] || continue
	for t in "$dir"/*; do
		case $t in *.d|*.o) continue ;; esac
		[ -x "$t" ] && count "$t" "$kind"
	done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
