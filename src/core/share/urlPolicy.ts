/**
 * Which of a link's URLs may be fetched, and on whose say-so (pure, no DOM):
 *   - same origin as the app (its own demo files, relative URLs): fetched without asking;
 *   - another origin over https: fetched only after the user agreed (or trusts that origin);
 *   - private or loopback addresses (10/8, 172.16/12, 192.168/16, 127/8, 0/8, 100.64/10, ::1,
 *     fc00::/7, localhost, *.localhost, *.local) and link-local ones (169.254/16, fe80::/10, the
 *     cloud metadata address among them): refused from a link; a URL the user types may load them;
 *   - anything else (not http(s), http on another origin, a malformed address): refused.
 * Hostnames written as bare IPs in any notation count as those IPs: the URL parser normalises
 * `http://3232235777/`, `http://0xC0A80101/` and `http://[::ffff:192.168.1.1]/` first.
 */

export type UrlKind = 'same-origin' | 'other-origin' | 'private' | 'link-local' | 'invalid';

export interface ClassifiedUrl {
  /** The URL as the link wrote it. */
  url: string;
  kind: UrlKind;
  /** The absolute URL's origin ('' when invalid). */
  origin: string;
  /** Host and port as shown to the user ('' when invalid). */
  host: string;
  /** The last path segment, decoded ('model.onnx'). */
  file: string;
  /** Why an invalid URL is refused. */
  reason?: string;
}

/** The four bytes of a dotted IPv4 address, or null. */
function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

function ipv4Kind(b: number[]): 'private' | 'link-local' | null {
  const [a, c] = b;
  if (a === 169 && c === 254) return 'link-local';
  if (a === 10 || a === 127 || a === 0) return 'private';
  if (a === 172 && c >= 16 && c <= 31) return 'private';
  if (a === 192 && c === 168) return 'private';
  if (a === 100 && c >= 64 && c <= 127) return 'private'; // carrier-grade NAT
  return null;
}

/** The 8 groups of an IPv6 address as the URL parser writes it (compressed, lower case), or null. */
function ipv6Groups(host: string): number[] | null {
  const h = host.replace(/^\[|\]$/g, '');
  if (!h.includes(':')) return null;
  let body = h;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4) {
    // a dotted IPv4 tail ('::ffff:192.168.1.1') as its two groups
    const b = ipv4(v4[1]);
    if (!b) return null;
    body = h.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  if (body.includes('::')) {
    const [l, r] = body.split('::');
    const left = parse(l);
    const right = parse(r);
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else groups = parse(body);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv6Kind(g: number[]): 'private' | 'link-local' | null {
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    // an IPv4 address mapped into IPv6
    return ipv4Kind([g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255]);
  }
  if (g.every((x) => x === 0) || (g.slice(0, 7).every((x) => x === 0) && g[7] === 1)) return 'private'; // :: and ::1
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xfe00) === 0xfc00) return 'private';
  return null;
}

/** 'private' / 'link-local' for a hostname that names such an address, else null. */
export function hostKind(hostname: string): 'private' | 'link-local' | null {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local')) return 'private';
  const v4 = ipv4(h);
  if (v4) return ipv4Kind(v4);
  const v6 = ipv6Groups(h);
  if (v6) return ipv6Kind(v6);
  return null;
}

function fileOf(u: URL): string {
  const p = u.pathname;
  try {
    return decodeURIComponent(p.slice(p.lastIndexOf('/') + 1)) || u.host;
  } catch {
    return p.slice(p.lastIndexOf('/') + 1) || u.host;
  }
}

/** What a link's URL is, for an app served at `appUrl` (its full address; relative URLs resolve against it). */
export function classifyUrl(url: string, appUrl: string): ClassifiedUrl {
  let u: URL;
  let app: URL;
  try {
    app = new URL(appUrl);
    u = new URL(url, app);
  } catch {
    return { url, kind: 'invalid', origin: '', host: '', file: '', reason: 'not a valid address' };
  }
  const base = { url, origin: u.origin, host: u.host, file: fileOf(u) };
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ...base, kind: 'invalid', reason: `${u.protocol} addresses cannot be fetched` };
  if (u.username !== '' || u.password !== '') return { ...base, kind: 'invalid', reason: 'an address with a user name or password' };
  if (u.origin === app.origin) return { ...base, kind: 'same-origin' };
  const k = hostKind(u.hostname);
  if (k) return { ...base, kind: k };
  if (u.protocol !== 'https:') return { ...base, kind: 'invalid', reason: 'other sites must be reached over https' };
  return { ...base, kind: 'other-origin' };
}

/** The URLs of one other origin, for the consent dialog. */
export interface HostFiles {
  origin: string;
  host: string;
  files: string[];
}

export interface LinkUrlPlan {
  /** Fetched without asking (the app's own files, or origins the user trusts). */
  allowed: ClassifiedUrl[];
  /** Other origins the user has to agree to, each with its file names. */
  ask: HostFiles[];
  /** Private, link-local and invalid URLs: a link may not fetch them. */
  refused: ClassifiedUrl[];
}

/** Sorts a link's URLs into fetched, asked about and refused; `trusted` lists origins the user trusts. */
export function planLinkUrls(urls: readonly string[], appUrl: string, trusted: readonly string[] = []): LinkUrlPlan {
  const plan: LinkUrlPlan = { allowed: [], ask: [], refused: [] };
  const trust = new Set(trusted);
  for (const url of urls) {
    const c = classifyUrl(url, appUrl);
    if (c.kind === 'same-origin' || (c.kind === 'other-origin' && trust.has(c.origin))) plan.allowed.push(c);
    else if (c.kind === 'other-origin') {
      let g = plan.ask.find((h) => h.origin === c.origin);
      if (!g) plan.ask.push((g = { origin: c.origin, host: c.host, files: [] }));
      if (!g.files.includes(c.file)) g.files.push(c.file);
    } else plan.refused.push(c);
  }
  return plan;
}

/** One line for a refused URL ("http://192.168.1.1/admin: a private network address"). */
export function refusedText(c: ClassifiedUrl): string {
  const why = c.kind === 'private' ? 'a private network address' : c.kind === 'link-local' ? 'a link-local address' : (c.reason ?? 'not allowed');
  return `${c.url}: ${why}`;
}
