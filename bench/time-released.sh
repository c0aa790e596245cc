#!/usr/bin/env bash
# Times bin/mae reconstruct and explain on a ViT-L-shaped checkpoint written the way the official
# mae_visualize_vit_large.pth is (torch.save({'model': state_dict}), random weights: never show its pictures as
# the model's), with the heap capped at 4 GB, and shows where the time goes (JFR samples by kernel).
#   bench/time-released.sh [IMAGE]            (needs /usr/bin/python3 with torch for the checkpoint, once)
# Run it on a quiet machine: the load average is printed before and after.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CK=${CK:-/tmp/mae_visualize_vit_large.pth}
IMG=${1:-$ROOT/tests/src/test/resources/released/photo.png}
[ -s "$CK" ] || /usr/bin/python3 tests/reference/make_released_fixtures.py --big large --out "$CK"
bin/mae --help > /dev/null 2>&1                       # build first, outside the timings
heap() { grep -o "[0-9]*M->[0-9]*M([0-9]*M)" "$1" | awk -F'[->M(]' '{if($1>m)m=$1} END{print "  largest heap before a GC: " m " MB"}'; }
echo "load average before: $(cat /proc/loadavg)"
for i in 1 2 3; do
  MAE_JAVA_OPTS="-Xmx4g -Xlog:gc:file=/tmp/time-rec-gc.log" /usr/bin/time -f "reconstruct: wall %e s, max RSS %M KB" \
    bin/mae reconstruct --checkpoint "$CK" --image "$IMG" --out /tmp/time-rec.png 2>&1 | grep "^time\|wall"
  heap /tmp/time-rec-gc.log
done
for i in 1 2; do
  MAE_JAVA_OPTS="-Xmx4g -Xlog:gc:file=/tmp/time-exp-gc.log" /usr/bin/time -f "explain: wall %e s, max RSS %M KB" \
    bin/mae explain --checkpoint "$CK" --image "$IMG" --out /tmp/time-explain 2>&1 | grep "^time\|wall"
  heap /tmp/time-exp-gc.log
done
echo "load average after: $(cat /proc/loadavg)"
echo "where the time goes (JFR samples of one more run each, all threads):"
MAE_JAVA_OPTS="-Xmx4g -XX:StartFlightRecording=filename=/tmp/time-rec.jfr,settings=profile" bin/mae reconstruct --checkpoint "$CK" --image "$IMG" --out /tmp/time-rec.png > /dev/null 2>&1
echo " reconstruct:"; python3 bench/jfr_categories.py /tmp/time-rec.jfr
MAE_JAVA_OPTS="-Xmx4g -XX:StartFlightRecording=filename=/tmp/time-exp.jfr,settings=profile" bin/mae explain --checkpoint "$CK" --image "$IMG" --out /tmp/time-explain > /dev/null 2>&1
echo " explain:"; python3 bench/jfr_categories.py /tmp/time-exp.jfr
