#!/usr/bin/env python3
"""POT on the points that `ot_bench --dump DIR` wrote, printing what ot_bench prints.

    python3 tools/bench/ot_pot.py DIR [--sizes 500,1000,2000] [--dim 128] [--reg 0.01]
                                      [--sinkhorn-iter 1000] [--no-sinkhorn]

Same conventions as ot_bench: squared Euclidean cost, uniform masses, Sinkhorn on M / M.max()
with reg on that scale and its cost reported as sum(G * M). ot.emd gets a pivot limit high
enough to finish (its default of 100000 stops large problems early).
"""
import argparse
import os
import time

import numpy as np
import ot


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--reg", type=float, default=0.01)
    parser.add_argument("--sinkhorn-iter", type=int, default=1000)
    parser.add_argument("--no-sinkhorn", action="store_true")
    args = parser.parse_args()

    for n in (int(s) for s in args.sizes.split(",")):
        def points(name):
            path = os.path.join(args.dir, f"{name}_{n}.f32")
            return np.fromfile(path, dtype="<f4").reshape(n, args.dim).astype(np.float64)

        x, y = points("x"), points("y")
        start = time.perf_counter()
        M = ot.dist(x, y)  # squared Euclidean
        print(f"n={n} dim={args.dim} solver=cost time_s={time.perf_counter() - start:.4f}")
        a = b = np.full(n, 1.0 / n)

        start = time.perf_counter()
        G, log = ot.emd(a, b, M, numItermax=100_000_000, log=True)
        elapsed = time.perf_counter() - start
        converged = int(not log.get("warning"))
        print(f"n={n} dim={args.dim} solver=emd time_s={elapsed:.4f} cost={np.sum(G * M):.12g} "
              f"iterations=NA converged={converged}", flush=True)

        if args.no_sinkhorn:
            continue
        largest = M.max()
        # 'sinkhorn_log' is POT's log-domain method (0.8+); older ones have only 'sinkhorn'.
        method = "sinkhorn_log" if hasattr(ot.bregman, "sinkhorn_log") else "sinkhorn"
        start = time.perf_counter()
        G, log = ot.sinkhorn(a, b, M / largest, args.reg, method=method,
                             numItermax=args.sinkhorn_iter, stopThr=1e-9, log=True)
        elapsed = time.perf_counter() - start
        iterations = log.get("niter", "NA")
        print(f"n={n} dim={args.dim} solver=sinkhorn reg={args.reg:g} time_s={elapsed:.4f} "
              f"cost={np.sum(G * M):.12g} iterations={iterations} method={method}", flush=True)


if __name__ == "__main__":
    main()
