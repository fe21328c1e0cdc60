/**
 * Sorting what a user dropped or listed for the EEG preset (pure, on bare paths): every `.parquet`
 * file is one spectrogram whose eeg_id is the file stem; `.onnx` files are models (folds), `.json`
 * model cards, `.csv` votes. Sources keep the order of `paths` (a folder listing sorted by name
 * gives the CLI's order); a second file with an eeg_id already taken is left out with a note.
 */
import type { SortedInputs } from '../preset/types';

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
/** Hidden and system files nobody means to drop (.DS_Store, Thumbs.db, ._foo). */
const isJunk = (name: string): boolean => name.startsWith('.') || /^(thumbs\.db|desktop\.ini)$/i.test(name);

/** The eeg_id of a spectrogram file: its name without `.parquet`. */
export const eegIdOf = (path: string): string => baseName(path).replace(/\.parquet$/i, '');

export function sortSpectrogramPaths(paths: readonly string[]): SortedInputs {
  const out: SortedInputs = { sources: [], models: [], cards: [], labels: [], ignored: [], notes: [] };
  const seen = new Map<string, string>();
  for (const path of paths) {
    const name = baseName(path);
    if (isJunk(name)) continue;
    if (/\.parquet$/i.test(name)) {
      const id = eegIdOf(path);
      const kept = seen.get(id);
      if (kept !== undefined) {
        out.notes.push(`${id}: skipped ${path}, kept ${kept} (one file per eeg_id)`);
        continue;
      }
      seen.set(id, path);
      out.sources.push({ id, kind: 'parquet', paths: [path] });
    } else if (/\.onnx$/i.test(name)) out.models.push(path);
    else if (/\.json$/i.test(name)) out.cards.push(path);
    else if (/\.csv$/i.test(name)) out.labels.push(path);
    else out.ignored.push(path);
  }
  return out;
}
