/**
 * Live slice layers: the 2D slices sample our own textures of the base volume and the overlay,
 * with the window, the threshold, the colours and the opacity as shader uniforms. Niivue bakes
 * every volume into an RGBA texture through its colormap (an orient pass over all voxels, and a
 * gradient pass for the base), so each change of a window or an overlay re-runs those passes: on
 * software GL (SwiftShader, headless Chromium) seconds per change for 256³. Here a window or
 * overlay change sets a few uniforms and redraws; a new overlay uploads one texture once (cached
 * per array), in slabs with a fence between them so frames keep coming.
 *
 * How: Niivue's own 2D slice fragment shader, read back from its program and patched at three
 * places (background, overlay, and the uniforms they need), installed as its custom slice shader.
 * When the text does not match (another Niivue version), nothing is patched and the viewer falls
 * back to Niivue's own updates (./viewer.ts). The 3D render still shows Niivue's baked textures:
 * the viewer refreshes them only while a 3D render is on screen.
 *
 * GL objects only; what is shown and the texture cache live in the viewer's store (./viewer.ts).
 */
import type { Niivue } from '@niivue/niivue';
import { spatialShape, type Volume, type VoxelArray } from '../core/volume';
import { invertAffine } from './overlay';

/** Texture units: Niivue uses 0-3 and 5-10 (11-15 only while growing a region). */
const UNIT_LUT = 4;
const UNIT_BASE = 11;
const UNIT_OVERLAY = 12;
const UNIT_UPLOAD = 13;

/** How an overlay texture is read. */
export type LiveOverlayKind = 'heatmap' | 'labels' | 'above';
const KIND_CODE: Record<LiveOverlayKind, number> = { heatmap: 1, labels: 2, above: 3 };

const DECLS = `
uniform highp sampler3D vbBase;
uniform highp sampler3D vbOver;
uniform highp sampler2D vbLut;
uniform mat4 vbBaseMtx;
uniform mat4 vbOverMtx;
uniform vec2 vbLive;
uniform vec4 vbBaseMap;
uniform vec4 vbOverMap;
uniform float vbOverOpacity;
vec4 vbBackground(vec3 tp) {
	vec3 p = (vec4(tp, 1.0) * vbBaseMtx).xyz;
	float f = texture(vbBase, p).r * vbBaseMap.x + vbBaseMap.y;
	float g = clamp((f - vbBaseMap.z) * vbBaseMap.w, 0.0, 1.0);
	return vec4(g, g, g, 1.0);
}
vec4 vbOverlay(vec3 tp) {
	int kind = int(vbLive.y + 0.5);
	if (kind < 1) return vec4(0.0);
	vec3 p = (vec4(tp, 1.0) * vbOverMtx).xyz;
	if (any(lessThan(p, vec3(0.0))) || any(greaterThan(p, vec3(1.0)))) return vec4(0.0);
	float f = texture(vbOver, p).r * vbOverMap.x + vbOverMap.y;
	vec4 c;
	if (kind == 1) {
		float mn = min(vbOverMap.z, vbOverMap.w);
		float r = max(0.00001, abs(vbOverMap.w - vbOverMap.z));
		float txl = (f - mn) / r;
		if (f > mn) txl = max(txl, 2.0 / 256.0);
		c = texture(vbLut, vec2(txl, 0.5));
	} else {
		int idx = kind == 3 ? (f > vbOverMap.z ? 1 : 0) : int(f + 0.5);
		c = texelFetch(vbLut, ivec2(clamp(idx, 0, 255), 0), 0);
	}
	c.a = step(0.00001, c.a) * vbOverOpacity;
	return c;
}
`;

/** The three places of Niivue's slice shader (0.69) that are patched. */
const PATCHES: [string, string][] = [
  ['out vec4 color;', `out vec4 color;\n${DECLS}`],
  ['vec4 background = texture(volume, texPos);', 'vec4 background = vbLive.x > 0.5 ? vbBackground(texPos) : texture(volume, texPos);'],
  ['if (overlays > 0.0) {', 'if (vbLive.y > -0.5) {\n\t\tocolor = vbOverlay(texPos);\n\t} else if (overlays > 0.0) {'],
];

