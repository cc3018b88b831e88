#!/bin/sh
# readers/demo.sh BUILD_DIR: what `make demo` runs.
set -e
b=$1
exec "$b/bin/barbus-ringdemo" --bars 3000000
