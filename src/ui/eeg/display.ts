/**
 * Drawing the spectrogram: the four chains (LL, RL, LP, RP) stacked, frequency rising within each
 * panel, time to the right; natural-log power on a colour scale with a colour bar labelled in
 * power; the CAM of one class blended over the model's window. Pure canvas 2D code (no React);
 * the colour ramps are the 2D views' (../view2d/colour.ts).
 */
import { camOnSpectrogram, type EegCam } from '../../core/eeg/pipeline';
import type { Spectrogram } from '../../core/eeg/parquet';
import { EEG_CHAINS } from '../../core/presets/eeg';
import { blend, HOT, ramp as lut, VIRIDIS, type Rgb } from '../view2d/colour';

export const LAYOUT = { left: 84, right: 96, top: 10, bottom: 40, plotW: 720, panelH: 100, gap: 8 } as const;
export const PLOT_H = 4 * LAYOUT.panelH + 3 * LAYOUT.gap;
export const CANVAS_W = LAYOUT.left + LAYOUT.plotW + LAYOUT.right;
export const CANVAS_H = LAYOUT.top + PLOT_H + LAYOUT.bottom;

/** ln(clip(x)) per pixel (NaN kept) and a robust colour range (1st..99th percentile). */
export function logPower(spec: Spectrogram, clip: readonly [number, number]): { log: Float32Array; lo: number; hi: number } {
  const log = new Float32Array(spec.data.length);
  const sample: number[] = [];
  const step = Math.max(1, Math.floor(spec.data.length / 20000));
  for (let i = 0; i < log.length; i++) {
    const v = spec.data[i];
    if (v !== v) {
      log[i] = NaN;
      continue;
    }
    log[i] = Math.log(Math.min(Math.max(v, clip[0]), clip[1]));
    if (i % step === 0) sample.push(log[i]);
  }
  sample.sort((a, b) => a - b);
  const q = (p: number) => sample[Math.min(sample.length - 1, Math.max(0, Math.round(p * (sample.length - 1))))] ?? 0;
  const lo = q(0.01);
  let hi = q(0.99);
  if (!(hi > lo)) hi = lo + 1;
  return { log, lo, hi };
}

export interface DrawOptions {
  spec: Spectrogram;
  log: { log: Float32Array; lo: number; hi: number };
  /** Rows that went into the model. */
  window: { start: number; rows: number } | null;
  cam: EegCam | null;
  cls: number;
  showCam: boolean;
  opacity: number;
  className: string;
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function fmtPower(v: number): string {
  if (v >= 1000 || v < 0.01) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(2)));
}

