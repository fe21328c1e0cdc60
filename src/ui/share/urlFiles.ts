/**
 * Link URLs as the files a page's drop handler takes: each URL fetched through the share
 * framework's cached fetch (Cache Storage, so the link reopens offline) into a File named after
 * the URL's last path segment. `urlOfFile` says which URL a File came from (the pages' `sources()`
 * write those URLs back into links).
 */
import type { PickedFile } from '../motors/sources';
import { urlFileName } from './cache';
import type { FetchUrl } from './types';

/** A File fetched from a link URL: it carries the URL. */
class LinkFile extends File {
  constructor(
    bytes: Uint8Array,
    name: string,
    readonly url: string,
  ) {
    super([bytes as BlobPart], name);
  }
}

/** The URL a File was fetched from (undefined: opened from this computer). */
export const urlOfFile = (f: File): string | undefined => (f instanceof LinkFile ? f.url : undefined);

/** The last folder of a URL's path ('sim_neck' for …/ct/sim_neck/1.dcm), or ''. */
export function urlFolder(url: string): string {
  try {
    const parts = new URL(url, 'http://x/').pathname.split('/').filter((p) => p !== '');
    return parts.length > 1 ? decodeURIComponent(parts[parts.length - 2]) : '';
  } catch {
    return '';
  }
}

export interface UrlFile extends PickedFile {
  url: string;
}

/**
 * Fetches the URLs (all at once); a failure is reported through `failed` (with the error naming
 * the URL) and left out. With `folders`, each path keeps the URL's last folder ("sim_neck/1.dcm"),
 * so that files of one series group as a dropped folder does.
 */
export async function fetchUrlFiles(list: string[], fetchUrl: FetchUrl, failed: (e: Error) => void, opts: { folders?: boolean } = {}): Promise<UrlFile[]> {
  const got = await Promise.all(
    list.map(async (url): Promise<UrlFile | null> => {
      try {
        const bytes = await fetchUrl(url);
        const name = urlFileName(url);
        const file = new LinkFile(bytes.slice(), name, url);
        const folder = opts.folders ? urlFolder(url) : '';
        return { url, path: folder ? `${folder}/${name}` : name, file };
      } catch (e) {
        failed(e instanceof Error ? e : new Error(String(e)));
        return null;
      }
    }),
  );
  return got.filter((f): f is UrlFile => f !== null);
}

export interface LinkFiles {
  models: UrlFile[];
  data: UrlFile[];
  labels: UrlFile[];
  /** False when any URL failed (each failure has its message). */
  ok: boolean;
}

/**
 * All of a link's files, fetched with a busy line (`setBusy`) while they download; each URL that
 * fails gets a message naming it and is left out.
 */
export async function fetchLinkFiles(
  links: { models: string[]; data: string[]; labels?: string },
  fetchUrl: FetchUrl,
  say: (level: 'error', text: string) => void,
  setBusy: (busy: string | null) => void,
  opts: { dataFolders?: boolean } = {},
): Promise<LinkFiles> {
  let ok = true;
  const failed = (e: Error): void => {
    say('error', `Could not open the link's file: ${e.message}`);
    ok = false;
  };
  const n = links.models.length + links.data.length + (links.labels ? 1 : 0);
  setBusy(`Downloading ${n} file${n === 1 ? '' : 's'} of the link…`);
  try {
    const [models, data, labels] = await Promise.all([
      fetchUrlFiles(links.models, fetchUrl, failed),
      fetchUrlFiles(links.data, fetchUrl, failed, { folders: opts.dataFolders }),
      fetchUrlFiles(links.labels ? [links.labels] : [], fetchUrl, failed),
    ]);
    return { models, data, labels, ok };
  } finally {
    setBusy(null);
  }
}
