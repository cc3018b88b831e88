#!/bin/sh
# readers/demo.sh BUILD_DIR: what `make demo` runs.
# Makes a small demo store with barbus-gen (once), replays two weeks of it
# through a bus with barbus-coordinator while barbus-upkeep derives 5m to 1h
# bars and fills gaps, follows it with barbus-sessions (one line per
# session), then shows a symbol's 1h bars and the bar quality.
set -e
b=$1
db=${BARBUS_DEMO_DB:-demo-db}
bus=demo-$$
from=2024-07-01
to=2024-07-12

cleanup() {
	[ -n "$reader" ] && kill "$reader" 2>/dev/null || true
	[ -n "$upkeep" ] && kill "$upkeep" 2>/dev/null || true
	rm -f /dev/shm/barbus.$bus.*
}
trap cleanup EXIT INT TERM

if [ ! -f "$db/data.mdb" ]; then
	echo "== making the demo store $db: 100 symbols, $from to $to"
	"$b/bin/barbus-gen" --db "$db" --symbols 100 --from $from --to $to \
		--seed 42 --missing-rate 0.01
fi
echo "== replaying $from to $to on bus $bus (July 4 is a holiday)"
"$b/bin/barbus-upkeep" --bus $bus --db "$db" --intervals 5m,15m,30m,1h \
	--gap-policy ffill &
upkeep=$!
"$b/bin/barbus-sessions" --bus $bus --wait 20 &
reader=$!
"$b/bin/barbus-coordinator" --bus $bus --db "$db" backtest \
	--from $from --to $to --speed max --history-days 2
wait $reader
reader=
wait $upkeep
upkeep=
echo "== the last session's 1h bars of SYM0001 (barbus-bars --interval 1h)"
"$b/bin/barbus-bars" --bus $bus --symbol SYM0001 --interval 1h
echo "== bar quality, first 5 symbols (barbus-bars --quality)"
"$b/bin/barbus-bars" --bus $bus --quality | head -6
echo "== what the bus did, at a glance (barbus-status, some of its lines)"
"$b/bin/barbus-status" --bus $bus | grep -E '^(session|counter\.(bars|prefetch|transition_max|upkeep)|upkeep\.)'
