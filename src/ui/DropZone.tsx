import type { ReactNode } from 'react';
import { openFiles } from './actions';
import { FileDrop } from './FileDrop';

/** The workbench page accepts dropped files (folders walked); a highlight shows while files are dragged over it. */
export function DropZone({ children }: { children: ReactNode }) {
  return (
    <FileDrop title="Drop to open" hint=".onnx → model · .nii / .nii.gz / .mrc / .npy → volume" onFiles={(files) => void openFiles(files.map((f) => f.file))}>
      {children}
    </FileDrop>
  );
}
