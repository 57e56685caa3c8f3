#!/usr/bin/env bash
# plot-storm.sh BENCH.json [OUT.svg]
#
# Draws the refresh-storm scenario of `latchkey-bench --json` (scenario 2): time to finish N
# concurrent requests meeting an expired token, and the refresh calls they caused, against N,
# for Latchkey and the naive client. Needs jq and gnuplot (Debian: jq gnuplot-nox; both in
# scripts/deps.sh). The output format follows the extension: .svg or .png.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 BENCH.json [OUT.svg|OUT.png]" >&2
  exit 64
fi
json=$1
out=${2:-docs/images/bench-storm.svg}
for tool in jq gnuplot; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (scripts/deps.sh)" >&2; exit 69; }
done

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# N, then per client: median time, min, max, median refresh calls. Latchkey's 401 variant when
# present (built-in server), else its restore variant.
jq -r '.scenarios.storm[] |
  (.latchkey401 // .latchkeyRestore) as $l |
  [.n,
   $l.timeMs.median, $l.timeMs.min, $l.timeMs.max, $l.refreshCalls.median,
   .naive.timeMs.median, .naive.timeMs.min, .naive.timeMs.max, .naive.refreshCalls.median,
   $l.freshMs.median] | @tsv' "$json" >"$data"
machine=$(jq -r '"\(.machine.cpus) CPUs, \(.machine.cpu), Qt \(.machine.qt)"' "$json")

case "$out" in
  *.png) terminal="pngcairo size 1000,420 font 'sans,10'" ;;
  *) terminal="svg size 1000,420 dynamic font 'sans,11'" ;;
esac
command -v gnuplot >/dev/null
gnuplot <<EOF
set terminal $terminal
set output '$out'
set multiplot layout 1,2 title "Refresh storm: N concurrent requests meet an expired access token ($machine)"
set logscale xy
set xrange [0.7:1500]
set xtics ("1" 1, "10" 10, "100" 100, "1000" 1000)
set key top left
set grid
set xlabel 'N (concurrent requests)'
set ylabel 'time to finish all N (ms, median, min–max)'
plot '$data' using 1:2:3:4 with yerrorlines lw 2 pt 7 title 'Latchkey', \
     '$data' using 1:6:7:8 with yerrorlines lw 2 pt 5 title 'naive client', \
     '$data' using 1:10 with linespoints dt 2 pt 6 title 'Latchkey, fresh token'
set ylabel 'refresh calls (server count)'
set yrange [0.7:2000]
plot '$data' using 1:5 with linespoints lw 2 pt 7 title 'Latchkey', \
     '$data' using 1:9 with linespoints lw 2 pt 5 title 'naive client'
unset multiplot
EOF
echo "wrote $out"
