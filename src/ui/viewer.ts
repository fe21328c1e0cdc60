/**
 * The one Niivue instance of the page and the calls that put our volumes into it.
 * Volumes travel as uncompressed NIfTI bytes written by core/io/nifti (same affine as the input).
 * The instance and what it shows are held by a small viewer store (not reactive: React reads
 * nothing from it), so that no module variable keeps state.
 *
 * Updates are live where Niivue allows it (./viewerLive.ts): the 2D slices draw the base volume
 * and the overlay from our own textures, so a window, a threshold, a colour, an opacity or another
 * overlay of the same result only sets uniforms (and uploads a texture once per array) instead of
 * making Niivue bake every volume again. Niivue's own (baked) textures feed its 3D render: they are
 * refreshed only while a 3D render is on screen. A new base volume with the grid of the one shown
 * (another tomogram of the same size) replaces the data only. Mesh changes (points) redraw without
 * reloading the volumes. On software GL the multiplanar layout leaves the 3D render out (seconds
 * per frame there); the 3D view is one click away.
 */
import { cmapper, Niivue, NVImage, SHOW_RENDER, SLICE_TYPE } from '@niivue/niivue';
import { createStore } from 'zustand/vanilla';
import { writeNifti } from '../core/io/nifti';
import { makeVolume, spatialShape, type Volume, type VoxelArray } from '../core/volume';
import { CROSSHAIR_RGBA } from './kit/colourScale';
import { labelColormap } from './overlay';
import type { SliceView } from './store';
import { calMinMaxFast, type WindowedImage } from './viewerWindow';
import {
  applyLive,
  createLut,
  glOf,
  gridMatrix,
  holds,
  idleShader,
  installLiveShader,
  isSoftwareGl,
  uploadVolume,
  withoutBaking,
  writeLut,
  type LiveTexture,
  type LiveUniforms,
} from './viewerLive';

type PointsMesh = ReturnType<Niivue['loadConnectomeAsMesh']>;

/** A Niivue label colormap: colours R, G, B, alpha A of label indices I (and names). */
export type LabelColormap = ReturnType<typeof labelColormap>;

interface ViewerState {
  nv: Niivue | null;
  /** The canvas the instance is attached to. */
  attached: HTMLCanvasElement | null;
  baseImg: NVImage | null;
  /** The volume the base shows (its grid, affine and first channel). */
  baseVol: Volume | null;
  /** Niivue's overlay image (live: only while the 3D render needs it). */
  overlayImg: NVImage | null;
  /** Loads run one after another, so a slow base load cannot land after a newer one. */
  queue: Promise<unknown>;
  /** The overlay style last applied (styleOverlay skips a repeat). */
  lastStyle: string;
  pointsMesh: PointsMesh | null;
  /** The patched slice shader is installed on the current context: live updates. */
  live: boolean;
  /** The context the live textures belong to. */
  gl: WebGL2RenderingContext | null;
  /** WebGL renders in software (SwiftShader, llvmpipe). */
  software: boolean;
  /** Uploaded textures, least recently used first. */
  textures: LiveTexture[];
  lut: WebGLTexture | null;
  uniforms: LiveUniforms;
  /** The overlay shown (data and style), for the 3D render's baked copy. */
  overlayData: OverlayData | null;
  overlayStyle: OverlayStyle | null;
  /** Label colours of the overlay (labels only). */
  labelColours: LabelColormap | null;
  /** Niivue's baked textures (3D render) lag behind what the slices show. */
  stale: boolean;
  bakeQueued: boolean;
  /** Bumped by each base and overlay change: an upload for an older one is dropped. */
  seq: number;
  /** Bumped by each base change only: an overlay shown right after a new base does not cancel the base's upload. */
  baseSeq: number;
  /** drawScene of this instance applies the live uniforms first and draws once per frame. */
  wrapped: Niivue | null;
  /** A draw is asked for the next animation frame. */
  drawPending: boolean;
  /** Canvas size at the last draw. */
  drawnSize: string;
  /** A program that draws nothing, for Niivue's baking passes while no 3D render needs them. */
  idle: ReturnType<typeof idleShader>;
  /** Niivue bakes for real now (a 3D render is to show it). */
  baking: boolean;
  /** The multiplanar grid's free tile (no 3D render in it), CSS pixels of the canvas, as last drawn. */
  freeTile: FreeTile | null;
}

