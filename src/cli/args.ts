/**
 * Command-line arguments, the same way for every subcommand: one argv normalisation (values that
 * start with '-'), one parseArgs call, one error type for what the user typed wrong (exit code 2).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in what was typed or given (a missing flag, an unreadable file): one line, exit code 2. */
export class UsageError extends Error {}

const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/** "-1", "-0.5", "-1,-1,-1", "1e-3,-2": a number or a comma list of numbers. */
export const isNumberList = (token: string): boolean => token.split(',').every((p) => NUMBER.test(p.trim()));

/**
 * argv with `--name -1,-1,-1` written as `--name=-1,-1,-1`. node's parseArgs refuses a value that
 * starts with '-' after a space ("argument is ambiguous"); a token that is a number or a comma list
 * of numbers is never an option, so it is taken as the value of the flag before it. Run once on
 * the whole command line before any subcommand parses it (a boolean flag followed by a number was
 * an error before and stays one: "does not take an argument"). Nothing after `--` is touched.
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (/^--[^-=][^=]*$/.test(t) && next !== undefined && next.startsWith('-') && isNumberList(next)) {
      out.push(`${t}=${next}`);
      i++;
    } else out.push(t);
  }
  return out;
}

export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict (argv is already normalised: main() does it once for every subcommand); its errors are UsageErrors. */
export function parseCli<O extends CliOptions>(argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
}

/** A comma list ("a.onnx,b.onnx") as its non-empty parts. */
export const commaList = (s: string | undefined): string[] => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

export function numbers(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new UsageError(`--${what} expects numbers separated by commas, got '${s}'`);
  return v;
}

/**
 * A numeric flag checked against its rule: `counts` values (any count when omitted), each passing
 * `ok`; else one UsageError naming the flag, the rule and what was given.
 */
export function numberFlag(raw: string, flag: string, rule: string, ok: (x: number) => boolean, counts?: readonly number[]): number[] {
  const v = numbers(raw, flag);
  if (counts && !counts.includes(v.length)) throw new UsageError(`--${flag} needs ${counts.join(' or ')} value${counts.length === 1 && counts[0] === 1 ? '' : 's'}, got '${raw}'`);
  if (!v.every(ok)) throw new UsageError(`--${flag} must be ${rule}, got '${raw}'`);
  return v;
}

const cannotRead = (e: unknown, what: string, path: string): UsageError =>
  new UsageError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });

/**
 * A whole file as a plain Uint8Array that owns its ArrayBuffer (byteOffset 0): a view of the Buffer
 * readFileSync made, without a copy; a small file that Node put in its shared pool is copied out.
 */
export function readFile(path: string, what: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? new Uint8Array(b.buffer) : new Uint8Array(b);
  } catch (e) {
    throw cannotRead(e, what, path);
  }
}

export function fileSize(path: string, what: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    throw cannotRead(e, what, path);
  }
}

/**
 * `length` bytes of a file from `offset` (fewer at its end), without reading the rest; into `into`
 * when given (its length is what is read: ByteRange.readInto).
 */
export function readRange(path: string, offset: number, length: number, what: string, into?: Uint8Array): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    // not zero-filled (every byte returned is read), and its own buffer: offset 0, so a slab's values can be a view of it
    const out = into ?? Buffer.allocUnsafeSlow(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  } catch (e) {
    throw cannotRead(e, what, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export const readText = (path: string, what: string): string => new TextDecoder().decode(readFile(path, what));

/** A message that names what it is about: `id: msg` unless it already starts with the id. */
export const withId = (id: string, msg: string): string => (msg.startsWith(id) ? msg : `${id}: ${msg}`);

/** An error's first line. */
export const firstLine = (e: unknown): string => ((e as Error)?.message ?? String(e)).split('\n')[0];

/**
 * onnxruntime-node session options of the CLI: all graph optimisations, and no spin-waiting in
 * onnxruntime's thread pools. Spinning threads burn a core while the CLI stitches one batch as the
 * next runs (the sliding window overlaps them), and between runs; without it the CPU time of a
 * tiled run stays near the model's own.
 */
export const SESSION_OPTIONS = {
  graphOptimizationLevel: 'all',
  // onnxruntime's own log lines (coloured, one more line per error) off: our messages say what failed
  logSeverityLevel: 4,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
} as const;
