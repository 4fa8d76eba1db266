// Kafka's lz4 codec (lz4 frames) from the client's own WebAssembly module (@platformatic/wasm-utils,
// the codec @platformatic/kafka compresses with), in an instance of this project's: a batch's
// records are written straight into the codec's memory, and its frame is read where the codec
// left it. The client's compressSync copies its input into that memory and its output into a new
// buffer; on Rubin's 190 KB alerts those new buffers, as many bytes as the alerts, are what V8
// schedules most of its full garbage collections on (BENCHMARKS.md, Fewer new buffers on the
// produce path). The frames are the module's, so byte for byte the client's
// (test/kafka/record-batch.test.ts).
// Workaround of @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds): it can go
// once the client compresses without a new buffer per batch. It relies on the module's exports
// (memory, alloc, dealloc, lz4_compress), which test/kafka/library-workarounds.test.ts asserts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The WebAssembly global as far as it is used here (the project's TypeScript libraries do not declare it).
const { WebAssembly: Wasm } = globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: object } } };

interface CodecExports {
  memory: { buffer: ArrayBuffer };
  alloc(size: number): number;
  dealloc(pointer: number, size: number): void;
  /** The lz4 frame of `length` bytes at `pointer`, allocated in the module: its pointer in the high 32 bits, its length in the low. */
  lz4_compress(pointer: number, length: number): bigint;
}

/** The client's WebAssembly module, found where the client itself loads it from. */
export function codecModuleFile(): string {
  const fromClient = createRequire(import.meta.resolve('@platformatic/kafka'));
  return join(dirname(fromClient.resolve('@platformatic/wasm-utils')), 'native.wasm');
}

let codec: CodecExports | undefined;
/** The input region, kept from call to call (a batch is at most a wave, under a megabyte, unless one alert is larger). */
let input = { pointer: 0, size: 0 };
/** The last frame, freed by the next call. */
let frame = { pointer: 0, size: 0 };
/**
 * An input region larger than this goes back to the module's allocator after its call, for its
 * frames to reuse. The module's memory itself never shrinks (nor does the client's own instance's).
 */
const INPUT_KEEP_BYTES = 16 * 1024 * 1024;

function instance(): CodecExports {
  codec ??= new Wasm.Instance(new Wasm.Module(readFileSync(codecModuleFile()))).exports as CodecExports;
  return codec;
}

/**
 * The lz4 frame of `size` bytes that `write` puts into the buffer it is handed. The frame is a view
 * of the codec's memory, valid until the next call: copy it before compressing anything else.
 */
export function lz4CompressInPlace(size: number, write: (into: Buffer) => void): Buffer {
  const c = instance();
  if (frame.size > 0) c.dealloc(frame.pointer, frame.size);
  frame = { pointer: 0, size: 0 };
  if (input.size < size) {
    if (input.size > 0) c.dealloc(input.pointer, input.size);
    input = { pointer: c.alloc(size), size };
  }
  // Views are made after each allocation: growing the memory detaches the views made before.
  write(Buffer.from(c.memory.buffer, input.pointer, size));
  const combined = c.lz4_compress(input.pointer, size);
  frame = { pointer: Number(combined >> 32n), size: Number(BigInt.asUintN(32, combined)) };
  if (input.size > INPUT_KEEP_BYTES) {
    c.dealloc(input.pointer, input.size);
    input = { pointer: 0, size: 0 };
  }
  return Buffer.from(c.memory.buffer, frame.pointer, frame.size);
}