/** A rectangle of the canvas in CSS pixels. */
export interface FreeTile {
  left: number;
  top: number;
  width: number;
  height: number;
}

const noLive = (): LiveUniforms => ({ base: null, overlay: null, lut: null });

const viewer = createStore<ViewerState>()(() => ({
  nv: null,
  attached: null,
  baseImg: null,
  baseVol: null,
  overlayImg: null,
  queue: Promise.resolve(),
  lastStyle: '',
  pointsMesh: null,
  live: false,
  gl: null,
  software: false,
  textures: [],
  lut: null,
  uniforms: noLive(),
  overlayData: null,
  overlayStyle: null,
  labelColours: null,
  stale: false,
  bakeQueued: false,
  seq: 0,
  baseSeq: 0,
  wrapped: null,
  drawPending: false,
  drawnSize: '',
  idle: null,
  baking: false,
  freeTile: null,
}));
const refs = (): ViewerState => viewer.getState();
const keep = (patch: Partial<ViewerState>): void => viewer.setState(patch);

export function getNiivue(): Niivue {
  const have = refs().nv;
  if (have) return have;
  const nv = new Niivue({
    backColor: [0, 0, 0, 1],
    show3Dcrosshair: true,
    crosshairColor: CROSSHAIR_RGBA, // lime: in no overlay colormap or label palette of the pages
    crosshairWidth: 0.4,
    crosshairWidthUnit: 'percent',
    isColorbar: false,
    isOrientCube: false,
    multiplanarForceRender: true,
    textHeight: 0.04,
    logLevel: 'error',
    loadingText: '',
  });
  keep({ nv });
  return nv;
}

/** Attaches the instance to `canvas` (once per canvas); volumes shown before wait for it. */
export function attachCanvas(canvas: HTMLCanvasElement): Promise<Niivue> {
  return serial(async () => {
    const v = getNiivue();
    if (refs().attached !== canvas) {
      keep({ attached: canvas });
      await v.attachToCanvas(canvas);
      startLive(v);
    }
    return v;
  });
}

/**
 * After a lost WebGL context came back (and Niivue's init() made its own GL objects again): the
 * live layers start over on the restored context (the context object is the same, its textures,
 * programs and the patched slice shader are gone), and the next showBase/showOverlay upload anew.
 */
export function viewerContextRestored(): void {
  const v = refs().nv;
  // what was queued on the lost context (an upload waiting for frames) is dropped: seq moves on, the queue starts anew
  keep({ gl: null, live: false, textures: [], lut: null, uniforms: noLive(), baseImg: null, baseVol: null, overlayImg: null, overlayData: null, lastStyle: '', drawnSize: '', seq: refs().seq + 1, baseSeq: refs().baseSeq + 1, queue: Promise.resolve() });
  if (v) startLive(v);
}

/** The live layers on the context the instance now draws with (a new canvas has a new context). */
function startLive(v: Niivue): void {
  const gl = glOf(v);
  if (!gl || gl === refs().gl) return;
  const live = installLiveShader(v);
  keep({ gl, live, software: isSoftwareGl(gl), textures: [], lut: live ? createLut(gl) : null, uniforms: noLive(), stale: true, idle: live ? idleShader(gl) : null });
  if (refs().wrapped !== v) wrapDrawing(v);
  if (refs().software) v.resizeListener();
}

/**
 * Draws at most once per animation frame (a click makes Niivue draw three times; each draw of a
 * 256³ view takes a frame's worth of GPU time on software GL), binding the live layers first. A
 * draw after the canvas changed size happens at once (a resized canvas is blank until drawn). On
 * software GL the canvas renders at most SOFTWARE_PIXELS pixels (the browser scales it up).
 */