interface SliceShader {
  program: WebGLProgram;
  uniforms: Record<string, WebGLUniformLocation | null>;
}

/** What ./viewer.ts needs of a Niivue instance beyond its typings. */
type NiivueInternals = Niivue & {
  gl: WebGL2RenderingContext;
  sliceMMShader?: SliceShader;
  customSliceShader: SliceShader | null;
};

const internals = (nv: Niivue): NiivueInternals => nv as NiivueInternals;

/**
 * Installs the patched slice shader on `nv` (attached to a canvas); false when Niivue's shader is
 * not the one this was written for (nothing is changed then).
 */
export function installLiveShader(nv: Niivue): boolean {
  const n = internals(nv);
  const gl = n.gl;
  const mm = n.sliceMMShader;
  if (!gl || !mm) return false;
  const fs = (gl.getAttachedShaders(mm.program) ?? []).find((s) => gl.getShaderParameter(s, gl.SHADER_TYPE) === gl.FRAGMENT_SHADER);
  let text = fs ? gl.getShaderSource(fs) : null;
  if (!text) return false;
  for (const [from, to] of PATCHES) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + from.length) >= 0) return false;
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  try {
    // compiles with Niivue's slice vertex shader; redraws nothing heavy while no volume is loaded
    nv.setCustomSliceShader(text);
  } catch {
    nv.setCustomSliceShader('');
    return false;
  }
  const sh = n.customSliceShader;
  if (!sh || sh.uniforms.vbLive === undefined || sh.uniforms.vbLive === null) {
    nv.setCustomSliceShader('');
    return false;
  }
  gl.useProgram(sh.program);
  gl.uniform1i(sh.uniforms.vbBase, UNIT_BASE);
  gl.uniform1i(sh.uniforms.vbOver, UNIT_OVERLAY);
  gl.uniform1i(sh.uniforms.vbLut, UNIT_LUT);
  gl.uniform2f(sh.uniforms.vbLive, 0, -1);
  return true;
}

/** The context Niivue draws with (null before it is attached). */
export function glOf(nv: Niivue): WebGL2RenderingContext | null {
  return internals(nv).gl ?? null;
}

/** True when the WebGL renderer is a software one (SwiftShader, llvmpipe): every pixel costs CPU time. */
export function isSoftwareGl(gl: WebGL2RenderingContext): boolean {
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

/** An uploaded volume: value = texel * scale + offset. */
export interface LiveTexture {
  tex: WebGLTexture;
  /** The array it holds (textures are cached per array). */
  data: VoxelArray;
  as: 'labels' | 'values';
  dims: [number, number, number];
  scale: number;
  offset: number;
  bytes: number;
}

/** Whether `t` holds `data` (the same array, or a view of the same memory) read `as`. */
export function holds(t: LiveTexture, data: VoxelArray, as: LiveTexture['as']): boolean {
  return t.as === as && t.data.buffer === data.buffer && t.data.byteOffset === data.byteOffset && t.data.length === data.length && t.data.constructor === data.constructor;
}

/** Texels per upload slab: a few MB of GPU work between two frames. */
const SLAB_TEXELS = 4 * 2 ** 20;

/** Resolves when the GPU has done what was asked so far (a fence, polled between tasks: frames keep coming). */
function gpuDone(gl: WebGL2RenderingContext): Promise<void> {
  const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  gl.flush();
  if (!sync) return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const poll = () => {
      if (gl.isContextLost() || gl.getSyncParameter(sync, gl.SYNC_STATUS) === gl.SIGNALED) {
        gl.deleteSync(sync);
        resolve();
      } else setTimeout(poll, 2);
    };
    setTimeout(poll, 0);
  });
}

