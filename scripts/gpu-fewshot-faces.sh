#!/usr/bin/env bash
# GPU figures of issues 6 (few-shot) and 7 (faces), in one prepared run on a CUDA machine:
#   1. few-shot training speed, pairwise against the equivalent PyTorch loop
#      (bench/fewshot_speed.py --device "$DEVICE"), alone on the GPU;
#   2. face training speed and the cost of the UNPG term (ORL, ArcFace with and without UNPG, at
#      the CPU config's batch of 40 and at a batch of 240), each model verified on the held-out
#      ORL identities;
#   3. Omniglot at the paper's episode size (configs/omniglot-*-paper.toml) and the
#      self-supervised pair (configs/omniglot-{simclr,amcl}-gpu.toml), trained side by side on the
#      one GPU with a step count derived from the speed measured in 1, then evaluated on 1000
#      episodes per setting, with and without the rotated evaluation classes.
#
#   scripts/gpu-fewshot-faces.sh [RESULTS_DIR]      # default docs/results
#
# Env: PAIRWISE_BIN (default target/release/pairwise), PYTHON_BENCH (a python with torch, default
# .venv/bin/python), TRAIN_SECONDS (wall budget of step 3's training, default 180), RUNS_DIR
# (default runs/gpu), FACES=0 skips step 2, FEWSHOT_RUNS picks step 3's configs (empty: none; default
# "protonet-paper protonet-paper-1shot proto-triplet-paper icnn-paper simclr-gpu amcl-gpu"), SEEDS
# trains each of them once per seed (e.g. FACES=0 SEEDS="1 2 3" FEWSHOT_RUNS="simclr-tau02-gpu
# amcl-tau01-gpu": the bounded AMCL against SimCLR at its best temperature, three seeds).
# Data from ../shared/data. For a dry run of the script on a CPU:
#   DEVICE=cpu SPEED_STEPS=2 SPEED_ROUNDS=1 STEPS=3 EPISODES=5 FACE_EPOCHS=1 scripts/gpu-fewshot-faces.sh /tmp/res
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${PAIRWISE_BIN:-target/release/pairwise}
PY=${PYTHON_BENCH:-.venv/bin/python}
RES=${1:-docs/results}
RUNS=${RUNS_DIR:-runs/gpu}
BUDGET=${TRAIN_SECONDS:-180}
DATA=../shared/data
DEVICE=${DEVICE:-cuda}
EPISODES=${EPISODES:-1000}
mkdir -p "$RES" "$RUNS"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
log() { echo "[$(date +%T)] $*" >&2; }

log "1. few-shot speed against PyTorch (20-way 5-shot 5-query, alone on the GPU)"
timeout 150 "$PY" bench/fewshot_speed.py --pairwise "$BIN" --device "$DEVICE" --steps "${SPEED_STEPS:-300}" --rounds "${SPEED_ROUNDS:-3}" \
  --json "$RES/fewshot-speed-$DEVICE.json" || log "few-shot speed failed"
rate=$("$PY" -c "import json; print(json.load(open('$RES/fewshot-speed-$DEVICE.json'))['pairwise_episodes_per_second'])" 2>/dev/null || echo 20)

