/**
 * WGSL compute kernels of the GPU-resident sliding window, and the small helpers that dispatch
 * them on one GPUDevice (onnxruntime-web's own, so that buffers pass between our passes and the
 * model without copies). No DOM, no React: runs in the worker and in Node (Dawn).
 *
 * Every kernel indexes one element per invocation with a 2D dispatch (x up to 65535 workgroups of
 * 256), so that sizes beyond 16.7 M elements need no second loop.
 */

const WG = 256;
const MAX_GROUPS = 65535;

/** Index of this invocation in a 2D dispatch of 256-wide workgroups. */
const INDEX = /* wgsl */ `
fn linearIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * ${WG}u; }
`;

/**
 * Cuts a batch of windows from one slab of the volume into the model's input buffer:
 * dst[w, c, z, y, x] = vol[c, iz, iy, ix] * scale + offset, or cval outside the image; voxels of
 * z planes held by another slab are left for that slab's pass. Flips (TTA) read the volume
 * mirrored. dtype: 0 uint8, 1 int8, 2 uint16, 3 int16, 4 float32 (as packed in the u32 array).
 */
export const CUT_WGSL = /* wgsl */ `
struct P {
  img: vec4<u32>,   // D, H, W, C
  roi: vec4<u32>,   // rD, rH, rW, rD*rH*rW
  slab: vec4<u32>,  // z0, z1, dtype, elements per channel in the slab
  misc: vec4<u32>,  // flipD, flipH, flipW, total invocations
  f: vec4<f32>,     // cval, scale, offset, -
};
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> vol: array<u32>;
@group(0) @binding(2) var<storage, read> org: array<vec4<i32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${INDEX}
fn load(e: u32) -> f32 {
  switch p.slab.z {
    case 0u: { return f32((vol[e >> 2u] >> ((e & 3u) * 8u)) & 0xffu); }
    case 1u: { let b = (vol[e >> 2u] >> ((e & 3u) * 8u)) & 0xffu; return f32(i32(b << 24u) >> 24u); }
    case 2u: { return f32((vol[e >> 1u] >> ((e & 1u) * 16u)) & 0xffffu); }
    case 3u: { let b = (vol[e >> 1u] >> ((e & 1u) * 16u)) & 0xffffu; return f32(i32(b << 16u) >> 16u); }
    default: { return bitcast<f32>(vol[e]); }
  }
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg);
  if (i >= p.misc.w) { return; }
  let perWin = p.img.w * p.roi.w;
  let w = i / perWin;
  let r = i - w * perWin;
  let c = r / p.roi.w;
  let q = r - c * p.roi.w;
  let hw = p.roi.y * p.roi.z;
  let z = q / hw;
  let q2 = q - z * hw;
  let y = q2 / p.roi.z;
  let x = q2 - y * p.roi.z;
  let o = org[w];
  let iz = o.x + i32(z);
  let iy = o.y + i32(y);
  let ix = o.z + i32(x);
  if (iz < 0 || iz >= i32(p.img.x) || iy < 0 || iy >= i32(p.img.y) || ix < 0 || ix >= i32(p.img.z)) {
    dst[i] = p.f.x;
    return;
  }
  var sz = u32(iz);
  var sy = u32(iy);
  var sx = u32(ix);
  if (p.misc.x != 0u) { sz = p.img.x - 1u - sz; }
  if (p.misc.y != 0u) { sy = p.img.y - 1u - sy; }
  if (p.misc.z != 0u) { sx = p.img.z - 1u - sx; }
  if (sz < p.slab.x || sz >= p.slab.y) { return; }
  let e = c * p.slab.w + ((sz - p.slab.x) * p.img.y + sy) * p.img.z + sx;
  dst[i] = load(e) * p.f.y + p.f.z;
}
`;