/** How an array goes into a texture: its internal format, and the slab of values it uploads. */
interface TexFormat {
  internal: number;
  type: number;
  bytes: number;
  filterable: boolean;
  slab(data: VoxelArray, from: number, count: number, buf: Float32Array | null): ArrayBufferView;
}

function formatOf(gl: WebGL2RenderingContext, data: VoxelArray): TexFormat {
  if (data instanceof Uint8Array) return { internal: gl.R8, type: gl.UNSIGNED_BYTE, bytes: 1, filterable: true, slab: (d, f, n) => (d as Uint8Array).subarray(f, f + n) };
  const copy = (d: VoxelArray, f: number, n: number, buf: Float32Array | null) => {
    const out = buf!.subarray(0, n);
    for (let i = 0; i < n; i++) out[i] = d[f + i];
    return out;
  };
  // small integers are exact in half floats up to 2048 and within a step of 2-32 above (CT in HU): half the memory
  if (data instanceof Int16Array || data instanceof Int8Array) return { internal: gl.R16F, type: gl.FLOAT, bytes: 2, filterable: true, slab: copy };
  const linear = gl.getExtension('OES_texture_float_linear') !== null;
  if (data instanceof Float32Array) return { internal: gl.R32F, type: gl.FLOAT, bytes: 4, filterable: linear, slab: (d, f, n) => (d as Float32Array).subarray(f, f + n) };
  return { internal: gl.R32F, type: gl.FLOAT, bytes: 4, filterable: linear, slab: copy };
}

/**
 * Uploads a [D, H, W] array (x fastest) as a 3D texture, slab by slab: the values as they are
 * (uint8 as R8, int8/int16 as R16F, others as R32F), read with linear interpolation as Niivue
 * draws its slices (nearest for labels, and for float32 where the GPU cannot filter it).
 * `live()` false stops the upload (null).
 */
export async function uploadVolume(gl: WebGL2RenderingContext, data: VoxelArray, shape: [number, number, number], as: LiveTexture['as'], live: () => boolean): Promise<LiveTexture | null> {
  const [D, H, W] = shape;
  if (data.length !== D * H * W) throw new Error(`texture data has ${data.length} values for ${D}×${H}×${W}`);
  if (as === 'labels' && !(data instanceof Uint8Array)) throw new Error('a label texture takes uint8 labels');
  const fmt = formatOf(gl, data);
  const tex = gl.createTexture();
  if (!tex) throw new Error('WebGL could not create a texture');
  const prevUnit = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
  const bind = () => {
    gl.activeTexture(gl.TEXTURE0 + UNIT_UPLOAD);
    gl.bindTexture(gl.TEXTURE_3D, tex);
  };
  bind();
  const filter = as === 'labels' || !fmt.filterable ? gl.NEAREST : gl.LINEAR;
  gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MIN_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MAG_FILTER, filter);
  for (const w of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T, gl.TEXTURE_WRAP_R]) gl.texParameteri(gl.TEXTURE_3D, w, gl.CLAMP_TO_EDGE);
  gl.texStorage3D(gl.TEXTURE_3D, 1, fmt.internal, W, H, D);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.activeTexture(prevUnit);
  const slab = Math.max(1, Math.floor(SLAB_TEXELS / (W * H)));
  const buf = fmt.type === gl.FLOAT && !(data instanceof Float32Array) ? new Float32Array(Math.min(D, slab) * W * H) : null;
  for (let z = 0; z < D; z += slab) {
    const nz = Math.min(slab, D - z);
    bind();
    gl.texSubImage3D(gl.TEXTURE_3D, 0, 0, 0, z, W, H, nz, gl.RED, fmt.type, fmt.slab(data, z * W * H, nz * W * H, buf));
    gl.activeTexture(prevUnit);
    await gpuDone(gl);
    if (!live()) {
      gl.deleteTexture(tex);
      return null;
    }
  }
  const u8 = data instanceof Uint8Array;
  return { tex, data, as, dims: [W, H, D], scale: u8 ? 255 : 1, offset: 0, bytes: W * H * D * fmt.bytes };
}