log "2. face training speed, UNPG cost (ORL)"
orl_config() { # unpg(0|1) classes images_per_class
  sed -e "s/^classes_per_batch = .*/classes_per_batch = $2/" -e "s/^images_per_class = .*/images_per_class = $3/" \
    ${FACE_EPOCHS:+-e "s/^epochs = .*/epochs = $FACE_EPOCHS/"} configs/faces-orl-arcface.toml
  [ "$1" = 1 ] && printf '\n[unpg]\nwhisker = 1.5\n'
}
[ "${FACES:-1}" = 0 ] && face_variants=() || face_variants=("0 10 4" "1 10 4" "0 30 8" "1 30 8")
for variant in "${face_variants[@]}"; do
  read -r unpg classes k <<<"$variant"
  name=faces-orl-arcface$([ "$unpg" = 1 ] && echo -unpg)-b$((classes * k))
  orl_config $variant > "$RUNS/$name.toml"
  timeout 120 "$BIN" train --config "$RUNS/$name.toml" --output "$RUNS/$name" --device "$DEVICE" \
    2> "$RUNS/$name.log" || { log "$name failed"; tail -3 "$RUNS/$name.log" >&2; continue; }
  cp "$RUNS/$name/pairwise_training.json" "$RES/gpu-train-$name.json"
  timeout 60 "$BIN" eval verify --model "$RUNS/$name/model" --pairs "$RUNS/$name/eval_pairs.tsv" \
    --images "$DATA/orl-faces" --center-crop 92,92 --flip --device "$DEVICE" --json "$RES/gpu-$name.json" \
    >/dev/null 2>>"$RUNS/$name.log" || log "verify $name failed"
done

# Step 3 runs six trainings at once; assume they share the GPU like four (each also waits on its
# own CPU work) and that a 60-way 5-shot
# episode (600 images) costs three of the 20-way episodes (200 images) timed in step 1.
steps=${STEPS:-$("$PY" -c "print(int(min(10000, max(300, $rate / 3 * $BUDGET / 4))))")}
contrastive_steps=${STEPS:-$("$PY" -c "print(int(min(3000, max(200, $rate / 3 * $BUDGET / 4))))")}
log "3. Omniglot trainings: $steps episodes each (speed $rate episodes/s), $contrastive_steps contrastive steps"
evaluate() { # run ways shots [--rotations]
  local tag=$1-$2w$3s${4:+-rot}
  timeout 120 "$BIN" eval fewshot --model "$RUNS/omniglot-$1/model" --ways "$2" --shots "$3" \
    --episodes "$EPISODES" --seed 0 --device "$DEVICE" ${4:+--rotations} --json "$RES/fewshot-gpu-$tag.json" \
    >/dev/null 2>>"$RUNS/omniglot-$1.log" || log "eval $tag failed"
}
train_and_evaluate() { # name seed steps settings...
  local name=$1 seed=$2 n=$3
  local run=$name${SEEDS:+-seed$seed}
  shift 3
  timeout $((BUDGET * 8 / 5)) "$BIN" train --config "configs/omniglot-$name.toml" --max-steps "$n" \
    ${SEEDS:+--seed "$seed"} --output "$RUNS/omniglot-$run" --device "$DEVICE" 2> "$RUNS/omniglot-$run.log" \
    || { log "training $run failed"; tail -3 "$RUNS/omniglot-$run.log" >&2; return; }
  cp "$RUNS/omniglot-$run/pairwise_training.json" "$RES/fewshot-gpu-train-$run.json"
  for setting in "$@"; do
    evaluate "$run" $setting --rotations
    evaluate "$run" $setting
  done
  log "done: $run"
}
# SEEDS (e.g. "1 2 3") trains every run once per seed (--seed, "-seedN" in every name); unset, the
# configs' own seed.
for seed in ${SEEDS:-config}; do
  for name in ${FEWSHOT_RUNS-protonet-paper protonet-paper-1shot proto-triplet-paper icnn-paper simclr-gpu amcl-gpu}; do
    case $name in
      *-1shot) train_and_evaluate "$name" "$seed" "$steps" "5 1" "20 1" & ;;
      simclr* | amcl*) train_and_evaluate "$name" "$seed" "$contrastive_steps" "5 1" & ;;
      *) train_and_evaluate "$name" "$seed" "$steps" "5 1" "5 5" "20 1" "20 5" & ;;
    esac
  done
done
wait
if [ -d "$RUNS/omniglot-protonet-paper-1shot/model" ]; then
  timeout 60 "$BIN" eval fewshot --model "$RUNS/omniglot-protonet-paper-1shot/model" --official-runs \
    --device "$DEVICE" --json "$RES/fewshot-gpu-protonet-paper-1shot-official-runs.json" >/dev/null \
    || log "official runs failed"
fi
log "finished"
