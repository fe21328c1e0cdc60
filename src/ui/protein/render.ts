/**
 * Drawing a field of view as RGBA: the RGBY composite (yellow shown as red + green, as HPA viewers
 * do), the CAM of one class as a colour overlay, and cell outlines coloured by each cell's top class;
 * and the view values that say what is drawn. Pure functions over typed arrays (the page puts the
 * result on a canvas; tests can read it).
 */
import type { ChannelData } from '../../core/protein/images';
import { PROTEIN_CHANNELS, type ProteinChannel } from '../../core/presets/protein';
import type { CellResult } from '../../core/protein/cells';
import { blend, INFERNO, ramp, type Rgb } from '../view2d/colour';

export const CHANNEL_RGB: Record<ProteinChannel, Rgb> = {
  red: [1, 0, 0],
  green: [0, 1, 0],
  blue: [0, 0, 1],
  yellow: [1, 1, 0],
};

/** 19 distinguishable colours for the classes (Negative = gray). */
export const CLASS_COLOURS: readonly string[] = [
  '#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe',
  '#008080', '#e6beff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000', '#ffd8b1', '#a0a0a0',
];

export function classColour(k: number): string {
  return CLASS_COLOURS[k % CLASS_COLOURS.length];
}

function hexRgb(h: string): Rgb {
  const v = parseInt(h.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** The CAM's colour at v (0..1): the inferno-like ramp of the 2D views. */
export const camColour = (v: number): Rgb => ramp(INFERNO, v);

export function channelMax(data: ChannelData): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > m) m = data[i];
  return m || 1;
}

/** A channel's display: shown or not, and its maximum as a fraction of the channel's own maximum (contrast). */
export interface ChannelView {
  on: boolean;
  max: number;
}

/** What the protein view shows (links and sessions carry it). */
export interface ProteinView {
  channels: Record<ProteinChannel, ChannelView>;
  showCam: boolean;
  /** Class whose CAM is shown; null = the selected image's most probable class. */
  camClass: number | null;
  camOpacity: number;
  showOutlines: boolean;
}

export const initialView: ProteinView = {
  channels: { red: { on: true, max: 1 }, green: { on: true, max: 1 }, blue: { on: true, max: 1 }, yellow: { on: true, max: 1 } },
  showCam: true,
  camClass: null,
  camOpacity: 0.5,
  showOutlines: true,
};

export interface RenderOptions {
  channels: Record<ProteinChannel, ChannelView>;
  /** Per channel maximum of the data (contrast is relative to it). */
  channelMax: number[];
  cam?: { data: Float32Array; opacity: number } | null;
  outlines?: { labels: Int32Array; cells: CellResult[]; selected: number | null } | null;
  /** Brightness of the RGBY composite (default 1): lower it so that the CAM stays visible over bright red and yellow (0: the CAM alone). */
  composite?: number;
}

/** RGBA [H * W * 4] of the composite, CAM and outlines. */
export function renderFov(width: number, height: number, channels: ChannelData[], o: RenderOptions): Uint8ClampedArray {
  const n = width * height;
  const rgb = new Float32Array(n * 3);
  PROTEIN_CHANNELS.forEach((name, c) => {
    const v = o.channels[name];
    if (!v.on) return;
    const [r, g, b] = CHANNEL_RGB[name];
    const scale = 1 / (o.channelMax[c] * Math.max(1e-3, v.max));
    const gain = o.composite ?? 1;
    if (!(gain > 0)) return;
    const d = channels[c];
    for (let i = 0; i < n; i++) {
      const x = Math.min(1, d[i] * scale) * gain;
      rgb[3 * i] += r * x;
      rgb[3 * i + 1] += g * x;
      rgb[3 * i + 2] += b * x;
    }
  });
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = Math.min(1, rgb[3 * i]) * 255;
    out[4 * i + 1] = Math.min(1, rgb[3 * i + 1]) * 255;
    out[4 * i + 2] = Math.min(1, rgb[3 * i + 2]) * 255;
    out[4 * i + 3] = 255;
  }
  if (o.cam) {
    const { data, opacity } = o.cam;
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (!(v > 0)) continue;
      const [r, g, b] = blend([out[4 * i], out[4 * i + 1], out[4 * i + 2]], camColour(v), opacity * Math.min(1, v));
      out[4 * i] = r;
      out[4 * i + 1] = g;
      out[4 * i + 2] = b;
    }
  }
  if (o.outlines) {
    const { labels, cells, selected } = o.outlines;
    const colour = new Map<number, Rgb>();
    for (const c of cells) {
      const top = [...c.labels].sort((a, b) => b.confidence - a.confidence)[0];
      colour.set(c.id, hexRgb(classColour(top?.cls ?? 18)));
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const l = labels[i];
        if (!l) continue;
        const edge = (x > 0 && labels[i - 1] !== l) || (x < width - 1 && labels[i + 1] !== l) || (y > 0 && labels[i - width] !== l) || (y < height - 1 && labels[i + width] !== l);
        if (!edge) continue;
        const c: Rgb = l === selected ? [255, 255, 255] : (colour.get(l) ?? [160, 160, 160]);
        out[4 * i] = c[0];
        out[4 * i + 1] = c[1];
        out[4 * i + 2] = c[2];
      }
    }
  }
  return out;
}