function wrapDrawing(v: Niivue): void {
  const draw = v.drawScene.bind(v);
  const drawNow = (): void => {
    keep({ drawPending: false, drawnSize: `${v.canvas?.width}x${v.canvas?.height}` });
    const s = refs();
    if (s.live && s.nv === v) {
      // the window is Niivue's own (cal_min/cal_max: set by setBaseWindow, or by its right-drag)
      const b = s.uniforms.base;
      const img = s.baseImg;
      applyLive(v, b && img ? { ...s.uniforms, base: { ...b, window: [img.cal_min ?? b.window[0], img.cal_max ?? b.window[1]] } } : s.uniforms, s.lut);
    }
    draw();
    noteFreeTile(v);
  };
  v.drawScene = (() => {
    if (refs().drawnSize !== `${v.canvas?.width}x${v.canvas?.height}`) return drawNow();
    if (refs().drawPending) return undefined;
    keep({ drawPending: true });
    requestAnimationFrame(() => {
      if (refs().drawPending) drawNow();
    });
    return undefined;
  }) as typeof v.drawScene;
  // Niivue bakes volumes (for its 3D render) on every update: while no 3D render shows, its passes draw nothing
  const n = v as Niivue & { refreshLayers(img: NVImage, layer: number): void };
  const refresh = n.refreshLayers.bind(v);
  n.refreshLayers = (img: NVImage, layer: number) => {
    const s = refs();
    if (!s.live || s.baking || renderShown(v)) return refresh(img, layer);
    keep({ stale: true });
    withoutBaking(v, s.idle, () => refresh(img, layer));
  };
  const resize = v.resizeListener.bind(v);
  v.resizeListener = () => {
    const c = v.canvas;
    if (c && refs().software) {
      const css = Math.max(1, c.clientWidth * c.clientHeight);
      v.opts.forceDevicePixelRatio = Math.min(window.devicePixelRatio || 1, Math.sqrt(SOFTWARE_PIXELS / css));
    }
    resize();
  };
  keep({ wrapped: v });
}

/**
 * The tile of the multiplanar 2x2 grid that Niivue leaves free when it draws no 3D render (right of
 * the axial slice, under the sagittal one), in CSS pixels; null in other layouts.
 */
function noteFreeTile(v: Niivue): void {
  const c = v.canvas;
  const tiles = v.screenSlices;
  const ax = tiles.find((t) => t.axCorSag === SLICE_TYPE.AXIAL)?.leftTopWidthHeight;
  const sag = tiles.find((t) => t.axCorSag === SLICE_TYPE.SAGITTAL)?.leftTopWidthHeight;
  const grid = v.opts.sliceType === SLICE_TYPE.MULTIPLANAR && tiles.length === 3 && ax && sag && sag[0] >= ax[0] + ax[2] && ax[1] >= sag[1] + sag[3];
  const k = c && c.clientWidth > 0 ? c.width / c.clientWidth : 1;
  const tile = grid ? { left: sag[0] / k, top: ax[1] / k, width: sag[2] / k, height: ax[3] / k } : null;
  const had = refs().freeTile;
  const same = had && tile ? (['left', 'top', 'width', 'height'] as const).every((key) => Math.abs(had[key] - tile[key]) < 0.5) : had === tile;
  if (!same) keep({ freeTile: tile });
}

/** The multiplanar grid's free tile as last drawn (a stable object until it moves). */
export function freeTile(): FreeTile | null {
  return refs().freeTile;
}

/** Calls `cb` when the free tile moves, appears or goes; returns the unsubscribe. */
export function onFreeTile(cb: () => void): () => void {
  return viewer.subscribe((s, prev) => {
    if (s.freeTile !== prev.freeTile) cb();
  });
}

/** Pixels of the canvas on software GL: each draw costs CPU time per pixel (about 0.1 s per 250k pixels on a busy 2-core machine, blocking the page while the GPU process catches up). */
const SOFTWARE_PIXELS = 150_000;

/** The base image as Niivue holds it (its cal_min/cal_max and robust range). */
export function baseImage(): NVImage | null {
  return refs().baseImg;
}

function serial<T>(job: () => Promise<T>): Promise<T> {
  const next = refs().queue.then(job, job);
  keep({ queue: next.catch(() => undefined) });
  return next;
}

/** A colormap with its own intensity range (Niivue then windows by it, not by the data). */
function colormapHasRange(name: string): boolean {
  const c = cmapper.colormapFromKey(name) as { min?: number; max?: number };
  return (c.min ?? 0) !== (c.max ?? 0);
}

/** Niivue reads these NIfTI types; others are shown as float32. */
function displayable(data: VoxelArray): VoxelArray {
  if (data instanceof Int8Array || data instanceof Uint32Array) return Float32Array.from(data);
  return data;
}

/** A 3D volume on `ref`'s grid and affine. */
function onGrid(ref: Volume, data: VoxelArray, name: string): Volume {
  return makeVolume(data, spatialShape(ref), {
    spacing: ref.spacing,
    unit: ref.unit,
    affine: ref.affine,
    source: { name, format: 'nifti' },
  });
}

