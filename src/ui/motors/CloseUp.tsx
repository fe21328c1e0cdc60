/** The detected motor close up (closeUp.ts): its axial slice around the point, the heatmap over it, the points as rings. */
import { cmapper } from '@niivue/niivue';
import { useEffect, useMemo, useRef } from 'react';
import type { Point3 } from '../../core/motors/pipeline';
import type { Tomogram } from '../../core/motors/tomogram';
import { closeUp } from './closeUpPixels';

/** Side of the crop in voxels: a quarter of the tomogram's larger in-plane side, 24 to 96. */
export function closeUpSide(shape: Point3): number {
  return Math.max(24, Math.min(96, Math.round(Math.max(shape[1], shape[2]) / 4)));
}

export interface CloseUpProps {
  tomo: Tomogram;
  det: { point: Point3; heatmap: Float32Array; heatmapShape: Point3 };
  colormap: string;
  calMin: number;
  calMax: number;
  opacity: number;
  /** Rings of radius `near` voxels: the detected motor and the true ones ([z, y, x]), drawn when within 2 `near` of the slice (as the points on the slices). */
  points: { voxel: Point3; css: string }[];
  near: number;
}

export function CloseUp({ tomo, det, colormap, calMin, calMax, opacity, points, near }: CloseUpProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const lut = useMemo(() => cmapper.colormap(colormap), [colormap]);
  const img = useMemo(
    () => closeUp({ data: tomo.data, shape: tomo.shape, heatmap: det.heatmap, heatmapShape: det.heatmapShape, point: det.point, side: closeUpSide(tomo.shape), lut, calMin, calMax, opacity }),
    [tomo, det, lut, calMin, calMax, opacity],
  );

  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const draw = (): void => {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
      const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
      if (canvas.width !== w) canvas.width = w;
      if (canvas.height !== h) canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      // the square crop, centred in the canvas
      const size = Math.min(w, h);
      ctx.clearRect(0, 0, w, h);
      ctx.save();
      ctx.translate(Math.round((w - size) / 2), Math.round((h - size) / 2));
      const src = new OffscreenCanvas(img.side, img.side);
      src.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.side, img.side), 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(src, 0, 0, size, size);
      const k = size / img.side;
      ctx.lineWidth = Math.max(1.5, size / 90);
      for (const p of points) {
        if (Math.abs(p.voxel[0] - img.z) > 2 * near) continue;
        const cx = (p.voxel[2] - img.x0 + 0.5) * k;
        const cy = (p.voxel[1] - img.y0 + 0.5) * k;
        if (cx < 0 || cy < 0 || cx > size || cy > size) continue;
        ctx.strokeStyle = p.css;
        ctx.beginPath();
        ctx.arc(cx, cy, Math.max(4, near * k), 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.restore();
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(canvas);
    return () => ro.disconnect();
  }, [img, points, near]);

  return (
    <div className="motor-closeup" data-testid="motor-closeup">
      <div className="motor-closeup-image">
        <canvas ref={ref} data-testid="motor-closeup-canvas" aria-label={`the detected motor close up: axial slice z ${img.z}, ${img.side} x ${img.side} voxels`} />
      </div>
      <div className="motor-closeup-caption muted">
        close-up: z {img.z}, {img.side}×{img.side} voxels
      </div>
    </div>
  );
}
