#!/bin/sh
# readers/demo.sh BUILD_DIR: what `make demo` runs.
# Makes a small demo store with barbus-gen (once), replays two weeks of it
# through a bus with barbus-coordinator, and follows it with barbus-sessions,
# which prints one line per session.
set -e
b=$1
db=${BARBUS_DEMO_DB:-demo-db}
bus=demo-$$
from=2024-07-01
to=2024-07-12

cleanup() {
	[ -n "$reader" ] && kill "$reader" 2>/dev/null || true
	rm -f /dev/shm/barbus.$bus.*
}
trap cleanup EXIT INT TERM

if [ ! -f "$db/data.mdb" ]; then
	echo "== making the demo store $db: 100 symbols, $from to $to"
	"$b/bin/barbus-gen" --db "$db" --symbols 100 --from $from --to $to \
		--seed 42 --missing-rate 0.01
fi
echo "== replaying $from to $to on bus $bus (July 4 is a holiday)"
"$b/bin/barbus-sessions" --bus $bus --wait 20 &
reader=$!
"$b/bin/barbus-coordinator" --bus $bus --db "$db" backtest \
	--from $from --to $to --speed max --history-days 2
wait $reader
reader=
