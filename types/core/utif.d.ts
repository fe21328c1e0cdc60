/**
 * For the core guard (tsconfig.core.json) only: the part of `utif` that src/core uses, typed with
 * ArrayBuffer alone. @types/utif starts with `import "node"`, which would bring every Node global
 * into the core check; core passes ArrayBuffers, so it needs none of them. The page, the CLI and
 * the tests keep @types/utif (tsconfig.json).
 */
export type TiffTag = string[] | number[];

export interface IFD {
  [property: string]: TiffTag | number | Uint8Array;
  data: Uint8Array;
  width: number;
  height: number;
}

export function decode(buffer: ArrayBuffer): IFD[];
export function decodeImage(buffer: ArrayBuffer, ifd: IFD): void;
export function toRGBA8(ifd: IFD): Uint8Array;
export function encodeImage(rgba: Uint8Array, w: number, h: number, metadata?: IFD): ArrayBuffer;
export function encode(ifds: IFD[]): ArrayBuffer;