/**
 * The matrix that takes the base's texture coordinates (Niivue's RAS-ordered fractions) to the
 * texture coordinates of `grid` (its own voxel order): what Niivue's orient pass computes for an
 * overlay (calculateOverlayTransformMatrix), from the corners of the grid's voxel box.
 */
export function gridMatrix(nv: Niivue, grid: Pick<Volume, 'affine' | 'shape'>): Float32Array | null {
  const base = nv.volumes[0];
  if (!base) return null;
  const [D, H, W] = spatialShape(grid);
  const a = grid.affine;
  const mm = (i: number, j: number, k: number): number[] => [0, 1, 2].map((r) => a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3]);
  const frac = (p: number[]): number[] => Array.from(base.convertMM2Frac(p as unknown as Parameters<typeof base.convertMM2Frac>[0], true) as ArrayLike<number>);
  const f000 = frac(mm(-0.5, -0.5, -0.5));
  const f100 = frac(mm(W - 0.5, -0.5, -0.5)).map((v, i) => v - f000[i]);
  const f010 = frac(mm(-0.5, H - 0.5, -0.5)).map((v, i) => v - f000[i]);
  const f001 = frac(mm(-0.5, -0.5, D - 0.5)).map((v, i) => v - f000[i]);
  const rows = [0, 1, 2].map((r) => [f100[r], f010[r], f001[r], f000[r]]);
  rows.push([0, 0, 0, 1]);
  const inv = invertAffine(rows);
  return inv ? Float32Array.from(inv.flat()) : null;
}

/** What the patched shader draws. `base`/`overlay` null: Niivue's own (baked) layer. */
export interface LiveUniforms {
  base: { tex: LiveTexture; mtx: Float32Array; window: [number, number] } | null;
  /** kind 'none': live, and no overlay. */
  overlay: { kind: LiveOverlayKind | 'none'; tex: LiveTexture | null; mtx: Float32Array | null; calMin: number; calMax: number; opacity: number } | null;
  /** 256 RGBA entries: the heatmap colormap or the label colours. */
  lut: Uint8Array | null;
}

/** A 256 × 1 RGBA texture for the lookup table. */
export function createLut(gl: WebGL2RenderingContext): WebGLTexture | null {
  const tex = gl.createTexture();
  if (!tex) return null;
  const prevUnit = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
  gl.activeTexture(gl.TEXTURE0 + UNIT_LUT);
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, 256, 1);
  gl.activeTexture(prevUnit);
  return tex;
}

/** Writes the lookup table (256 RGBA entries) into `lut`. */
export function writeLut(gl: WebGL2RenderingContext, lut: WebGLTexture, rgba: Uint8Array): void {
  const prevUnit = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
  gl.activeTexture(gl.TEXTURE0 + UNIT_LUT);
  gl.bindTexture(gl.TEXTURE_2D, lut);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, 256, 1, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
  gl.activeTexture(prevUnit);
}

