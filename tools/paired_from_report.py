#!/usr/bin/env python3
# Usage: python3 tools/paired_from_report.py REPORT.json
# For reports kept without their run folders (docs/results/): each group's final target accuracy
# minus Adam's at the same other keys, paired by seed, with the 95 % Student-t interval that
# gda report computes (pipeline/sweep/report.cpp, MeanCi); * where it excludes 0.
import json, math, sys
# Paired Δ vs adam with the 95 % t-interval from a gda report.json's per-seed final accuracies.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}
j = json.load(open(sys.argv[1])); axis = sys.argv[2] if len(sys.argv) > 2 else None
def key(g): return tuple((k, v) for k, v in sorted(g['point'].items()) if k != 'optimizer.name')
runs = {(g['point'].get('optimizer.name'), key(g)): {r['seed']: r['final_target_accuracy'] for r in g['runs'] if r['status'] == 'ok'} for g in j['groups']}
for (name, rest), seeds in runs.items():
    base = runs.get(('adam', rest))
    if not base or name == 'adam': continue
    d = [100 * (seeds[s] - base[s]) for s in seeds if s in base]
    n = len(d); m = sum(d) / n; sd = math.sqrt(sum((x - m) ** 2 for x in d) / (n - 1)); h = T975[n - 1] * sd / math.sqrt(n)
    print(name, dict(rest), f"{m:+.1f} [{m-h:+.1f}, {m+h:+.1f}]{' *' if m-h > 0 or m+h < 0 else ''}")