async function toImage(vol: Volume, name: string, opts: Record<string, unknown> = {}): Promise<NVImage> {
  const bytes = writeNifti(vol, { gzip: false });
  return NVImage.loadFromUrl({ url: bytes, name, ...opts });
}

/** The texture of `data` (a cached one, or uploaded now in slabs); null when `seq` moved on meanwhile (or `live()` turned false). */
async function textureOf(data: VoxelArray, shape: [number, number, number], as: LiveTexture['as'], seq: number | (() => boolean)): Promise<LiveTexture | null> {
  const s = refs();
  const gl = s.gl;
  if (!gl) return null;
  const hit = s.textures.find((t) => holds(t, data, as));
  if (hit) {
    keep({ textures: [...s.textures.filter((t) => t !== hit), hit] });
    return hit;
  }
  const live = typeof seq === 'number' ? () => refs().seq === seq : seq;
  const tex = await uploadVolume(gl, data, shape, as, () => live() && refs().gl === gl);
  if (!tex) return null;
  // keep the newest within the budget; never drop what is shown
  const shown = new Set([refs().uniforms.base?.tex, refs().uniforms.overlay?.tex]);
  const list = [...refs().textures, tex];
  let bytes = list.reduce((a, t) => a + t.bytes, 0);
  while (bytes > TEXTURE_BUDGET && list.length > 1) {
    const i = list.findIndex((t) => !shown.has(t) && t !== tex);
    if (i < 0) break;
    bytes -= list[i].bytes;
    gl.deleteTexture(list[i].tex);
    list.splice(i, 1);
  }
  keep({ textures: list });
  return tex;
}

/** GPU memory kept for cached textures (base volumes, overlay channels). */
const TEXTURE_BUDGET = 512 * 2 ** 20;

const sameGrid = (a: Volume, b: Volume): boolean =>
  spatialShape(a).every((d, i) => d === spatialShape(b)[i]) && a.affine.every((row, r) => row.every((x, c) => Math.abs(x - b.affine[r][c]) <= 1e-6 * (1 + Math.abs(x))));

/** Drops Niivue's overlay image from the scene without reloading the base. */
function dropOverlayImage(v: Niivue): void {
  if (v.volumes.length > 1) {
    v.volumes = v.volumes.slice(0, 1);
    v.overlays = [];
  }
  keep({ overlayImg: null });
}

/** Replaces everything shown with `vol` (its first channel), or clears the view. */
export function showBase(vol: Volume | null): Promise<NVImage | null> {
  // a new base drops the overlays asked for before it (seq) and older bases (baseSeq)
  const seq = refs().baseSeq + 1;
  keep({ seq: refs().seq + 1, baseSeq: seq });
  const current = (): boolean => refs().baseSeq === seq;
  return serial(async () => {
    const v = getNiivue();
    const { live, baseImg: prev, baseVol: prevVol } = refs();
    keep({ overlayData: null, labelColours: null, uniforms: { ...refs().uniforms, overlay: live ? { kind: 'none', tex: null, mtx: null, calMin: 0, calMax: 1, opacity: 0 } : null } });
    if (!vol) {
      keep({ baseImg: null, baseVol: null, overlayImg: null, uniforms: noLive() });
      if (v.volumes.length > 1) dropOverlayImage(v);
      while (v.volumes.length > 0) v.removeVolume(v.volumes[v.volumes.length - 1]);
      v.drawScene();
      return null;
    }
    const [D, H, W] = spatialShape(vol);
    const first = displayable(vol.shape.length > 3 ? vol.data.subarray(0, D * H * W) : vol.data);
    const name = `${vol.source?.name ?? 'volume'}.nii`;
    let img: NVImage;
    if (live && prev && prevVol && v.volumes[0] === prev && sameGrid(prevVol, vol) && prev.img?.constructor === first.constructor) {
      // the grid Niivue shows already: new data, new intensity range; the 3D render catches up when shown
      dropOverlayImage(v);
      prev.img = first as unknown as typeof prev.img;
      prev.name = name;
      prev.ignoreZeroVoxels = false;
      // Niivue's prev.calMinMax() took 100-200 ms here (in the click that picked the tomogram)
      calMinMaxFast(prev as unknown as WindowedImage, colormapHasRange(prev.colormap));
      img = prev;
      keep({ baseImg: img, baseVol: vol, stale: true });
    } else {
      keep({ baseImg: null, overlayImg: null });
      // dropped without removeVolume(): each of those re-uploads what is left, which is slow on software GL
      v.volumes = [];
      v.overlays = [];
      img = await toImage(onGrid(vol, first, 'base'), name, { colormap: 'gray' });
      keep({ uniforms: { ...refs().uniforms, base: null } });
      // live: the texture first, then Niivue's geometry (its baking passes idle unless a 3D render shows them)
      const tex = refs().live ? await textureOf(first, [D, H, W], 'values', current) : null;
      if (refs().live && !tex && !current()) return null; // a newer volume is on its way
      v.addVolume(img);
      keep({ baseImg: img, baseVol: vol });
      const mtx = tex && gridMatrix(v, vol);
      if (tex && mtx) keep({ uniforms: { ...refs().uniforms, base: { tex, mtx, window: [img.cal_min ?? 0, img.cal_max ?? 1] } } });
    }
    if (refs().live && img === prev) {
      const tex = await textureOf(first, [D, H, W], 'values', current);
      const mtx = tex && gridMatrix(v, vol);
      if (tex && mtx && refs().baseImg === img) {
        keep({ uniforms: { ...refs().uniforms, base: { tex, mtx, window: [img.cal_min ?? 0, img.cal_max ?? 1] } } });
      }
    }
    v.drawScene();
    bakeIfShown();
    return img;
  });
}

