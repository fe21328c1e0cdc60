#!/usr/bin/env bash
# Packs everything tools/device-bench.sh needs into .devbench/ (git-ignored), for a machine with a
# GPU and no node, no node_modules and no network (the device tool's H100/H200: it carries the
# working tree plus `carry` paths, 64 MiB in all). Run it here, where node_modules is installed:
#
#   bash tools/pack-device-bench.sh          # .devbench/*.tar.xz + .devbench/MANIFEST, and .gl/*.deb
#
# Parts (each one .tar.xz, unpacked by device-bench.sh into .devbench.run/, a tree laid out like
# the repo so that the bundle reads nothing from the working tree):
#   node     bin/node: this machine's node (stripped of debug info)
#   dawn     node_modules/webgpu: index.js + the linux-x64 dawn.node (stripped)
#   ort-web  node_modules/onnxruntime-web: dist/ort.mjs + the JSEP build (.mjs, .wasm) the harness loads
#   ort-node node_modules/onnxruntime-node + onnxruntime-common (JS, linux-x64 binding and
#            libonnxruntime.so.1) for the CPU rows; VB_PACK_ORT_NODE=0 leaves it out (those rows
#            then say so)
#   bench    tools/gpuBench.mjs (tools/gpuBench.ts bundled by esbuild, externals: the three packages
#            above) + the files it reads: the MeshNet demo, the motor model and card, one sample
#            tomogram, the check fixtures and tools/make_resnet3d_unet.py (python3 + torch make the
#            ResNet3D U-Net there)
# and .gl/*.deb: the Vulkan loader and GLVND (apt-get download, as the device README shows);
# VB_PACK_GL=0 skips them.
#
# A part is rebuilt only when its inputs change (.devbench/<part>.key). VB_PACK_XZ sets the
# compressor (default `xz -9e -T1`: node takes minutes; `xz -6 -T0` is faster and ~2 MiB larger).
set -euo pipefail
cd "$(dirname "$0")/.."

PACK=.devbench
XZ=${VB_PACK_XZ:-xz -9e -T1}
LIMIT=$((64 * 1024 * 1024))
mkdir -p "$PACK"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

[ -d node_modules/webgpu ] && [ -d node_modules/onnxruntime-web ] && [ -d node_modules/esbuild ] || { echo "node_modules is missing: npm ci first"; exit 2; }
NODE_BIN=$(readlink -f "${VB_PACK_NODE:-$(command -v node)}")
file -b "$NODE_BIN" | grep -q 'ELF 64-bit.*x86-64' || { echo "$NODE_BIN is not an x86-64 ELF binary (the device is x86-64)"; exit 2; }

# part NAME KEYFILES... (and $PART_KEY): stages with the function stage_NAME into $STAGE/NAME, packs it unless its key is unchanged
part() {
  local name=$1; shift
  local key
  key=$( { echo "pack-v1 $XZ ${PART_KEY:-}"; for f in "$@"; do stat -L -c '%n %s %Y' "$f"; done; } | sha256sum | cut -d' ' -f1)
  if [ -f "$PACK/$name.tar.xz" ] && [ "$(cat "$PACK/$name.key" 2>/dev/null)" = "$key" ]; then
    echo "$name: unchanged"
    return
  fi
  rm -f "$PACK/$name.tar.xz" "$PACK/$name.key"
  mkdir -p "$STAGE/$name"
  "stage_$name" "$STAGE/$name"
  echo "$name: packing $(du -sb "$STAGE/$name" | cut -f1) bytes ($XZ)"
  tar -C "$STAGE/$name" --owner=0 --group=0 --numeric-owner -cf - . | $XZ > "$PACK/$name.tar.xz"
  du -sb "$STAGE/$name" | cut -f1 > "$PACK/$name.raw"
  echo "$key" > "$PACK/$name.key"
}

copy() { # DEST SRC... : copies each SRC (a repo or node_modules path) to DEST/SRC
  local dest=$1; shift
  for f in "$@"; do mkdir -p "$dest/$(dirname "$f")"; cp -rL "$f" "$dest/$f"; done
}

stage_node() { mkdir -p "$1/bin"; strip -o "$1/bin/node" "$NODE_BIN"; "$1/bin/node" --version >/dev/null; }

DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
stage_dawn() {
  copy "$1" node_modules/webgpu/package.json node_modules/webgpu/index.js
  mkdir -p "$1/$(dirname $DAWN)"
  strip -o "$1/$DAWN" "$DAWN"
}

ORT_WEB=(node_modules/onnxruntime-web/package.json node_modules/onnxruntime-web/dist/ort.mjs node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.mjs node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm)
stage_ort-web() { copy "$1" "${ORT_WEB[@]}"; }

