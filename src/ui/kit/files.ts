/**
 * Files as the preset pages take them: each with its path inside what was dropped or picked
 * ('tomo_1/slice_0000.jpg') and where it came from (dropped, a link's URL, a bundled demo). The
 * origin travels with the file into the item, model or labels it becomes (links and sessions
 * read it there).
 */

/** Where an input came from: opened from this computer, fetched from a URL, or a bundled demo's. */
export type Origin = 'dropped' | { url: string } | { demo: string };

export interface PickedFile {
  /** Path relative to what was dropped or picked, '/'-separated. */
  path: string;
  file: File;
  /** Default 'dropped'. */
  origin?: Origin;
}

/** Files from an <input type=file> (webkitdirectory gives each file its path inside the folder). */
export function pickedFiles(list: FileList | File[]): PickedFile[] {
  return Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/**
 * Walks dropped items (folders recursively). Must be given the entries taken synchronously in
 * the drop handler (DataTransferItem.webkitGetAsEntry()); the items are gone after the event.
 */
export async function walkEntries(entries: FileSystemEntry[]): Promise<{ files: PickedFile[]; emptyFolders: string[] }> {
  const files: PickedFile[] = [];
  const emptyFolders: string[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    const path = entry.fullPath.replace(/^\/+/, '');
    if (entry.isFile) {
      files.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
      return;
    }
    if (!entry.isDirectory) return;
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    const children: FileSystemEntry[] = [];
    // readEntries returns batches (100 in Chromium) until an empty one
    for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) children.push(...batch);
    if (children.length === 0) emptyFolders.push(path);
    for (const c of children) await walk(c);
  };
  for (const e of entries) await walk(e);
  return { files, emptyFolders };
}
