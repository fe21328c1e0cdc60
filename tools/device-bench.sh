#!/usr/bin/env bash
# Real-GPU benchmark without a browser: the worker's GPU code (src/worker/gpu) in Node on Dawn's
# WebGPU (npm package `webgpu`), per case, in one run: GPU-resident vs per-window upload (CPU
# stitching) on the same WebGPU adapter vs the CPU baselines (onnxruntime-web's WASM, as the page
# falls back to, and onnxruntime-node): time, bytes uploaded and read back, max output difference,
# and the ratios. Writes device-bench.json + device-bench.txt to VB_BENCH_DIR, else $OUT (the
# device tool brings that folder back), else bench-results/ (tools/gpuBench.ts bench).
#
# Meant for a machine with an NVIDIA GPU and no browser, no node and no network (the device
# tool's H100/H200). It runs from one of:
# - node_modules (a checkout with `npm ci` done): node on PATH, tools/gpuBench.ts through tsx;
# - else the pack .devbench/ made by tools/pack-device-bench.sh (carried with the tree): its parts
#   are unpacked into .devbench.run/ (node, the bundled bench, dawn.node, onnxruntime's files,
#   the models), and nothing else is read from the working tree.
# It installs nothing and reaches no network. Under 5 minutes (`timeout`). Cases: MeshNet 256^3
# (whole, roi 128, roi 128 with graph capture, float16 weights when the adapter has shader-f16), a
# 128x672x672 tomogram through the motor pipeline with 3 TTA passes, and a ResNet3D U-Net
# (Bottleneck [3, 24, 36, 3], width 64) at roi 64x672x672, made by tools/make_resnet3d_unet.py
# when python3 has torch (else that row says skipped).
#
#   bash tools/device-bench.sh                 full sizes
#   VB_BENCH=tiny bash tools/device-bench.sh   every case at a tiny size (proves it on a CPU adapter)
#   VB_BENCH=tiny VB_CASES=smoke bash tools/device-bench.sh   the tiny test model only (~40 s on SwiftShader)
#   bash tools/device-bench.sh check           GPU-resident = CPU stitching within 1e-5 (tiny sizes)
#
# Vulkan for Dawn: the system's loader; else the loaders carried as .gl/*.deb (device README),
# unpacked into / (as that README does) on a machine with nvidia-smi when root, else into
# .devbench.run/gl (VB_GL_ROOT sets where); else Chromium's SwiftShader (a CPU adapter:
# tools/nodeWebgpu.ts picks it when nothing else exists).
#
# Environment: NODE (node binary), VB_USE_PACK=1 (the pack even when node_modules exists),
# VB_CASES (smoke,meshnet,fp16,motors,resnet; default all but smoke), VB_PATHS (gpu,webgpu,wasm,node),
# VB_RESNET_LAYERS (e.g. 3,8,36,3 if the full depth does not fit), VB_RESNET_WIDTH, VB_THREADS
# (WASM threads, default 1), VB_CPU_FULL=1 (run the CPU paths on every window instead of timing one
# batch and scaling), VB_BENCH_DIR, VB_BENCH_OUT (a second copy of the JSON), VB_TIMEOUT (s,
# default 290).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-bench}
PACK=.devbench
RUN=.devbench.run
export PYTHON=${PYTHON:-python3}

untar() { # ARCHIVE DIR: .tar.xz with tar + xz, else with python3's tarfile
  if command -v xz >/dev/null; then
    tar -xJf "$1" -C "$2"
  else
    "$PYTHON" - "$1" "$2" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    try:
        t.extractall(sys.argv[2], filter='tar')
    except TypeError:
        t.extractall(sys.argv[2])
EOF
  fi
}

if [ -z "${VB_USE_PACK:-}" ] && [ -d node_modules/webgpu ] && [ -d node_modules/onnxruntime-web ] && [ -d node_modules/tsx ]; then
  NODE=${NODE:-$(command -v node || true)}
  ARGS=(--import tsx tools/gpuBench.ts "$MODE")
  FROM=node_modules
elif ls "$PACK"/*.tar.xz >/dev/null 2>&1; then
  t0=$(date +%s)
  mkdir -p "$RUN"
  for f in "$PACK"/*.tar.xz; do untar "$f" "$RUN"; done
  NODE=${NODE:-$RUN/bin/node}
  ARGS=("$RUN/tools/gpuBench.mjs" "$MODE")
  FROM="the pack $PACK ($(ls "$PACK"/*.tar.xz | xargs -n1 basename | sed 's/.tar.xz//' | tr '\n' ' ')unpacked in $(($(date +%s) - t0)) s)"
  [ -f "$PACK/MANIFEST" ] && head -1 "$PACK/MANIFEST"
else
  echo "neither node_modules nor the pack $PACK/ (make it here with: bash tools/pack-device-bench.sh, and carry .devbench)"
  exit 2
fi
[ -n "$NODE" ] && [ -x "$NODE" ] || { echo "no node binary (set NODE)"; exit 2; }

has_vulkan() { ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; }
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ! has_vulkan && ls .gl/*.deb >/dev/null 2>&1; then
  GL_ROOT=${VB_GL_ROOT:-}
  if [ -z "$GL_ROOT" ]; then
    if [ "$(id -u)" = 0 ] && command -v nvidia-smi >/dev/null; then GL_ROOT=/; else GL_ROOT=$RUN/gl; fi
  fi
  mkdir -p "$GL_ROOT"
  for f in .gl/*.deb; do dpkg -x "$f" "$GL_ROOT"; done
  if [ "$GL_ROOT" = / ]; then
    ldconfig
  else
    GL_LIB=$(cd "$GL_ROOT/usr/lib/x86_64-linux-gnu" && pwd)
    export LD_LIBRARY_PATH=$GL_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    # the carried loader serves a driver named here or NVIDIA's; with neither, SwiftShader's own loader
    if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] || [ -f $NV_ICD ]; then export VB_VULKAN=${VB_VULKAN:-system}; fi
  fi
fi
if [ -f $NV_ICD ] && [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  # both names: VK_DRIVER_FILES from loader 1.3.207 on, VK_ICD_FILENAMES before
  export VK_DRIVER_FILES=$NV_ICD VK_ICD_FILENAMES=$NV_ICD
fi
if has_vulkan; then export VB_VULKAN=${VB_VULKAN:-system}; fi
if command -v nvidia-smi >/dev/null; then
  VB_GPU_INFO=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1 || true)
  export VB_GPU_INFO
  echo "$VB_GPU_INFO"
fi
echo "node $("$NODE" --version) from $FROM; vulkan: ${VB_VULKAN:-swiftshader (no system loader)}"

exec timeout "${VB_TIMEOUT:-290}" "$NODE" "${ARGS[@]}"
