#!/usr/bin/env bash
# Runs a command with a one-node Slurm cluster up (scripts/slurm_cluster.sh, in a temporary
# folder) and ALAVERIFY_SLURM_CONF set for the Slurm tests; stops the daemons it started, by PID,
# however the command ends. Exits with the command's status.
#   scripts/with_slurm_cluster.sh make test
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
folder=$(mktemp -d /tmp/alaverify-slurm-XXXXXX)
cleanup() { "$here/slurm_cluster.sh" stop "$folder"; rm -rf "$folder"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$(date +%s%N)
eval "$("$here/slurm_cluster.sh" start "$folder")"
echo "slurm: one-node cluster up in $(( ($(date +%s%N) - start) / 1000000 )) ms ($SLURM_CONF)"
export ALAVERIFY_SLURM_CONF=$SLURM_CONF
unset SLURM_CONF
"$@"