export interface OverlayData {
  /** heatmap: a value map shown through a colormap; labels: a label map (uint8), or a value map with 1 above the style's calMin. */
  kind: 'heatmap' | 'labels';
  /** Float32 channel (heatmap, or labels by threshold) or uint8 label map (labels) on the `ref` grid. */
  data: Float32Array | Uint8Array;
  /** The grid and affine of `data` (the input volume, or its own grid placed over it). */
  ref: Volume;
  nLabels: number;
  labelNames: string[] | null;
  /** Label colours; default labelColormap(nLabels, labelNames). */
  colours?: LabelColormap;
}

export interface OverlayStyle {
  colormap: string;
  opacity: number;
  /** Heatmap cal_min / cal_max (labels from values: calMin is the threshold). */
  calMin: number;
  calMax: number;
  visible: boolean;
}

/** 256 RGBA entries of label colours (index I[k] gets colour k; the rest transparent). */
function labelLut(c: LabelColormap): Uint8Array {
  const out = new Uint8Array(256 * 4);
  c.I.forEach((idx, k) => {
    if (idx < 0 || idx > 255) return;
    out.set([c.R[k], c.G[k], c.B[k], c.A[k]], idx * 4);
  });
  return out;
}

/** The live overlay uniforms for `style` (texture and matrix kept). */
function liveOverlay(data: OverlayData, style: OverlayStyle, tex: LiveTexture | null, mtx: Float32Array | null): LiveUniforms['overlay'] {
  const kind = data.kind === 'heatmap' ? 'heatmap' : data.data instanceof Uint8Array ? 'labels' : 'above';
  return { kind, tex, mtx, calMin: style.calMin, calMax: style.calMax, opacity: style.visible ? style.opacity : 0 };
}

/** Sets the lookup table of the live overlay: the heatmap's colormap or the label colours. */
function setLut(data: OverlayData, style: OverlayStyle): void {
  const { gl, lut, nv } = refs();
  if (!gl || !lut || !nv) return;
  if (data.kind === 'heatmap') {
    writeLut(gl, lut, Uint8Array.from(nv.colormap(style.colormap) as ArrayLike<number>));
  } else {
    const colours = refs().labelColours ?? data.colours ?? labelColormap(data.nLabels, data.labelNames);
    writeLut(gl, lut, labelLut(colours));
  }
}

/** Replaces the overlay (or removes it when `data` is null). */
export function showOverlay(data: OverlayData | null, style: OverlayStyle): Promise<void> {
  const seq = refs().seq + 1;
  keep({ seq, overlayStyle: style, lastStyle: styleKey(style) });
  if (!refs().live) return showOverlayBaked(data, style);
  return serial(async () => {
    const v = getNiivue();
    if (refs().seq !== seq) return;
    const { baseImg } = refs();
    if (!data || !baseImg) {
      keep({ overlayData: null, labelColours: null, uniforms: { ...refs().uniforms, overlay: { kind: 'none', tex: null, mtx: null, calMin: 0, calMax: 1, opacity: 0 } } });
      if (refs().overlayImg) dropOverlayImage(v);
      keep({ stale: true });
      v.drawScene();
      bakeIfShown();
      return;
    }
    const shape = spatialShape(data.ref);
    const tex = await textureOf(data.data, shape, data.kind === 'labels' && data.data instanceof Uint8Array ? 'labels' : 'values', seq);
    if (!tex || refs().seq !== seq) return;
    const mtx = gridMatrix(v, data.ref);
    const cur = refs().overlayStyle ?? style;
    keep({ overlayData: data, labelColours: data.colours ?? null, uniforms: { ...refs().uniforms, overlay: liveOverlay(data, cur, tex, mtx) }, stale: true });
    setLut(data, cur);
    v.drawScene();
    bakeIfShown();
  });
}

