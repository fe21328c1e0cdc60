/**
 * A small lossless protobuf wire-format codec: a message is a list of fields in file order,
 * nested messages are decoded only where the caller asks. Enough to read and edit ONNX
 * ModelProto graphs without a generated schema; unknown fields are kept byte for byte.
 */
export const enum Wire {
  Varint = 0,
  I64 = 1,
  Len = 2,
  I32 = 5,
}

export interface Field {
  no: number;
  wire: Wire;
  /** Varint as bigint; I64/I32/Len as raw bytes. */
  value: bigint | Uint8Array;
}

export class ProtoError extends Error {}

export function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 70n) throw new ProtoError('varint too long');
  }
}

export function decode(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n) as Wire;
    if (no === 0) throw new ProtoError('field number 0');
    switch (wire) {
      case Wire.Varint: {
        const [v, p2] = readVarint(buf, pos);
        pos = p2;
        fields.push({ no, wire, value: v });
        break;
      }
      case Wire.I64:
        if (pos + 8 > buf.length) throw new ProtoError('truncated fixed64');
        fields.push({ no, wire, value: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case Wire.I32:
        if (pos + 4 > buf.length) throw new ProtoError('truncated fixed32');
        fields.push({ no, wire, value: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      case Wire.Len: {
        const [len, p2] = readVarint(buf, pos);
        pos = p2;
        const end = pos + Number(len);
        if (end > buf.length) throw new ProtoError('truncated length-delimited field');
        fields.push({ no, wire, value: buf.subarray(pos, end) });
        pos = end;
        break;
      }
      default:
        throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

export function encode(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (p: Uint8Array): void => {
    parts.push(p);
    total += p.length;
  };
  for (const f of fields) {
    push(Uint8Array.from(varintBytes(BigInt((f.no << 3) | f.wire))));
    if (f.wire === Wire.Varint) push(Uint8Array.from(varintBytes(f.value as bigint)));
    else if (f.wire === Wire.Len) {
      const v = f.value as Uint8Array;
      push(Uint8Array.from(varintBytes(BigInt(v.length))));
      push(v);
    } else push(f.value as Uint8Array);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const utf8 = new TextDecoder();
const utf8e = new TextEncoder();

const WIRE_NAMES = ['a varint', 'a fixed64', 'bytes', 'a group', 'a group end', 'a fixed32'];

/** The field's bytes; a ProtoError when the field is not length-delimited (a damaged or foreign file). */
function lenValue(f: Field): Uint8Array {
  if (f.wire !== Wire.Len || !(f.value instanceof Uint8Array)) throw new ProtoError(`field ${f.no} should be bytes but is ${WIRE_NAMES[f.wire] ?? `wire type ${f.wire}`}`);
  return f.value;
}

export const str = (f: Field): string => utf8.decode(lenValue(f));
export const bytesOf = (s: string): Uint8Array => utf8e.encode(s);
export const int = (f: Field): number => {
  if (f.wire !== Wire.Varint || typeof f.value !== 'bigint') throw new ProtoError(`field ${f.no} should be a varint but is ${WIRE_NAMES[f.wire] ?? `wire type ${f.wire}`}`);
  return Number(BigInt.asIntN(64, f.value));
};
export const sub = (f: Field): Field[] => decode(lenValue(f));
export const all = (fields: Field[], no: number): Field[] => fields.filter((f) => f.no === no);
export const first = (fields: Field[], no: number): Field | undefined => fields.find((f) => f.no === no);
export const lenField = (no: number, value: Uint8Array | Field[]): Field => ({
  no,
  wire: Wire.Len,
  value: value instanceof Uint8Array ? value : encode(value),
});
export const varField = (no: number, value: number | bigint): Field => ({ no, wire: Wire.Varint, value: BigInt(value) });
