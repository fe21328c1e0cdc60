/**
 * The one Niivue instance of the page and the calls that put our volumes into it.
 * Volumes travel as uncompressed NIfTI bytes written by core/io/nifti (same affine as the input).
 * The instance and what it shows are held by a small viewer store (not reactive: React reads
 * nothing from it), so that no module variable keeps state.
 */
import { Niivue, NVImage, SLICE_TYPE } from '@niivue/niivue';
import { createStore } from 'zustand/vanilla';
import { writeNifti } from '../core/io/nifti';
import { makeVolume, spatialShape, type Volume, type VoxelArray } from '../core/volume';
import { CROSSHAIR_RGBA } from './kit/colourScale';
import { labelColormap } from './overlay';
import type { SliceView } from './store';

type PointsMesh = ReturnType<Niivue['loadConnectomeAsMesh']>;

interface ViewerState {
  nv: Niivue | null;
  /** The canvas the instance is attached to. */
  attached: HTMLCanvasElement | null;
  baseImg: NVImage | null;
  overlayImg: NVImage | null;
  /** Loads run one after another, so a slow base load cannot land after a newer one. */
  queue: Promise<unknown>;
  /** The overlay style last applied (styleOverlay skips a repeat). */
  lastStyle: string;
  pointsMesh: PointsMesh | null;
}

const viewer = createStore<ViewerState>()(() => ({ nv: null, attached: null, baseImg: null, overlayImg: null, queue: Promise.resolve(), lastStyle: '', pointsMesh: null }));
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
    }
    return v;
  });
}

/** The base image as Niivue holds it (its cal_min/cal_max and robust range). */
export function baseImage(): NVImage | null {
  return refs().baseImg;
}

function serial<T>(job: () => Promise<T>): Promise<T> {
  const next = refs().queue.then(job, job);
  keep({ queue: next.catch(() => undefined) });
  return next;
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

/** Replaces everything shown with `vol` (its first channel), or clears the view. */
export function showBase(vol: Volume | null): Promise<NVImage | null> {
  return serial(async () => {
    const v = getNiivue();
    keep({ baseImg: null, overlayImg: null });
    if (!vol) {
      while (v.volumes.length > 0) v.removeVolume(v.volumes[v.volumes.length - 1]);
      v.drawScene();
      return null;
    }
    // dropped without removeVolume(): each of those re-uploads what is left, which is slow on software GL
    v.volumes = [];
    v.overlays = [];
    const [D, H, W] = spatialShape(vol);
    const first = vol.shape.length > 3 ? vol.data.subarray(0, D * H * W) : vol.data;
    const img = await toImage(onGrid(vol, displayable(first), 'base'), `${vol.source?.name ?? 'volume'}.nii`, { colormap: 'gray' });
    v.addVolume(img);
    keep({ baseImg: img });
    return img;
  });
}

export interface OverlayData {
  kind: 'heatmap' | 'labels';
  /** Float32 channel (heatmap) or uint8 label map (labels) on the base grid. */
  data: Float32Array | Uint8Array;
  /** The input volume (grid and affine). */
  ref: Volume;
  nLabels: number;
  labelNames: string[] | null;
}

export interface OverlayStyle {
  colormap: string;
  opacity: number;
  /** Heatmap cal_min / cal_max. */
  calMin: number;
  calMax: number;
  visible: boolean;
}

/** Replaces the overlay (or removes it when `data` is null). */
export function showOverlay(data: OverlayData | null, style: OverlayStyle): Promise<void> {
  return serial(async () => {
    const v = getNiivue();
    const { baseImg, overlayImg } = refs();
    if (!data || !baseImg) {
      if (overlayImg) v.removeVolume(overlayImg);
      keep({ overlayImg: null });
      return;
    }
    const name = data.kind === 'labels' ? 'labels.nii' : 'heatmap.nii';
    const img = await toImage(onGrid(data.ref, data.data, name), name, {
      colormap: data.kind === 'labels' ? 'gray' : style.colormap,
      opacity: style.visible ? style.opacity : 0,
      cal_min: style.calMin,
      cal_max: style.calMax,
    });
    if (data.kind === 'labels') img.setColormapLabel(labelColormap(data.nLabels, data.labelNames));
    const old = refs().overlayImg;
    keep({ overlayImg: img, lastStyle: styleKey(style) });
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

const styleKey = (s: OverlayStyle): string => JSON.stringify(s);

/** Colormap, opacity and threshold of the current overlay, without reloading it. */
export function styleOverlay(style: OverlayStyle): void {
  const { nv: v, overlayImg, lastStyle } = refs();
  if (!v || !overlayImg || styleKey(style) === lastStyle) return;
  keep({ lastStyle: styleKey(style) });
  if (!overlayImg.colormapLabel) {
    overlayImg.colormap = style.colormap;
    overlayImg.cal_min = style.calMin;
    overlayImg.cal_max = style.calMax;
  }
  overlayImg.opacity = style.visible ? style.opacity : 0;
  v.updateGLVolume();
}

export function setBaseWindow(min: number, max: number): void {
  const { nv, baseImg } = refs();
  if (!nv || !baseImg || !(max > min) || (baseImg.cal_min === min && baseImg.cal_max === max)) return;
  baseImg.cal_min = min;
  baseImg.cal_max = max;
  nv.updateGLVolume();
}

const SLICE: Record<SliceView, SLICE_TYPE> = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  render: SLICE_TYPE.RENDER,
};

export function setSliceView(view: SliceView): void {
  getNiivue().setSliceType(SLICE[view]);
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
    if (old) v.removeMesh(old);
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
    v.addMesh(pointsMesh);
    keep({ pointsMesh });
    // show nodes on 2D slices when they are within a few mm of the slice
    v.setMeshThicknessOn2D(Math.max(...points.map((p) => p.size)) * 2);
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