/**
 * Uploads the textures of overlays likely shown next (the other channels of a result) while the
 * page is idle, so that switching to one draws at once; skipped when they would not fit the
 * texture budget next to what is shown.
 */
export function prefetchOverlays(list: OverlayData[]): Promise<void> {
  const base = refs().baseVol;
  if (!refs().live || !base) return Promise.resolve();
  const bytes = list.reduce((a, d) => a + d.data.length * (d.data instanceof Uint8Array ? 1 : 4), 0);
  if (bytes > TEXTURE_BUDGET / 2) return Promise.resolve();
  return serial(async () => {
    for (const d of list) {
      if (refs().baseVol !== base) return;
      await textureOf(d.data, spatialShape(d.ref), d.kind === 'labels' && d.data instanceof Uint8Array ? 'labels' : 'values', () => refs().baseVol === base);
    }
  });
}

/** Without live layers: a new Niivue image for the overlay, swapped in. */
function showOverlayBaked(data: OverlayData | null, style: OverlayStyle): Promise<void> {
  return serial(async () => {
    const v = getNiivue();
    const { baseImg, overlayImg } = refs();
    if (!data || !baseImg) {
      if (overlayImg) v.removeVolume(overlayImg);
      keep({ overlayImg: null, overlayData: null });
      return;
    }
    const img = await overlayImage(data, style);
    const old = refs().overlayImg;
    keep({ overlayImg: img, overlayData: data });
    if (old && v.volumes.includes(old)) {
      // swap in place: one upload instead of removeVolume() + addVolume()
      v.volumes = v.volumes.map((x) => (x === old ? img : x));
      v.overlays = v.volumes.slice(1);
      v.updateGLVolume();
    } else {
      v.addVolume(img);
    }
  });
}

/** Niivue's image of an overlay in `style` (what its 3D render and the fallback draw). */
async function overlayImage(data: OverlayData, style: OverlayStyle): Promise<NVImage> {
  const name = data.kind === 'labels' ? 'labels.nii' : 'heatmap.nii';
  let values: Float32Array | Uint8Array = data.data;
  if (data.kind === 'labels' && !(values instanceof Uint8Array)) {
    const above = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) above[i] = values[i] > style.calMin ? 1 : 0;
    values = above;
  }
  const img = await toImage(onGrid(data.ref, values, name), name, {
    colormap: data.kind === 'labels' ? 'gray' : style.colormap,
    opacity: style.visible ? style.opacity : 0,
    cal_min: style.calMin,
    cal_max: style.calMax,
  });
  if (data.kind === 'labels') img.setColormapLabel(refs().labelColours ?? data.colours ?? labelColormap(data.nLabels, data.labelNames));
  return img;
}

const styleKey = (s: OverlayStyle): string => JSON.stringify(s);

/** Colormap, opacity and threshold of the current overlay, without reloading it. */
export function styleOverlay(style: OverlayStyle): void {
  const { nv: v, overlayImg, lastStyle, live, overlayData, uniforms } = refs();
  if (!v || styleKey(style) === lastStyle) return;
  keep({ lastStyle: styleKey(style), overlayStyle: style });
  if (live) {
    const ov = uniforms.overlay;
    if (!overlayData || !ov || ov.kind === 'none') return;
    keep({ uniforms: { ...uniforms, overlay: liveOverlay(overlayData, style, ov.tex, ov.mtx) }, stale: true });
    if (overlayData.kind === 'heatmap') setLut(overlayData, style);
    v.drawScene();
    bakeIfShown();
    return;
  }
  if (!overlayImg) return;
  if (overlayData?.kind === 'labels' && !(overlayData.data instanceof Uint8Array)) {
    // labels above a threshold: a new label map
    void showOverlayBaked(overlayData, style);
    return;
  }
  if (!overlayImg.colormapLabel) {
    overlayImg.colormap = style.colormap;
    overlayImg.cal_min = style.calMin;
    overlayImg.cal_max = style.calMax;
  }
  overlayImg.opacity = style.visible ? style.opacity : 0;
  v.updateGLVolume();
}

