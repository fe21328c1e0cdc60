#!/usr/bin/env bash
# Real-GPU benchmark without a browser: the worker's GPU code (src/worker/gpu) in Node on Dawn's
# WebGPU (npm package `webgpu`), per case: GPU-resident vs CPU stitching on WebGPU vs
# onnxruntime-node on the CPU. Prints one table (tools/gpuBench.ts bench).
#
# Meant for a machine with an NVIDIA GPU and no browser (the device tool's H100/H200): node, this
# repo and its node_modules carried over; it installs nothing and reaches no network. Under 5
# minutes (`timeout`). Cases: MeshNet 256^3 (whole, roi 128, roi 128 with graph capture, float16
# weights when the adapter has shader-f16), a 128x672x672 tomogram through the motor pipeline
# with 3 TTA passes, and a ResNet3D U-Net (Bottleneck [3, 24, 36, 3], width 64) at roi 64x672x672,
# made by tools/make_resnet3d_unet.py when python3 has torch (else that row says skipped).
#
#   bash tools/device-bench.sh              full sizes
#   VB_BENCH=tiny bash tools/device-bench.sh   every case at a tiny size (proves it on a CPU adapter)
#
# Environment: NODE (node binary; default: node on PATH, else .node/bin/node), VB_CASES
# (meshnet,fp16,motors,resnet), VB_PATHS (gpu,webgpu,node), VB_RESNET_LAYERS (e.g. 3,8,36,3 if the
# full depth does not fit), VB_RESNET_WIDTH, VB_NODE_FULL=1 (run onnxruntime-node on every
# window instead of timing one batch), VB_BENCH_OUT (JSON of the rows), VB_TIMEOUT (s, default 290).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE=${NODE:-$(command -v node || echo .node/bin/node)}
[ -x "$NODE" ] || { echo "no node binary (set NODE or carry one as .node/bin/node)"; exit 2; }
[ -d node_modules/webgpu ] && [ -d node_modules/onnxruntime-web ] && [ -d node_modules/tsx ] || { echo "node_modules is missing (carry it with the repo)"; exit 2; }

# Vulkan for Dawn: the system loader, else loaders carried as .gl/*.deb (device README), else
# Chromium's SwiftShader (a CPU adapter: tools/nodeWebgpu.ts picks it when nothing else exists).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then export VB_VULKAN=${VB_VULKAN:-system}; fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "node $("$NODE" --version); vulkan: ${VB_VULKAN:-swiftshader (no system loader)}"

export PYTHON=${PYTHON:-python3}
exec timeout "${VB_TIMEOUT:-290}" "$NODE" --import tsx tools/gpuBench.ts bench
