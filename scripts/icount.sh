#!/bin/sh
# icount.sh counts the instructions a benchmark spends per iteration in one
# function, under valgrind's callgrind: unlike time, the count does not
# change with what else the machine is doing, so it compares two versions of
# hot code on a shared machine. It needs valgrind (Debian: valgrind).
#
#   scripts/icount.sh PKG BENCH N FUNC [go test flags...]
#   scripts/icount.sh ./internal/event 'Decode$' 1000 '*Decoder).Decode'
#   scripts/icount.sh ./internal/event 'Decode$' 1000 '*Decoder).Decode' -pgo=cmd/sightline/default.pgo
#
# It runs BENCH for N iterations (plus the one the testing package runs
# first) and prints the instructions executed inside FUNC (a callgrind
# --toggle-collect pattern) per iteration. One CPU and no asynchronous
# preemption keep the count repeatable; GOGC=off keeps the collector's work
# out of it.
set -eu
[ $# -ge 4 ] || { sed -n '2,12p' "$0"; exit 2; }
pkg=$1 bench=$2 n=$3 fn=$4
shift 4
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
go test -c -o "$tmp/bench.test" "$@" "$pkg"
cd "$pkg"
GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 GOGC=off valgrind --tool=callgrind --toggle-collect="$fn" \
	--callgrind-out-file="$tmp/callgrind.out" "$tmp/bench.test" -test.run '^$' -test.bench "$bench" \
	-test.benchtime "${n}x" >/dev/null 2>"$tmp/valgrind.log"
total=$(grep -a -o 'Collected : [0-9]*' "$tmp/valgrind.log" | grep -o '[0-9]*')
echo "$fn: $((total / (n + 1))) instructions per iteration"