/** New colours (and hidden labels: alpha 0) for the label overlay, without reloading it. */
export function recolourLabels(colours: LabelColormap): void {
  const { nv: v, live, overlayData, overlayImg } = refs();
  if (!v) return;
  keep({ labelColours: colours });
  if (live) {
    if (!overlayData || overlayData.kind !== 'labels') return;
    setLut(overlayData, refs().overlayStyle ?? { colormap: 'gray', opacity: 1, calMin: 0, calMax: 1, visible: true });
    keep({ stale: true });
    v.drawScene();
    bakeIfShown();
    return;
  }
  if (!overlayImg) return;
  overlayImg.setColormapLabel(colours);
  v.updateGLVolume();
}

export function setBaseWindow(min: number, max: number): void {
  const { nv, baseImg, live } = refs();
  if (!nv || !baseImg || !(max > min) || (baseImg.cal_min === min && baseImg.cal_max === max)) return;
  baseImg.cal_min = min;
  baseImg.cal_max = max;
  if (live) {
    // the live slices read the window at their next draw; the 3D render catches up when shown
    keep({ stale: true });
    nv.drawScene();
    bakeIfShown();
    return;
  }
  nv.updateGLVolume();
}

/** A 3D render is on screen (the render view, or the multiplanar layout with its render tile). */
function renderShown(v: Niivue): boolean {
  const o = v.opts as typeof v.opts & { multiplanarForceRender?: boolean };
  if (o.sliceType === SLICE_TYPE.RENDER) return true;
  if (o.sliceType !== SLICE_TYPE.MULTIPLANAR) return false;
  return o.multiplanarForceRender === true || o.multiplanarShowRender !== SHOW_RENDER.NEVER;
}

/** Brings Niivue's baked textures up to date (next in the queue) when its 3D render shows them. */
function bakeIfShown(): void {
  const s = refs();
  if (!s.live || !s.stale || s.bakeQueued || !s.nv || !renderShown(s.nv)) return;
  keep({ bakeQueued: true });
  void serial(async () => {
    keep({ bakeQueued: false });
    const v = getNiivue();
    const { baseImg, overlayData, overlayStyle, stale } = refs();
    if (!stale || !baseImg || v.volumes[0] !== baseImg) return;
    const img = overlayData && overlayStyle ? await overlayImage(overlayData, overlayStyle) : null;
    if (refs().baseImg !== baseImg) return;
    v.volumes = img ? [baseImg, img] : [baseImg];
    v.overlays = v.volumes.slice(1);
    keep({ overlayImg: img, stale: false, baking: true });
    try {
      v.updateGLVolume();
    } finally {
      keep({ baking: false });
    }
  }).catch(() => keep({ bakeQueued: false }));
}
const SLICE: Record<SliceView, SLICE_TYPE> = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  render: SLICE_TYPE.RENDER,
};

export function setSliceView(view: SliceView): void {
  const v = getNiivue();
  if (view === 'multiplanar' && refs().software) {
    // software GL: a 3D render tile costs seconds per frame (each click, each window change); the 3D view keeps it
    const o = v.opts as typeof v.opts & { multiplanarForceRender?: boolean };
    o.multiplanarForceRender = false;
    o.multiplanarShowRender = SHOW_RENDER.NEVER;
  }
  v.setSliceType(SLICE[view]);
  bakeIfShown();
}

/** A marked point in voxel coordinates of the base volume ([z, y, x], may be fractional). */
export interface ViewPoint {
  name: string;
  /** [z, y, x] voxel indices on the base grid. */
  voxel: [number, number, number];
  /** Index into the node colormap range [0, 1]: 0 = prediction (warm), 1 = truth (cool), say. */
  color: number;
  /** Node radius in mm. */
  size: number;
}

/** World (mm) position of voxel [z, y, x] through the volume's affine (i = x, j = y, k = z). */
export function voxelToWorld(ref: Volume, [z, y, x]: [number, number, number]): [number, number, number] {
  const a = ref.affine;
  return [0, 1, 2].map((r) => a[r][0] * x + a[r][1] * y + a[r][2] * z + a[r][3]) as [number, number, number];
}

