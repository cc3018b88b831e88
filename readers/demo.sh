#!/bin/sh
# readers/demo.sh BUILD_DIR: what `make demo` runs.
# Makes a small demo store with barbus-gen (once), replays two weeks of it
# through a bus with barbus-coordinator while barbus-upkeep derives 5m to 1h
# bars and fills gaps, follows it with barbus-sessions (one line per
# session), then shows a symbol's 1h bars and the bar quality. Then a
# short live run: the last day of the store, in time order, through a FIFO
# into a live coordinator (feed clock) on a fresh store, with three bars sent
# late and a stall in the middle, and that session's quality; then the
# live bus as barbus-status --json shows it to monitoring. Last, the
# Python example strategy (readers/python/examples/ma_crossover.py) follows
# one session replayed at full speed.
set -e
b=$1
db=${BARBUS_DEMO_DB:-demo-db}
bus=demo-$$
lbus=demo-live-$$
pbus=demo-py-$$
from=2024-07-01
to=2024-07-12
tmp=$(mktemp -d)

cleanup() {
	[ -n "$reader" ] && kill "$reader" 2>/dev/null || true
	[ -n "$upkeep" ] && kill "$upkeep" 2>/dev/null || true
	[ -n "$coord" ] && kill "$coord" 2>/dev/null || true
	[ -n "$strategy" ] && kill "$strategy" 2>/dev/null || true
	shm=${BB_SHM_DIR:-/dev/shm}
	rm -f "$shm"/barbus.$bus.* "$shm"/barbus.$lbus.* "$shm"/barbus.$pbus.*
	rm -rf "$tmp"
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

echo "== live: $to through a FIFO, feed clock, 3 bars late, a 2 s stall (no-data-timeout 1)"
"$b/bin/barbus-export" --db "$db" --from $to --to $to > "$tmp/day.csv"
late='^SYM000[234],2024-07-12T14:00:00Z,'
tail -n +2 "$tmp/day.csv" | sort -t, -k2,2 -s > "$tmp/sorted"
{ head -1 "$tmp/day.csv"
  grep -vE "$late" "$tmp/sorted" | awk -F, '$2 < "2024-07-12T14:06"'
  grep -E "$late" "$tmp/sorted"; } > "$tmp/part1"
grep -vE "$late" "$tmp/sorted" | awk -F, '$2 >= "2024-07-12T14:06"' > "$tmp/part2"
mkfifo "$tmp/feed"
mkdir "$tmp/live-db"
"$b/bin/barbus-coordinator" --bus $lbus --db "$tmp/live-db" --history-days 0 \
	live --feed "$tmp/feed" --clock feed --no-data-timeout 1 2> "$tmp/co.err" &
coord=$!
# The upkeep once the coordinator made the store and the bus; the feed
# once the upkeep follows.
until "$b/bin/barbus-status" --bus $lbus >/dev/null 2>&1; do sleep 0.05; done
"$b/bin/barbus-upkeep" --bus $lbus --db "$tmp/live-db" 2>/dev/null &
upkeep=$!
until "$b/bin/barbus-status" --bus $lbus | grep -q '^upkeep.state'; do
	sleep 0.05
done
exec 3>&1
{ cat "$tmp/part1"
  sleep 2
  echo "-- during the stall (barbus-status):" >&3
  "$b/bin/barbus-status" --bus $lbus |
	grep -E '^(session\.(state|stalled_since)|counter\.stalls)' >&3
  cat "$tmp/part2"; } > "$tmp/feed"
wait $coord
coord=
for i in $(seq 100); do
	"$b/bin/barbus-status" --bus $lbus | grep -q "^upkeep.done_date $to" && break
	sleep 0.1
done
kill $upkeep 2>/dev/null || true
wait $upkeep 2>/dev/null || true
upkeep=
echo "-- what the coordinator said (stderr, but for its closing line):"
grep -E 'stalled|late' "$tmp/co.err" || true
echo "-- the session's end and counters (barbus-status):"
"$b/bin/barbus-status" --bus $lbus |
	grep -E '^(session\.state|counter\.(bars|feed_late|stalls|feed_duplicates))'
echo "-- SYM0003's late bar at 14:00 (barbus-bars, 14:00 row):"
"$b/bin/barbus-bars" --bus $lbus --symbol SYM0003 --interval 1m | grep -E '^(symbol|SYM0003,2024-07-12T14:00)'
echo "-- bar quality of the live session, first 5 symbols (barbus-bars --quality)"
"$b/bin/barbus-bars" --bus $lbus --quality | head -6
echo "-- the live bus as monitoring sees it (barbus-status --json, worst 3 symbols)"
"$b/bin/barbus-status" --bus $lbus --json --symbols worst:3

py=${PYTHON:-/usr/bin/python3}
echo "== Python: the moving-average crossover example follows $to (bus $pbus)"
if [ -x "$py" ]; then
	BARBUS_LIB=$b/libbarbus.so "$py" readers/python/examples/ma_crossover.py \
		--bus $pbus --sessions 1 --symbols SYM0001,SYM0002,SYM0003 --trades 6 &
	strategy=$!
	"$b/bin/barbus-coordinator" --bus $pbus --db "$db" --history-days 0 \
		backtest --from $to --to $to --speed max 2>/dev/null
	wait $strategy
	strategy=
else
	echo "(no $py: skipped)"
fi
