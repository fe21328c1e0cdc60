/**
 * The worker's dropped files read on demand (src/worker/onDemandFiles.ts), on Node's own Blob and
 * ReadableStream (byte streams with BYOB readers, as in Chromium): MRC slabs read into reused
 * buffers through BYOB readers, and the fallback to one Blob.arrayBuffer per slab when a read stalls,
 * when the browser has no BYOB reader, and a clear error when the file cannot be read; the decode
 * workers' reader of slice files into reused buffers. The page's own reads of dropped MRC files
 * are checked in e2e/motors.spec.ts, of slice folders in e2e/decodePool.spec.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readMrc, writeMrc } from '../src/core/io/mrc';
import { readMrcTomogram, tomogramFromVolume } from '../src/core/motors/tomogram';
import { makeVolume } from '../src/core/volume';
import { onDemandInputFile, readBlobInto, reusingBlobReader, StalledRead } from '../src/worker/onDemandFiles';

// a float32 tomogram of 12 sections, read 2 sections a slab: 6 slabs
const [d, h, w] = [12, 16, 20];
const float32 = new Uint8Array(writeMrc(makeVolume(Float32Array.from({ length: d * h * w }, (_, i) => Math.sin(i / 7) * 100), [d, h, w], { spacing: [10, 10, 10], unit: 'angstrom' })));
const whole = tomogramFromVolume(readMrc(float32, 'f.mrc'), 'whole');
const slabBytes = h * w * 4 * 2;
const slabs = d / 2;

/**
 * A Blob whose slices' streams are `stream(real, k)` for the k-th stream asked for (the others as
 * Blob's own), and whose bytes are the real blob's.
 */
function blobWith(real: Blob, stream: (real: Blob, k: number) => ReadableStream<Uint8Array> | null, counter = { k: 0 }): Blob {
  return {
    size: real.size,
    type: real.type,
    slice: (a?: number, b?: number) => blobWith(real.slice(a, b), stream, counter),
    stream: () => stream(real, counter.k++) ?? real.stream(),
    arrayBuffer: () => real.arrayBuffer(),
  } as unknown as Blob;
}

const arrayBufferCalls = () => vi.spyOn(Blob.prototype, 'arrayBuffer');

afterEach(() => vi.restoreAllMocks());