/** Shows points as connectome nodes over the base volume (or removes them with an empty list). */
export function showPoints(ref: Volume | null, points: ViewPoint[]): Promise<void> {
  return serial(async () => {
    const v = getNiivue();
    const old = refs().pointsMesh;
    // meshes go in and out of the scene directly: Niivue's addMesh/removeMesh reload every volume
    if (old) {
      v.meshes = v.meshes.filter((m) => m !== old);
      old.unloadMesh(v.gl);
    }
    keep({ pointsMesh: null });
    if (!ref || points.length === 0) {
      v.drawScene();
      return;
    }
    const world = points.map((p) => voxelToWorld(ref, p.voxel));
    const pointsMesh = v.loadConnectomeAsMesh({
      name: 'points',
      nodeColormap: 'warm',
      nodeColormapNegative: 'winter',
      nodeMinColor: 0,
      nodeMaxColor: 1,
      nodeScale: 1,
      edgeColormap: 'warm',
      edgeColormapNegative: 'winter',
      edgeMin: 0,
      edgeMax: 1,
      edgeScale: 1,
      nodes: points.map((p, i) => ({ name: p.name, x: world[i][0], y: world[i][1], z: world[i][2], colorValue: p.color, sizeValue: p.size })),
      edges: [],
    });
    v.meshes = [...v.meshes, pointsMesh];
    // what updateGLVolume would have computed for the 3D render's extent
    const n = v as Niivue & { furthestVertexFromOrigin: number; volumeObject3D?: { furthestVertexFromOrigin?: number } | null };
    n.furthestVertexFromOrigin = Math.max(n.volumeObject3D?.furthestVertexFromOrigin ?? 0, ...v.meshes.map((m) => m.furthestVertexFromOrigin ?? 0));
    keep({ pointsMesh });
    // show nodes on 2D slices when they are within a few mm of the slice
    v.opts.meshThicknessOn2D = Math.max(...points.map((p) => p.size)) * 2;
    v.drawScene();
  });
}

/** Moves the crosshair to voxel [z, y, x] of the base volume. */
export function centreOn(ref: Volume, voxel: [number, number, number]): void {
  const v = getNiivue();
  const { baseImg } = refs();
  if (!baseImg) return;
  const mm = voxelToWorld(ref, voxel);
  const frac = baseImg.convertMM2Frac(mm);
  v.scene.crosshairPos = frac as unknown as typeof v.scene.crosshairPos;
  v.drawScene();
  v.createOnLocationChange();
}

/** What a share link keeps of the Niivue scene: crosshair (fractions of the base volume), 2D pan (mm) and zoom. */
export interface SceneView {
  crosshair: [number, number, number];
  pan: [number, number, number];
  zoom: number;
}

/** The scene as shown now; null when no volume is shown. */
export function readScene(): SceneView | null {
  const { nv, baseImg } = refs();
  if (!nv || !baseImg) return null;
  const c = nv.scene.crosshairPos;
  const p = nv.scene.pan2Dxyzmm;
  return { crosshair: [c[0], c[1], c[2]], pan: [p[0], p[1], p[2]], zoom: p[3] };
}

/** Moves the crosshair and sets pan/zoom (what readScene gave); the readout follows. */
export function writeScene(s: Partial<SceneView>): void {
  const { nv: v, baseImg } = refs();
  if (!v || !baseImg) return;
  if (s.crosshair) {
    const c = v.scene.crosshairPos;
    for (let i = 0; i < 3; i++) c[i] = Math.min(1, Math.max(0, s.crosshair[i]));
  }
  if (s.pan || s.zoom !== undefined) {
    const p = v.scene.pan2Dxyzmm;
    if (s.pan) for (let i = 0; i < 3; i++) p[i] = s.pan[i];
    if (s.zoom !== undefined && s.zoom > 0) p[3] = s.zoom;
  }
  v.drawScene();
  v.createOnLocationChange();
}

/** Resolves when every queued volume/overlay/points load has finished. */
export function viewerIdle(): Promise<void> {
  return refs().queue.then(() => undefined);
}

/** What the view shows, for tests: live layers on, software GL, the live overlay's kind, Niivue's baked textures up to date. */
export function viewerInfo(): { live: boolean; software: boolean; base: boolean; overlay: string | null; baked: boolean } {
  const s = refs();
  return { live: s.live, software: s.software, base: !!s.uniforms.base, overlay: s.uniforms.overlay?.kind ?? null, baked: !s.stale };
}