ORT_NODE=(node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist/index.js node_modules/onnxruntime-node/dist/backend.js node_modules/onnxruntime-node/dist/binding.js node_modules/onnxruntime-node/dist/version.js node_modules/onnxruntime-node/bin/napi-v6/linux/x64 node_modules/onnxruntime-common/package.json node_modules/onnxruntime-common/dist/cjs)
stage_ort-node() { copy "$1" "${ORT_NODE[@]}"; }

# the files tools/gpuBench.ts reads (bench and check), at their repo paths
DATA=(public/demo/meshnet/model.onnx public/demo/meshnet/t1.nii.gz public/models/motor_heatmap.onnx public/models/motor_heatmap.json public/samples/tomograms/tomo_sim_001.mrc tools/make_resnet3d_unet.py tests/fixtures/parity/constant_basic tests/fixtures/parity/gaussian_batch tests/fixtures/parity/byu_weight_map tests/fixtures/models/tiny3d.onnx tests/fixtures/volumes/ball_int16.nii.gz)
BUNDLE_SRC=$(git ls-files -z src tools | xargs -0 stat -c '%n %s %Y' | sha256sum | cut -d' ' -f1)
stage_bench() {
  copy "$1" "${DATA[@]}"
  # one ESM file; `require` for the CommonJS modules inside; import.meta.dirname/.. is the pack's root
  npx esbuild tools/gpuBench.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --external:webgpu --external:onnxruntime-web --external:onnxruntime-node \
    --banner:js="import { createRequire as __vbCreateRequire } from 'node:module'; const require = __vbCreateRequire(import.meta.url);" \
    --outfile="$1/tools/gpuBench.mjs" 2>&1 | grep -v 'npm warn' || true
  [ -s "$1/tools/gpuBench.mjs" ] || { echo "esbuild failed"; exit 1; }
}

part node "$NODE_BIN"
part dawn node_modules/webgpu/package.json node_modules/webgpu/index.js "$DAWN"
part ort-web "${ORT_WEB[@]}"
if [ "${VB_PACK_ORT_NODE:-1}" = 1 ]; then
  part ort-node node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 node_modules/onnxruntime-common/package.json
else
  rm -f "$PACK/ort-node.tar.xz" "$PACK/ort-node.key" "$PACK/ort-node.raw"
fi
PART_KEY=$BUNDLE_SRC part bench "${DATA[@]}" package-lock.json

# the Vulkan loader and GLVND for the device, as its README shows (Debian's packages, amd64)
if [ "${VB_PACK_GL:-1}" = 1 ] && ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# MANIFEST: parts and sizes, what the binaries need of the system, and the 64 MiB budget
glibc() { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1; }
glibcxx() { objdump -T "$1" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1; }
sz() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
{
  echo "voxelbench device pack, made $(date -u +%FT%TZ) from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tools || echo ' (with uncommitted changes)')"
  echo "node $("$NODE_BIN" --version): needs $(glibc "$NODE_BIN"), $(glibcxx "$NODE_BIN") (libstdc++)"
  echo "dawn.node (webgpu $(node -p "require('./node_modules/webgpu/package.json').version")): needs $(glibc $DAWN), $(glibcxx $DAWN)"
  echo "onnxruntime-web $(node -p "require('./node_modules/onnxruntime-web/package.json').version"), onnxruntime-node $(node -p "require('./node_modules/onnxruntime-node/package.json').version")$([ -f "$PACK/ort-node.tar.xz" ] || echo ' (left out)')"
  echo
  printf '%-10s %12s %12s\n' part raw packed
  total=0
  for f in "$PACK"/*.tar.xz; do
    n=$(basename "$f" .tar.xz)
    printf '%-10s %12s %12s\n' "$n" "$(mib "$(cat "$PACK/$n.raw")")" "$(mib "$(sz "$f")")"
    total=$((total + $(sz "$f")))
  done
  gl=0
  for f in .gl/*.deb; do [ -f "$f" ] && gl=$((gl + $(sz "$f"))); done
  printf '%-10s %12s %12s\n' '.gl (debs)' '' "$(mib $gl)"
  printf '%-10s %12s %12s\n' total '' "$(mib $((total + gl)))"
  tree=$(git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  echo
  echo "working tree that travels (tracked + untracked-not-ignored): $(mib "$tree")"
  echo "tree + .devbench + .gl: $(mib $((tree + total + gl))) of the device tool's 64 MiB"
  if [ $((tree + total + gl)) -gt $LIMIT ]; then
    echo "OVER THE LIMIT by $(mib $((tree + total + gl - LIMIT))): the device tool refuses the call (see README, Benchmark)"
  fi
} > "$PACK/MANIFEST"
cat "$PACK/MANIFEST"