/**
 * One window's prediction into the accumulators: out[c, o] += pred[c, q] * w[q], count[o] += w[q]
 * for the window's voxels inside the padded output (one dispatch per window, in window order,
 * so overlapping windows add up in the CPU path's order).
 */
export const ACCUMULATE_WGSL = /* wgsl */ `
struct A {
  out: vec4<u32>,   // oD, oH, oW, C
  win: vec4<u32>,   // qD, qH, qW, offset of this window in pred (elements)
  org: vec4<u32>,   // oz0, oy0, ox0, -
  ext: vec4<u32>,   // zz, yy, xx, zz*yy*xx
};
@group(0) @binding(0) var<uniform> a: A;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> acc: array<f32>;
@group(0) @binding(4) var<storage, read_write> cnt: array<f32>;
${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linearIndex(gid, nwg);
  if (t >= a.ext.w) { return; }
  let yx = a.ext.y * a.ext.z;
  let z = t / yx;
  let r = t - z * yx;
  let y = r / a.ext.z;
  let x = r - y * a.ext.z;
  let o = ((a.org.x + z) * a.out.y + (a.org.y + y)) * a.out.z + a.org.z + x;
  let q = (z * a.win.y + y) * a.win.z + x;
  let oN = a.out.x * a.out.y * a.out.z;
  let qN = a.win.x * a.win.y * a.win.z;
  let wv = wt[q];
  cnt[o] = cnt[o] + wv;
  for (var c = 0u; c < a.out.w; c++) {
    acc[c * oN + o] = acc[c * oN + o] + pred[a.win.w + c * qN + q] * wv;
  }
}
`;

/** res[c, z, y, x] = acc[c, lo + (z, y, x)] / count[lo + (z, y, x)]: normalise and crop the padding. */
export const NORMALIZE_WGSL = /* wgsl */ `
struct N {
  out: vec4<u32>,   // oD, oH, oW, C
  lo: vec4<u32>,
  size: vec4<u32>,  // sD, sH, sW, total
};
@group(0) @binding(0) var<uniform> n: N;
@group(0) @binding(1) var<storage, read> acc: array<f32>;
@group(0) @binding(2) var<storage, read> cnt: array<f32>;
@group(0) @binding(3) var<storage, read_write> res: array<f32>;
${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg);
  if (i >= n.size.w) { return; }
  let sN = n.size.x * n.size.y * n.size.z;
  let c = i / sN;
  let r = i - c * sN;
  let hw = n.size.y * n.size.z;
  let z = r / hw;
  let r2 = r - z * hw;
  let y = r2 / n.size.z;
  let x = r2 - y * n.size.z;
  let s = ((n.lo.x + z) * n.out.y + (n.lo.y + y)) * n.out.z + n.lo.z + x;
  res[i] = acc[c * n.out.x * n.out.y * n.out.z + s] / cnt[s];
}
`;

/** dst[i] (+)= src[flip(i)]: one TTA pass's output flipped back and summed into the logits. */
export const FLIP_ADD_WGSL = /* wgsl */ `
struct F {
  shape: vec4<u32>, // D, H, W, total (C * D * H * W)
  flip: vec4<u32>,  // fd, fh, fw, assign (1: dst = src)
};
@group(0) @binding(0) var<uniform> f: F;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg);
  if (i >= f.shape.w) { return; }
  let n = f.shape.x * f.shape.y * f.shape.z;
  let c = i / n;
  let r = i - c * n;
  let hw = f.shape.y * f.shape.z;
  var z = r / hw;
  let r2 = r - z * hw;
  var y = r2 / f.shape.z;
  var x = r2 - y * f.shape.z;
  if (f.flip.x != 0u) { z = f.shape.x - 1u - z; }
  if (f.flip.y != 0u) { y = f.shape.y - 1u - y; }
  if (f.flip.z != 0u) { x = f.shape.z - 1u - x; }
  let v = src[c * n + (z * f.shape.y + y) * f.shape.z + x];
  if (f.flip.w != 0u) { dst[i] = v; } else { dst[i] = dst[i] + v; }
}
`;

