/**
 * For the core guard (tsconfig.core.json) only: the globals that the page, the worker and Node
 * (>= 20) all have, declared with the members src/core uses. Nothing else of the DOM (document,
 * canvas, ImageData, fetch, Worker...) or of Node (process, Buffer, require...) is declared, so
 * core code that reaches for it fails `npm run typecheck`. Add a member here only when it exists
 * in all three places.
 */

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: ArrayBuffer | ArrayBufferView, options?: { stream?: boolean }): string;
}

declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
}

declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | [string, string][]);
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  toString(): string;
  keys(): IterableIterator<string>;
  entries(): IterableIterator<[string, string]>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

declare class URL {
  constructor(url: string, base?: string | URL);
  readonly href: string;
  readonly origin: string;
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
}

declare var performance: { now(): number };

declare function structuredClone<T>(value: T): T;
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare function setTimeout(handler: () => void, timeout?: number): unknown;
