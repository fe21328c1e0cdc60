/**
 * The pages the header switches between: the generic workbench and one entry per pipeline preset.
 * A preset page registers here (label, page component, demo, what its address means); App, the
 * header and the address handling read this list, so adding a preset touches no other shared file.
 */
import type { ComponentType } from 'react';
import { MotorsApp } from './motors/MotorsApp';
import { SpineApp } from './spine/SpineApp';
import { EegApp } from './eeg/EegApp';
import { eegShare, eegStore } from './eeg/page';
import { openSpineDemo, spineShare, spineStore } from './spine/page';
import { useStore, type PresetId } from './store';
import { openLink } from './share/link';
import type { PresetShare } from './share/types';
import { openBrainDemo, workbenchShare } from './share/workbench';
import { motorsShare, motorsStore, openMotorsDemo } from './motors/page';
import { setBackend } from './kit/store';
import { ProteinApp } from './protein/ProteinApp';
import { proteinShare, proteinStore } from './protein/page';
import { BrainApp } from './brain/BrainApp';
import { brainShare, brainStore, openBrainMriDemo } from './brain/page';

export interface PresetDemo {
  /** `?demo=<name>` opens the preset with this demo and runs it. */
  name: string;
  label: string;
  /** One line for the button tooltip and the gallery. */
  title: string;
  /** Loads the demo's data and models and runs them (the preset page is already shown); `run: false` stops before running (share links). */
  open(opts?: { run?: boolean }): Promise<void> | void;
}

export interface PresetEntry {
  id: PresetId;
  label: string;
  title: string;
  /** The preset's page; undefined for the workbench, which is App's own layout. */
  Page?: ComponentType;
  demo?: PresetDemo;
  /**
   * Called once at start when the address names this preset (`?preset=<id>` or `?demo=<demo.name>`),
   * after the demo (if named) has been started. Reads the preset's own query values.
   */
  fromUrl?(params: URLSearchParams): void;
  /** Links, session files, gallery and offline cache: see src/ui/share/types.ts. */
  share?: PresetShare;
}


export const PRESETS: PresetEntry[] = [
  {
    id: 'workbench',
    label: 'Workbench',
    title: 'Any ONNX model on one volume',
    demo: { name: 'brain', label: 'Brain MRI demo', title: 'MeshNet brain tissue segmentation (white/grey matter) on a T1 scan', open: openBrainDemo },
    share: workbenchShare,
  },
  {
    id: 'motors',
    label: 'Flagellar motors',
    title: 'Cryo-ET flagellar motor detection (BYU 2025 pipeline): tomogram batches in, submission.csv out',
    Page: MotorsApp,
    demo: {
      name: 'motors',
      label: 'Flagellar motors demo',
      title: 'Simulated tomograms, a small motor heatmap model and labels: runs the flagellar motor preset',
      open: openMotorsDemo,
    },
    share: motorsShare,
    fromUrl: (params) => setBackend(motorsStore, params.get('backend') ?? ''),
  },
  {
    id: 'spine',
    label: 'Cervical spine',
    title: 'Cervical spine CT (RSNA 2022 pipeline): DICOM studies in, C1..C7 masks, fracture probabilities and submission.csv out',
    Page: SpineApp,
    demo: {
      name: 'spine',
      label: 'Cervical spine demo',
      title: 'A simulated neck CT (DICOM), the C1..C7 segmentation and fracture models and labels: runs the cervical spine preset',
      open: openSpineDemo,
    },
    share: spineShare,
    fromUrl: (params) => setBackend(spineStore, params.get('backend') ?? ''),
  },
  {
    id: 'eeg',
    label: 'EEG spectrogram',
    title: 'EEG spectrogram classification (HMS 2024 pipeline): parquet spectrograms in, six-class probabilities, CAM, submission.csv and KL out',
    Page: EegApp,
    demo: {
      name: 'eeg',
      label: 'EEG spectrogram demo',
      title: 'Two simulated and one real EEG-derived spectrogram, expert votes and a small CAM classifier: runs the EEG preset',
      open: (opts) => eegShare.openDemo(opts),
    },
    share: eegShare,
    fromUrl: (params) => setBackend(eegStore, params.get('backend') ?? ''),
  },
  {
    id: 'protein',
    label: 'Protein localisation',
    title: 'Protein localisation in cells (HPA 2021 pipeline): RGBY images in, class probabilities, CAMs, per-cell labels and cells.csv out',
    Page: ProteinApp,
    demo: {
      name: 'protein',
      label: 'Protein localisation demo',
      title: 'Two simulated RGBY fields of view with cell masks and a small CAM model: runs the protein localisation preset',
      open: (opts) => proteinShare.openDemo(opts),
    },
    share: proteinShare,
    fromUrl: (params) => setBackend(proteinStore, params.get('backend') ?? ''),
  },
  {
    id: 'brain',
    label: 'Brain MRI',
    title: 'Brain MRI tissue segmentation (brainchop MeshNet as niivue runs it): NIfTI T1 volumes in, grey/white matter labels in their own space and tissue volumes in mL out',
    Page: BrainApp,
    demo: {
      name: 'brain-mri',
      label: 'Brain MRI preset demo',
      title: 'The MeshNet tissue model and a T1 scan through the brain preset: conform, tiles, labels back on the scan, grey and white matter volumes in mL',
      open: openBrainMriDemo,
    },
    share: brainShare,
    fromUrl: (params) => setBackend(brainStore, params.get('backend') ?? ''),
  },
];

export const presetEntry = (id: PresetId): PresetEntry => PRESETS.find((p) => p.id === id) ?? PRESETS[0];

/** The preset the address names (`?preset=<id>` or `?demo=<name>`), or null. */
export function presetForUrl(params: URLSearchParams): PresetEntry | null {
  const demo = params.get('demo');
  const id = params.get('preset');
  return PRESETS.find((p) => (demo !== null && p.demo?.name === demo) || (id !== null && p.id === id)) ?? null;
}

/** Shows the preset and keeps the address in step (`?preset=<id>`), so a reload stays there. */
export function switchPreset(preset: PresetId): void {
  useStore.getState().setPreset(preset);
  const url = new URL(window.location.href);
  url.searchParams.delete('demo');
  if (preset === 'workbench') url.searchParams.delete('preset');
  else url.searchParams.set('preset', preset);
  window.history.replaceState(null, '', url);
}

/** A demo button: switch to its preset, then load and run it. */
export function openDemo(entry: PresetEntry): void {
  if (!entry.demo) return;
  switchPreset(entry.id);
  void entry.demo.open();
}

/** The preset the address asks for, applied before the first render (no workbench mounted for nothing). */
export function presetFromUrl(params: URLSearchParams): void {
  const p = presetForUrl(params);
  if (p) useStore.getState().setPreset(p.id);
}

/** Starts what the address asks for: the named demo runs without clicks, then the preset reads its values. */
export function startFromUrl(params: URLSearchParams): void {
  const p = presetForUrl(params);
  if (!p) return;
  useStore.getState().setPreset(p.id);
  if (p.share) {
    void openLink(p, params); // a share link: demo or URLs, values, run, view
    return;
  }
  p.fromUrl?.(params);
  if (p.demo && params.get('demo') === p.demo.name) void p.demo.open();
}