/** heat[i] (+)= sigmoid(logits[i] / n): the mean over TTA passes, then summed over models. */
export const SIGMOID_ADD_WGSL = /* wgsl */ `
struct S { u: vec4<u32>, f: vec4<f32> };  // u: total, assign; f: n passes
@group(0) @binding(0) var<uniform> s: S;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> heat: array<f32>;
${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg);
  if (i >= s.u.x) { return; }
  let v = 1.0 / (1.0 + exp(-(logits[i] / s.f.x)));
  if (s.u.y != 0u) { heat[i] = v; } else { heat[i] = heat[i] + v; }
}
`;

/**
 * Max and first index of the max (NaN ignored), in two passes: each workgroup reduces a strided
 * share of the values to one (value, index) pair, then one workgroup reduces the pairs.
 */
export const ARGMAX_WGSL = /* wgsl */ `
struct R { u: vec4<u32> };  // n, pairs input (1) or values (0)
@group(0) @binding(0) var<uniform> r: R;
@group(0) @binding(1) var<storage, read> vals: array<f32>;
@group(0) @binding(2) var<storage, read> pairsIn: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> pairsOut: array<vec2<u32>>;
var<workgroup> bv: array<f32, ${WG}>;
var<workgroup> bi: array<u32, ${WG}>;
const NONE = 0xffffffffu;
fn better(v: f32, i: u32, cv: f32, ci: u32) -> bool {
  if (i == NONE || v != v) { return false; }
  if (ci == NONE) { return true; }
  return v > cv || (v == cv && i < ci);
}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var cv = 0.0;
  var ci = NONE;
  let stride = nwg.x * ${WG}u;
  for (var k = wid.x * ${WG}u + lid.x; k < r.u.x; k += stride) {
    var v: f32;
    var i: u32;
    if (r.u.y != 0u) { let p = pairsIn[k]; v = bitcast<f32>(p.x); i = p.y; } else { v = vals[k]; i = k; }
    if (better(v, i, cv, ci)) { cv = v; ci = i; }
  }
  bv[lid.x] = cv;
  bi[lid.x] = ci;
  workgroupBarrier();
  for (var h = ${WG / 2}u; h > 0u; h = h >> 1u) {
    if (lid.x < h && better(bv[lid.x + h], bi[lid.x + h], bv[lid.x], bi[lid.x])) {
      bv[lid.x] = bv[lid.x + h];
      bi[lid.x] = bi[lid.x + h];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) { pairsOut[wid.x] = vec2<u32>(bitcast<u32>(bv[0]), bi[0]); }
}
`;

/** Label map: argmax over the channels (first max wins), four uint8 labels per u32. */
export const LABELS_WGSL = /* wgsl */ `
struct L { u: vec4<u32> };  // voxels, channels, words
@group(0) @binding(0) var<uniform> l: L;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linearIndex(gid, nwg);
  if (t >= l.u.z) { return; }
  var word = 0u;
  for (var k = 0u; k < 4u; k++) {
    let v = t * 4u + k;
    if (v >= l.u.x) { break; }
    var best = src[v];
    var lab = 0u;
    for (var c = 1u; c < l.u.y; c++) {
      let x = src[c * l.u.x + v];
      if (x > best) { best = x; lab = c; }
    }
    word = word | (lab << (8u * k));
  }
  dst[t] = word;
}
`;

export type KernelName = 'cut' | 'accumulate' | 'normalize' | 'flipAdd' | 'sigmoidAdd' | 'argmax' | 'labels';

const SOURCES: Record<KernelName, string> = {
  cut: CUT_WGSL,
  accumulate: ACCUMULATE_WGSL,
  normalize: NORMALIZE_WGSL,
  flipAdd: FLIP_ADD_WGSL,
  sigmoidAdd: SIGMOID_ADD_WGSL,
  argmax: ARGMAX_WGSL,
  labels: LABELS_WGSL,
};