export function drawSpectrogram(ctx: CanvasRenderingContext2D, o: DrawOptions): void {
  const { left, top, plotW, panelH, gap } = LAYOUT;
  const T = o.spec.rows;
  ctx.save();
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, CANVAS_W, CANVAS_H);
  const img = ctx.createImageData(plotW, PLOT_H);
  const d = img.data;
  const { log, lo, hi } = o.log;
  const inv = 1 / (hi - lo);
  const camImg = o.cam && o.showCam && o.window ? camOnSpectrogram(o.cam, Math.min(o.cls, o.cam.shape[0] - 1), 400, o.window.rows) : null;
  const w0 = o.window?.start ?? 0;
  const wn = o.window?.rows ?? T;
  for (let x = 0; x < plotW; x++) {
    const t = Math.min(T - 1, Math.floor(((x + 0.5) * T) / plotW));
    const inWin = t >= w0 && t < w0 + wn;
    for (let c = 0; c < 4; c++) {
      const y0 = c * (panelH + gap);
      for (let yy = 0; yy < panelH; yy++) {
        const bin = 99 - Math.floor((yy * 100) / panelH);
        const r = c * 100 + bin;
        const v = log[r * T + t];
        let rgb: Rgb = v !== v ? [120, 120, 120] : lut(VIRIDIS, (v - lo) * inv);
        if (!inWin) rgb = [rgb[0] * 0.4, rgb[1] * 0.4, rgb[2] * 0.4];
        if (camImg && inWin) {
          const cv = camImg[r * wn + (t - w0)];
          if (cv > 0.05) rgb = blend(rgb, lut(HOT, cv), o.opacity * cv);
        }
        const k = ((y0 + yy) * plotW + x) * 4;
        d[k] = rgb[0];
        d[k + 1] = rgb[1];
        d[k + 2] = rgb[2];
        d[k + 3] = 255;
      }
    }
  }
  for (let c = 1; c < 4; c++) {
    // gaps between the panels
    for (let yy = c * (panelH + gap) - gap; yy < c * (panelH + gap); yy++) for (let x = 0; x < plotW; x++) d[(yy * plotW + x) * 4 + 3] = 0;
  }
  ctx.putImageData(img, left, top);

  // axes
  ctx.fillStyle = '#ddd';
  ctx.strokeStyle = '#888';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const freqs = o.spec.freqs;
  for (let c = 0; c < 4; c++) {
    const y0 = top + c * (panelH + gap);
    ctx.textAlign = 'left';
    ctx.font = 'bold 12px system-ui, sans-serif';
    ctx.fillText(EEG_CHAINS[c], 4, y0 + panelH / 2);
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'right';
    for (const f of [1, 5, 10, 15, 20]) {
      let bin = 0;
      for (let b = 0; b < freqs.length; b++) if (Math.abs(freqs[b] - f) < Math.abs(freqs[bin] - f)) bin = b;
      if (Math.abs(freqs[bin] - f) > 0.2) continue;
      const y = y0 + panelH - 1 - (bin * panelH) / 100 + 0.5;
      ctx.fillText(`${f}`, left - 6, y);
      ctx.beginPath();
      ctx.moveTo(left - 4, y);
      ctx.lineTo(left, y);
      ctx.stroke();
    }
  }
  ctx.save();
  ctx.translate(36, top + PLOT_H / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText('frequency (Hz)', 0, 0);
  ctx.restore();
  // time axis: seconds from the time column
  const tFirst = o.spec.time[0];
  const tLast = o.spec.time[T - 1];
  const t0 = Number.isFinite(tFirst) ? tFirst : 0;
  const dt = T > 1 && Number.isFinite(tLast) ? (tLast - t0) / (T - 1) : 2;
  const span = dt * T;
  const step = niceStep(span, 8);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const yAxis = top + PLOT_H;
  for (let s = Math.ceil((t0 - dt / 2) / step) * step; s <= t0 - dt / 2 + span + 1e-9; s += step) {
    const x = left + ((s - (t0 - dt / 2)) / span) * plotW;
    ctx.beginPath();
    ctx.moveTo(x, yAxis);
    ctx.lineTo(x, yAxis + 4);
    ctx.stroke();
    ctx.fillText(`${Math.round(s)}`, x, yAxis + 6);
  }
  ctx.fillText('time (s)', left + plotW / 2, yAxis + 22);
  if (o.window && (o.window.start > 0 || o.window.rows < T)) {
    ctx.strokeStyle = '#fff';
    ctx.setLineDash([4, 3]);
    const xa = left + (o.window.start / T) * plotW;
    const xb = left + ((o.window.start + o.window.rows) / T) * plotW;
    ctx.strokeRect(xa + 0.5, top + 0.5, xb - xa - 1, PLOT_H - 1);
    ctx.setLineDash([]);
  }

  // colour bar (log scale, labelled in power)
  const bx = left + plotW + 14;
  const bw = 14;
  for (let yy = 0; yy < PLOT_H; yy++) {
    const [r, g, b] = lut(VIRIDIS, 1 - yy / (PLOT_H - 1));
    ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
    ctx.fillRect(bx, top + yy, bw, 1);
  }
  ctx.fillStyle = '#ddd';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (let e = Math.ceil(lo / Math.LN10); e <= Math.floor(hi / Math.LN10); e++) {
    const y = top + (1 - (e * Math.LN10 - lo) / (hi - lo)) * (PLOT_H - 1);
    ctx.fillRect(bx + bw, y, 4, 1);
    ctx.fillText(fmtPower(10 ** e), bx + bw + 6, y);
  }
  ctx.save();
  ctx.translate(bx + bw + 60, top + PLOT_H / 2);
  ctx.rotate(Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText('power, µV²/Hz (log scale)', 0, 0);
  ctx.restore();
  if (camImg) {
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#ffd27a';
    ctx.fillText(`${o.cam?.source === 'occlusion' ? 'occlusion' : 'CAM'}: ${o.className}`, left + plotW, yAxis + 22);
  }
  ctx.restore();
}
