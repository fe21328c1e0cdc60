/** Downloads: the one helper every page uses (files, text), and the workbench result as NIfTI in the input's space, argmax labels, raw .npy. */
import { writeNifti } from '../core/io/nifti';
import { writeNpy } from '../core/io/npy';
import { makeVolume, spatialShape } from '../core/volume';
import { labelsOf } from './derived';
import type { ResultState } from './store';

export function download(bytes: Uint8Array, fileName: string, type = 'application/octet-stream'): void {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** "t1" from "t1.nii.gz", "scan" from "scan.mrc". */
export function stem(name: string): string {
  return name.replace(/\.(nii\.gz|nii|mrc|map|rec|st|ali|npy|onnx|gz)$/i, '') || 'output';
}

function outName(r: ResultState, suffix: string): string {
  return `${stem(r.inputName)}_${stem(r.modelName)}_${suffix}`;
}

/** The output on the input grid with the input's affine and spacing; several channels -> 4D. */
export function resultNifti(r: ResultState): Uint8Array {
  const shape = spatialShape(r.input);
  const vol = makeVolume(r.onInput, r.channels > 1 ? [r.channels, ...shape] : shape, {
    spacing: r.input.spacing,
    unit: r.input.unit,
    affine: r.input.affine,
    source: { name: outName(r, 'output.nii.gz'), format: 'nifti' },
  });
  return writeNifti(vol, { gzip: true });
}

export function labelsNifti(r: ResultState, threshold: number): Uint8Array {
  const vol = makeVolume(labelsOf(r, threshold).map, spatialShape(r.input), {
    spacing: r.input.spacing,
    unit: r.input.unit,
    affine: r.input.affine,
    source: { name: outName(r, 'labels.nii.gz'), format: 'nifti' },
  });
  return writeNifti(vol, { gzip: true });
}

export function saveNifti(r: ResultState): void {
  download(resultNifti(r), outName(r, 'output.nii.gz'));
}

export function saveLabels(r: ResultState, threshold: number): void {
  download(labelsNifti(r, threshold), outName(r, 'labels.nii.gz'));
}

/** The raw stitched output [C, D', H', W'] (2D: [C, H', W']) as float32, before any resampling. */
export function saveNpy(r: ResultState): void {
  download(writeNpy({ data: r.run.data, shape: r.run.shape }), outName(r, 'output.npy'));
}

/** Downloads text (a CSV, a JSON file) under `fileName`. */
export function downloadText(text: string, fileName: string, type = 'text/plain'): void {
  download(new TextEncoder().encode(text), fileName, type);
}