describe('dropped files read on demand', () => {
  it('readBlobInto: the bytes in the memory it was given, handed back; fewer at the end of the blob', async () => {
    const src = float32.subarray(0, 100_000);
    const into = new Uint8Array(new ArrayBuffer(150_000), 1000, 100_000);
    const got = await readBlobInto(new Blob([src]), into);
    expect(Buffer.from(got).equals(Buffer.from(src))).toBe(true);
    // the same memory under a new ArrayBuffer (a BYOB read detaches the one it was given)
    expect(into.buffer.byteLength).toBe(0);
    expect([got.buffer.byteLength, got.byteOffset]).toEqual([150_000, 1000]);
    const short = await readBlobInto(new Blob([src.subarray(0, 10)]), new Uint8Array(64));
    expect(Array.from(short)).toEqual(Array.from(src.subarray(0, 10)));
  });

  it('an MRC tomogram: slabs through BYOB readers into reused buffers (no arrayBuffer after the header), two in flight, the whole-file voxels', async () => {
    const calls = arrayBufferCalls();
    const file = onDemandInputFile('f.mrc', new Blob([float32]));
    expect(file.range).toMatchObject({ readAhead: 2, slabBytes: 16 << 20 });
    const t = (await readMrcTomogram(file.range!, 'f', 'f.mrc', { slabBytes }))!;
    expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
    expect(calls).toHaveBeenCalledTimes(1); // the header
  });

  it('a read that stalls: given up after stallMs, that slab and the rest with Blob.arrayBuffer, the same voxels, one warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // the third slab's stream hands over 100 bytes (wrong ones: that slab must be read again), then nothing, ever
    const stalling = (_: Blob, k: number): ReadableStream<Uint8Array> | null =>
      k !== 2 ? null : new ReadableStream({ type: 'bytes', start: (c) => c.enqueue(new Uint8Array(100).fill(7)), pull: () => new Promise(() => undefined) });
    const file = onDemandInputFile('stall.mrc', blobWith(new Blob([float32]), stalling), 50);
    const calls = arrayBufferCalls();
    const t = (await readMrcTomogram(file.range!, 's', 'stall.mrc', { slabBytes }))!;
    expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/^stall\.mrc: a read brought nothing for 0\.05 s at byte 100 of \d+; the rest of the file is read with Blob\.arrayBuffer$/);
    // the header, the stalled slab and every slab not yet asked for (slabs 1 and 3 were in flight through BYOB)
    expect(calls.mock.calls.length).toBe(1 + 1 + (slabs - 4));
  });

  it('a browser without BYOB readers: every slab with Blob.arrayBuffer, the same voxels', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // a stream of chunks that is not a byte stream: getReader({ mode: "byob" }) throws
    const plain = (real: Blob): ReadableStream<Uint8Array> => new ReadableStream({ start: async (c) => (c.enqueue(new Uint8Array(await real.arrayBuffer())), c.close()) });
    const file = onDemandInputFile('plain.mrc', blobWith(new Blob([float32]), plain));
    const t = (await readMrcTomogram(file.range!, 'p', 'plain.mrc', { slabBytes }))!;
    expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
    expect(String(warn.mock.calls[0][0])).toMatch(/^plain\.mrc: no BYOB stream reader in this browser/);
  });

  it('a BYOB read that fails: that slab and the rest with Blob.arrayBuffer; a file that cannot be read at all: an error naming it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const failing = (): ReadableStream<Uint8Array> => new ReadableStream({ type: 'bytes', pull: (c) => c.error(new DOMException('the file changed', 'NotReadableError')) });
    const flaky = onDemandInputFile('flaky.mrc', blobWith(new Blob([float32]), (_, k) => (k === 1 ? failing() : null)));
    const t = (await readMrcTomogram(flaky.range!, 'f', 'flaky.mrc', { slabBytes }))!;
    expect(Buffer.from(t.data).equals(Buffer.from(whole.data))).toBe(true);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual(['flaky.mrc: a BYOB read failed (the file changed); the rest of the file is read with Blob.arrayBuffer']);
    // a file gone after its header was read: its slabs' streams and arrayBuffer both fail
    const gone = {
      size: float32.length,
      slice: (a = 0, b?: number) => (a === 0 ? new Blob([float32]).slice(a, b) : { stream: failing, arrayBuffer: () => Promise.reject(new DOMException('the file changed', 'NotReadableError')) }),
    } as unknown as Blob;
    const file = onDemandInputFile('gone.mrc', gone);
    await expect(readMrcTomogram(file.range!, 'g', 'gone.mrc', { slabBytes })).rejects.toThrow(/^gone\.mrc: the file could not be read \(the file changed\); was it moved or changed after it was dropped\?$/);
  });

  it('reusingBlobReader: slice files into memory that is released and reused (no arrayBuffer); after a stall Blob.arrayBuffer, one warning; a file that cannot be read: an error naming it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const calls = arrayBufferCalls();
    const reader = reusingBlobReader(50);
    const [a, b, c] = [float32.subarray(0, 1000), float32.subarray(1000, 1900), float32.subarray(0, 3000)];
    const same = (x: Uint8Array, y: Uint8Array) => expect(Buffer.from(x).equals(Buffer.from(y))).toBe(true);
    const ra = await reader.read(new Blob([a]), 'a.jpg');
    same(ra, a);
    expect(ra.buffer.byteLength).toBe(1250); // a quarter more than the file
    reader.release(ra);
    const rb = await reader.read(new Blob([b]), 'b.jpg');
    same(rb, b);
    expect(rb.buffer.byteLength).toBe(1250); // a's memory again
    const rc = await reader.read(new Blob([c]), 'c.jpg'); // none released: a new buffer
    same(rc, c);
    expect(rc.buffer.byteLength).toBe(3750);
    reader.release(rb);
    const rc2 = await reader.read(new Blob([c]), 'c2.jpg'); // the spare is too small: a new buffer
    same(rc2, c);
    expect(rc2.buffer.byteLength).toBe(3750);
    expect(calls).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();

    const stalling = () => new ReadableStream<Uint8Array>({ type: 'bytes', pull: () => new Promise(() => undefined) });
    same(await reader.read(blobWith(new Blob([a]), stalling), 's.jpg'), a);
    expect(warn.mock.calls.map((m) => String(m[0]))).toEqual(['s.jpg: a read brought nothing for 0.05 s at byte 0 of 1000; this worker reads its files with Blob.arrayBuffer from now on']);
    same(await reader.read(new Blob([b]), 'b2.jpg'), b);
    expect(calls).toHaveBeenCalledTimes(2);
    const gone = { size: 10, stream: stalling, arrayBuffer: () => Promise.reject(new DOMException('the file changed', 'NotReadableError')) } as unknown as Blob;
    await expect(reader.read(gone, 'tomo/gone.jpg')).rejects.toThrow(/^tomo\/gone\.jpg: the file could not be read \(the file changed\)/);
  });

  it('StalledRead is what a stall rejects with', async () => {
    const never = new Blob([float32]);
    const stalled = blobWith(never, () => new ReadableStream({ type: 'bytes', pull: () => new Promise(() => undefined) }));
    await expect(readBlobInto(stalled, new Uint8Array(16), 20)).rejects.toBeInstanceOf(StalledRead);
  });
});