/** Binds the live textures to their units and sets the uniforms of the patched shader (before a draw). */
export function applyLive(nv: Niivue, u: LiveUniforms, lut: WebGLTexture | null): void {
  const n = internals(nv);
  const gl = n.gl;
  const sh = n.customSliceShader;
  if (!gl || !sh) return;
  const prevUnit = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
  const prevProgram = gl.getParameter(gl.CURRENT_PROGRAM) as WebGLProgram | null;
  gl.activeTexture(gl.TEXTURE0 + UNIT_BASE);
  gl.bindTexture(gl.TEXTURE_3D, u.base?.tex.tex ?? null);
  gl.activeTexture(gl.TEXTURE0 + UNIT_OVERLAY);
  gl.bindTexture(gl.TEXTURE_3D, u.overlay?.tex?.tex ?? null);
  gl.activeTexture(gl.TEXTURE0 + UNIT_LUT);
  gl.bindTexture(gl.TEXTURE_2D, lut);
  gl.activeTexture(prevUnit);
  gl.useProgram(sh.program);
  const ov = u.overlay;
  const ovKind = !ov ? -1 : ov.kind === 'none' || !ov.tex || !ov.mtx ? 0 : KIND_CODE[ov.kind];
  gl.uniform2f(sh.uniforms.vbLive, u.base ? 1 : 0, ovKind);
  if (u.base) {
    const [lo, hi] = u.base.window;
    gl.uniformMatrix4fv(sh.uniforms.vbBaseMtx, false, u.base.mtx);
    gl.uniform4f(sh.uniforms.vbBaseMap, u.base.tex.scale, u.base.tex.offset, lo, hi > lo ? 1 / (hi - lo) : 1e6);
  }
  if (ov && ovKind > 0) {
    gl.uniformMatrix4fv(sh.uniforms.vbOverMtx, false, ov.mtx!);
    gl.uniform4f(sh.uniforms.vbOverMap, ov.tex!.scale, ov.tex!.offset, ov.calMin, ov.calMax);
    gl.uniform1f(sh.uniforms.vbOverOpacity, ov.opacity);
  }
  gl.useProgram(prevProgram);
}

/** Niivue's passes that bake a volume into its RGBA textures (orient) and the base's gradients (3D lighting). */
const BAKE_SHADERS = [
  'orientShaderU',
  'orientShaderI',
  'orientShaderF',
  'orientShaderRGBU',
  'orientShaderAtlasU',
  'orientShaderAtlasI',
  'orientShaderPAQD',
  'blurShader',
  'gradientPrePassShader',
  'sobelFirstOrderShader',
  'sobelSecondOrderShader',
];

interface ShaderLike {
  program: WebGLProgram;
  uniforms: Record<string, WebGLUniformLocation | null>;
  use(gl: WebGL2RenderingContext): void;
}

/** A program whose triangles fall outside the viewport: a pass drawn with it writes no pixel. */
export function idleShader(gl: WebGL2RenderingContext): ShaderLike | null {
  const compile = (type: number, text: string): WebGLShader | null => {
    const sh = gl.createShader(type);
    if (!sh) return null;
    gl.shaderSource(sh, text);
    gl.compileShader(sh);
    return sh;
  };
  const vs = compile(gl.VERTEX_SHADER, '#version 300 es\nvoid main(void) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); }');
  const fs = compile(gl.FRAGMENT_SHADER, '#version 300 es\nprecision highp float;\nout vec4 color;\nvoid main(void) { color = vec4(0.0); }');
  const program = gl.createProgram();
  if (!vs || !fs || !program) return null;
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) return null;
  const uniforms = new Proxy({} as Record<string, WebGLUniformLocation | null>, { get: () => null });
  return { program, uniforms, use: (g) => g.useProgram(program) };
}

/**
 * Runs `load` (Niivue adding or updating volumes) with its baking passes drawing nothing: the 2D
 * slices show the live textures, so Niivue's baked ones are only needed for a 3D render (baked
 * for real when one is shown). On software GL these passes are most of a volume's load time.
 */
export function withoutBaking<T>(nv: Niivue, idle: ShaderLike | null, load: () => T): T {
  const n = nv as unknown as Record<string, unknown>;
  const isShader = (x: unknown): boolean => typeof x === 'object' && x !== null && 'program' in x && 'uniforms' in x;
  if (!idle || !BAKE_SHADERS.every((k) => isShader(n[k]))) return load();
  const saved = BAKE_SHADERS.map((k) => n[k]);
  for (const k of BAKE_SHADERS) n[k] = idle;
  try {
    return load();
  } finally {
    BAKE_SHADERS.forEach((k, i) => (n[k] = saved[i]));
  }
}
