#!/bin/sh
# Runs a command pinned to one CPU, the first of those this process may use: what a Slurm task
# with --cpus-per-task=1 gets. TBB and OpenMP size themselves from that affinity.
set -e
first=$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')
exec taskset -c "$first" "$@"
