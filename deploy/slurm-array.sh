#!/usr/bin/env bash
# A voxelbench preset over many inputs on a Slurm cluster: one array task per shard
# (`voxelbench run <preset> --shard K/N`), then a merge job that starts once every shard has
# succeeded (`voxelbench merge`). Node and the repository (with `npm ci` done) on a shared
# filesystem; no container. Submit from a login node:
#
#   PRESET=motors INPUTS=/data/tomograms MODELS=/models/fold0.onnx,/models/fold1.onnx \
#   LABELS=/data/labels.csv OUT=/scratch/$USER/motors-run SHARDS=16 deploy/slurm-array.sh
#
# Variables (environment):
#   PRESET       preset id (voxelbench run --help lists them)                     [motors]
#   INPUTS       input files or folders, comma-separated                           (required)
#   MODELS       the models, comma-separated, for the flag MODEL_FLAG              (required)
#   MODEL_FLAG   the preset's model flag(s) (spine: "--seg"; add more roles to RUN_ARGS) [--models]
#   OUT          results folder on the shared filesystem: shard files, logs, batch files (required)
#   SHARDS       number of shards = array tasks                                    [8]
#   LABELS       labels file for the metric, given to merge                        (optional)
#   RUN_ARGS     more flags for every shard ("--quantile 0.5 --card /models/card.json")
#   ARRAY_LIMIT  at most this many shards at once (sbatch --array=1-N%LIMIT)       (optional)
#   SBATCH_ARGS  more sbatch flags for both jobs ("--partition=cpu --account=abc")  (optional)
#   REPO         the repository                                                    [this script's ..]
#   NODE         the node binary (>= 20)                                           [node]
# Every task writes <OUT>/shard-K-of-N.json (rows and the item files in <OUT>); merge writes the
# batch exports (submission.csv...) into <OUT> and prints the metric into <OUT>/logs/merge.log.
# A shard whose items all fail exits non-zero, and the merge job then never starts (afterok).
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=02:00:00
set -euo pipefail

# Inside a job Slurm runs a copy of this script from its spool folder: everything comes from the
# environment the submitting call exported.
voxelbench() {
  "${NODE:-node}" "$REPO/node_modules/tsx/dist/cli.mjs" "$REPO/src/cli/main.ts" "$@"
}

case "${1:-submit}" in
  --shard)
    K="${SLURM_ARRAY_TASK_ID:?--shard runs inside a Slurm array task}"
    # shellcheck disable=SC2086 # MODEL_FLAG and RUN_ARGS are lists of words
    voxelbench run "$PRESET" --inputs "$INPUTS" $MODEL_FLAG "$MODELS" --out "$OUT" --shard "$K/$SHARDS" --quiet ${RUN_ARGS:-}
    ;;
  --merge)
    voxelbench merge "$OUT" ${LABELS:+--labels "$LABELS"}
    ;;
  submit)
    export PRESET="${PRESET:-motors}" SHARDS="${SHARDS:-8}" MODEL_FLAG="${MODEL_FLAG:---models}" NODE="${NODE:-node}"
    export INPUTS="${INPUTS:?set INPUTS to the input files or folders}" MODELS="${MODELS:?set MODELS to the model files}"
    export OUT="${OUT:?set OUT to a results folder on the shared filesystem}" LABELS="${LABELS:-}" RUN_ARGS="${RUN_ARGS:-}"
    REPO="${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
    export REPO
    [[ -f "$REPO/node_modules/tsx/dist/cli.mjs" ]] || { echo "voxelbench: run 'npm ci' in $REPO first" >&2; exit 2; }
    mkdir -p "$OUT/logs"
    script="$REPO/deploy/slurm-array.sh"
    # shellcheck disable=SC2086 # SBATCH_ARGS is a list of words
    array=$(sbatch --parsable --export=ALL --job-name="voxelbench-$PRESET" --array="1-$SHARDS${ARRAY_LIMIT:+%$ARRAY_LIMIT}" \
      --output="$OUT/logs/shard-%a-of-$SHARDS.log" ${SBATCH_ARGS:-} "$script" --shard)
    array="${array%%;*}"
    # shellcheck disable=SC2086
    merge=$(sbatch --parsable --export=ALL --job-name="voxelbench-$PRESET-merge" --dependency="afterok:$array" \
      --output="$OUT/logs/merge.log" ${SBATCH_ARGS:-} "$script" --merge)
    echo "submitted: shards $array (array 1-$SHARDS), merge ${merge%%;*} after them; results in $OUT"
    ;;
  *)
    echo "usage: [VARIABLES] $0   (see the comments at the top)" >&2
    exit 2
    ;;
esac