/** Buffer usages of the buffers the kernels read and write. */
export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */
const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x8; /* COPY_DST */
const MAP_READ_USAGE = 0x1 /* MAP_READ */ | 0x8; /* COPY_DST */
const MAP_READ = 0x1;

/** Workgroup counts (x, y) covering `n` invocations. */
export function groups(n: number): [number, number] {
  const g = Math.max(1, Math.ceil(n / WG));
  if (g <= MAX_GROUPS) return [g, 1];
  return [MAX_GROUPS, Math.ceil(g / MAX_GROUPS)];
}

/** Kernels compiled once per device, plus buffer helpers. */
export class GpuKernels {
  readonly device: GPUDevice;
  private pipelines = new Map<KernelName, GPUComputePipeline>();
  /** Bytes copied back to the CPU through `read` (for the benchmark's readback column). */
  readbackBytes = 0;

  constructor(device: GPUDevice) {
    this.device = device;
  }

  pipeline(name: KernelName): GPUComputePipeline {
    let p = this.pipelines.get(name);
    if (!p) {
      const module = this.device.createShaderModule({ code: SOURCES[name], label: `voxelbench ${name}` });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: `voxelbench ${name}` });
      this.pipelines.set(name, p);
    }
    return p;
  }

  buffer(bytes: number, label: string): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: STORAGE_USAGE, label });
  }

  /** A uniform buffer holding `words` (u32 or f32 bit patterns, packed by the caller). */
  uniform(data: ArrayBuffer | ArrayBufferView, label: string): GPUBuffer {
    const bytes = data.byteLength;
    const b = this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: UNIFORM_USAGE, label });
    this.device.queue.writeBuffer(b, 0, data as ArrayBuffer);
    return b;
  }

  /** Encodes one dispatch of `name` over `n` invocations with the buffers bound in order (binding 0 first). */
  dispatch(pass: GPUComputePassEncoder, name: KernelName, buffers: GPUBuffer[], n: number, dynamicBind?: GPUBindGroup): void {
    const pipe = this.pipeline(name);
    const bg = dynamicBind ?? this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bg);
    const [x, y] = groups(n);
    pass.dispatchWorkgroups(x, y);
  }

  /** Copies `bytes` of `src` back to the CPU. */
  async read(src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const rb = this.device.createBuffer({ size, usage: MAP_READ_USAGE, label: 'voxelbench readback' });
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(src, offset, rb, 0, size);
      this.device.queue.submit([enc.finish()]);
      await rb.mapAsync(MAP_READ);
      this.readbackBytes += size;
      return rb.getMappedRange().slice(0, bytes);
    } finally {
      rb.destroy();
    }
  }
}

const kernelsByDevice = new WeakMap<GPUDevice, GpuKernels>();

/** The kernels of `device` (compiled on first use, kept while the device lives). */
export function kernelsFor(device: GPUDevice): GpuKernels {
  let k = kernelsByDevice.get(device);
  if (!k) {
    k = new GpuKernels(device);
    kernelsByDevice.set(device, k);
  }
  return k;
}

/** Packs uniform fields: numbers are u32 unless listed in `floats` (by index), then f32. */
export function packUniform(values: number[], floats: number[] = []): ArrayBuffer {
  const buf = new ArrayBuffer(Math.ceil(values.length / 4) * 16);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  const fl = new Set(floats);
  values.forEach((v, i) => {
    if (fl.has(i)) f[i] = v;
    else u[i] = v >>> 0;
  });
  return buf;
}

/** Same as packUniform for signed ints (window origins can be negative). */
export function packInt4(rows: number[][]): Int32Array {
  const a = new Int32Array(rows.length * 4);
  rows.forEach((r, i) => a.set(r.slice(0, 4), i * 4));
  return a;
}
