// The model file: a trained MLP as safetensors (see docs/model-format.md). For sizes [C0, C1, …, CL] it holds
//   layers.<l>.weight  F32 [C_l, C_{l+1}]  row-major, INPUT-major: y = x·W + b   (PyTorch's nn.Linear stores Wᵀ)
//   layers.<l>.bias    F32 [C_{l+1}]
// and string metadata (format, version, architecture, preprocessing, accuracy, provenance, content hash of the data
// section). Loading validates all of it. Not here: versions and promotion (registry.ts), running the network (nn/).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ModelFileError } from './errors.js';
import { decodeSafetensors, encodeSafetensors, safetensorsDataSection, type Tensor } from './safetensors.js';
import { SHA256_HEX_PATTERN, isVersionId } from './version-id.js';

export interface ModelMetadata {
  format: 'doodle-digits-mlp';
  formatVersion: 1;
  architecture: { sizes: number[]; activation: 'relu'; output: 'softmax' };
  /** Version id of the input normalisation the model was trained on, e.g. 'mnist-28x28-v1'. */
  preprocessing: string;
  /** Fraction correct on the test set, 0..1. */
  testAccuracy: number;
  trainingParams: Record<string, string | number | boolean>;
  /** Data file name → sha256 hex. */
  dataChecksums: Record<string, string>;
  /** ISO-8601. */
  createdAt: string;
  /** sha256 hex of the safetensors data section (all tensor bytes): set by encodeModel, verified by decodeModel. */
  contentHash: string;
}

/** One dense layer: `weight` is [inputs, outputs] row-major (y = x·W + b), `bias` is [outputs]. */
export interface ModelLayer {
  inputs: number;
  outputs: number;
  weight: Float32Array;
  bias: Float32Array;
}

export interface LoadedModel {
  layers: ModelLayer[];
  metadata: ModelMetadata;
  /** The registry version id, when the file lives at `<root>/<version>/model.safetensors`. */
  version?: string;
}

/** What the caller provides to save a model; the format fields and the content hash are filled in here. */
export type ModelMetadataInput = Omit<ModelMetadata, 'contentHash' | 'format' | 'formatVersion'>;

export const MODEL_FORMAT = 'doodle-digits-mlp';
export const MODEL_FORMAT_VERSION = 1;
const CORRUPT_HINT = 'retrain with `npm run train` or pick another version with `npm run models`';

/** The safetensors metadata key of each field; every value is a string (objects as JSON). */
const KEYS = {
  format: 'format',
  formatVersion: 'format_version',
  architecture: 'architecture',
  preprocessing: 'preprocessing',
  testAccuracy: 'test_accuracy',
  trainingParams: 'training_params',
  dataChecksums: 'data_checksums',
  createdAt: 'created_at',
  contentHash: 'content_hash',
} as const satisfies Record<keyof ModelMetadata, string>;
const KNOWN_KEYS: readonly string[] = Object.values(KEYS);

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** Serialises a model; called by saveModel and by the trainer when it hands bytes to the registry. */
export function encodeModel(layers: ModelLayer[], meta: ModelMetadataInput): { bytes: Uint8Array; contentHash: string } {
  const problem = checkMetadataValues(meta) ?? checkLayers(layers, meta.architecture.sizes);
  if (problem !== undefined) throw new RangeError(`cannot encode model: ${problem}`);
  const tensors: Tensor[] = layers.flatMap((layer, l) => [
    { name: `layers.${l}.weight`, shape: [layer.inputs, layer.outputs], data: layer.weight },
    { name: `layers.${l}.bias`, shape: [layer.outputs], data: layer.bias },
  ]);
  const strings = (contentHash: string): Record<string, string> => ({
    [KEYS.format]: MODEL_FORMAT,
    [KEYS.formatVersion]: String(MODEL_FORMAT_VERSION),
    [KEYS.architecture]: JSON.stringify({ sizes: meta.architecture.sizes, activation: meta.architecture.activation, output: meta.architecture.output }),
    [KEYS.preprocessing]: meta.preprocessing,
    [KEYS.testAccuracy]: String(meta.testAccuracy), // Number → String → Number round-trips every double exactly
    [KEYS.trainingParams]: JSON.stringify(meta.trainingParams),
    [KEYS.dataChecksums]: JSON.stringify(meta.dataChecksums),
    [KEYS.createdAt]: meta.createdAt,
    [KEYS.contentHash]: contentHash,
  });
  // The hash covers only the data section, which does not depend on the header: encode, hash, encode with the hash.
  const draft = encodeSafetensors(tensors, strings('0'.repeat(64)));
  const contentHash = sha256Hex(safetensorsDataSection(draft, 'model'));
  return { bytes: encodeSafetensors(tensors, strings(contentHash)), contentHash };
}

/** Writes the model to `path` atomically (a reader sees the old file or the new one). */
export function saveModel(path: string, layers: ModelLayer[], meta: ModelMetadataInput): { contentHash: string } {
  const { bytes, contentHash } = encodeModel(layers, meta);
  writeFileAtomic(path, bytes);
  return { contentHash };
}

/** Reads and validates the model at `path`; a missing file says how to make one. Called at start-up and by the registry. */
export function loadModel(path: string): LoadedModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError(path, 'not found', `model not found at ${path} → run \`npm run train\``);
    throw new ModelFileError(path, `cannot read (${code ?? String(err)})`);
  }
  const model = decodeModel(bytes, path);
  const dir = basename(dirname(path));
  return isVersionId(dir) ? { ...model, version: dir } : model;
}

/** Parses and validates model bytes; every error is a ModelFileError naming `file`, with a hint. */
export function decodeModel(bytes: Uint8Array, file: string): LoadedModel {
  try {
    return decodeUnhinted(bytes, file);
  } catch (err) {
    if (err instanceof ModelFileError) throw new ModelFileError(err.file, err.detail, `${err.message} → ${CORRUPT_HINT}`);
    throw err;
  }
}

function decodeUnhinted(bytes: Uint8Array, file: string): LoadedModel {
  const fail: (detail: string) => never = (detail) => {
    throw new ModelFileError(file, detail);
  };
  const { tensors, metadata: strings } = decodeSafetensors(bytes, file);
  const metadata = parseMetadata(strings, fail);
  if (sha256Hex(safetensorsDataSection(bytes, file)) !== metadata.contentHash) fail('content hash mismatch (file corrupted?)');

  const sizes = metadata.architecture.sizes;
  const layers: ModelLayer[] = [];
  const expected = new Set<string>();
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!, outputs = sizes[l + 1]!;
    const weight = takeTensor(tensors, `layers.${l}.weight`, [inputs, outputs], sizes, fail);
    const bias = takeTensor(tensors, `layers.${l}.bias`, [outputs], sizes, fail);
    expected.add(`layers.${l}.weight`).add(`layers.${l}.bias`);
    layers.push({ inputs, outputs, weight, bias });
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) fail(`unexpected tensor '${name}' (architecture [${sizes.join(', ')}] has ${expected.size} tensors)`);
  }
  const problem = checkMetadataValues(metadata) ?? checkLayers(layers, sizes);
  if (problem !== undefined) fail(problem);
  return { layers, metadata };
}

function takeTensor(
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  name: string,
  shape: number[],
  sizes: number[],
  fail: (detail: string) => never,
): Float32Array {
  const t = tensors.get(name);
  if (t === undefined) fail(`missing tensor '${name}' (architecture [${sizes.join(', ')}])`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail(`tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] for sizes [${sizes.join(', ')}]`);
  }
  return t.data;
}

/** Turns the string metadata into ModelMetadata, checking presence, format and types (values: checkMetadataValues). */
function parseMetadata(strings: Record<string, string>, fail: (detail: string) => never): ModelMetadata {
  const get = (key: string): string => {
    const v = strings[key];
    if (v === undefined) fail(`metadata "${key}" is missing`);
    return v;
  };
  const json = (key: string): unknown => {
    try {
      return JSON.parse(get(key));
    } catch {
      return fail(`metadata "${key}" is not valid JSON`);
    }
  };
  if (strings[KEYS.format] === undefined) fail(`not a ${MODEL_FORMAT} model (metadata "${KEYS.format}" is missing)`);
  if (strings[KEYS.format] !== MODEL_FORMAT) fail(`metadata format is "${strings[KEYS.format]}", expected "${MODEL_FORMAT}"`);
  const version = get(KEYS.formatVersion);
  if (version !== String(MODEL_FORMAT_VERSION)) fail(`format_version "${version}" is not supported (this build reads ${MODEL_FORMAT_VERSION})`);
  for (const key of Object.keys(strings)) if (!KNOWN_KEYS.includes(key)) fail(`unknown metadata key "${key}"`);

  const accuracyText = get(KEYS.testAccuracy);
  if (!DECIMAL.test(accuracyText)) fail(`metadata test_accuracy "${accuracyText}" is not a number`);
  const architecture = json(KEYS.architecture);
  const architectureProblem = checkArchitecture(architecture);
  if (architectureProblem !== undefined) fail(architectureProblem);
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    architecture: architecture as ModelMetadata['architecture'],
    preprocessing: get(KEYS.preprocessing),
    testAccuracy: Number(accuracyText),
    trainingParams: json(KEYS.trainingParams) as ModelMetadata['trainingParams'],
    dataChecksums: json(KEYS.dataChecksums) as ModelMetadata['dataChecksums'],
    createdAt: get(KEYS.createdAt),
    contentHash: get(KEYS.contentHash),
  };
}

/**
 * The first thing wrong with the metadata values, or undefined. Shared by encode (typed input may still hold NaN or
 * a bad date at run time) and decode (after parseMetadata), so a file that saves is a file that loads.
 */
function checkMetadataValues(meta: ModelMetadataInput & { contentHash?: string }): string | undefined {
  const architecture = checkArchitecture(meta.architecture);
  if (architecture !== undefined) return architecture;
  if (typeof meta.preprocessing !== 'string' || meta.preprocessing.trim() === '') return 'preprocessing must be a non-empty string';
  if (typeof meta.testAccuracy !== 'number' || !(meta.testAccuracy >= 0 && meta.testAccuracy <= 1)) {
    return `test accuracy ${String(meta.testAccuracy)} is not in [0, 1]`;
  }
  if (!isPlainObject(meta.trainingParams)) return 'training params must be an object';
  for (const [key, v] of Object.entries(meta.trainingParams)) {
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) return `training param "${key}" must be a string, a finite number or a boolean, got ${JSON.stringify(v) ?? typeof v}`;
  }
  if (!isPlainObject(meta.dataChecksums)) return 'data checksums must be an object';
  for (const [key, v] of Object.entries(meta.dataChecksums)) {
    if (typeof v !== 'string' || !SHA256_HEX_PATTERN.test(v)) return `data checksum of "${key}" must be 64 lowercase hex digits (sha256)`;
  }
  if (typeof meta.createdAt !== 'string' || !ISO_8601.test(meta.createdAt) || !Number.isFinite(Date.parse(meta.createdAt))) {
    return `created at "${String(meta.createdAt)}" is not an ISO-8601 date-time`;
  }
  if (meta.contentHash !== undefined && !SHA256_HEX_PATTERN.test(meta.contentHash)) return 'content hash must be 64 lowercase hex digits (sha256)';
  return undefined;
}

function checkArchitecture(a: unknown): string | undefined {
  if (!isPlainObject(a)) return 'architecture must be an object';
  const extra = Object.keys(a).find((k) => !['sizes', 'activation', 'output'].includes(k));
  if (extra !== undefined) return `architecture has an unknown field "${extra}"`;
  const { sizes, activation, output } = a;
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isSafeInteger(s) && (s as number) >= 1)) {
    return `architecture sizes must be at least 2 positive integers, got ${JSON.stringify(sizes)}`;
  }
  if (activation !== 'relu') return `architecture activation ${JSON.stringify(activation)} is not supported (only "relu")`;
  if (output !== 'softmax') return `architecture output ${JSON.stringify(output)} is not supported (only "softmax")`;
  return undefined;
}

/** The first thing wrong with `layers` for `sizes` (shapes chain, lengths match, every value finite), or undefined. */
function checkLayers(layers: ModelLayer[], sizes: number[]): string | undefined {
  if (layers.length !== sizes.length - 1) return `${layers.length} layers do not match sizes [${sizes.join(', ')}]`;
  for (let l = 0; l < layers.length; l++) {
    const { inputs, outputs, weight, bias } = layers[l]!;
    if (inputs !== sizes[l] || outputs !== sizes[l + 1]) {
      return `layer ${l} is ${inputs}→${outputs}, but sizes [${sizes.join(', ')}] need ${sizes[l]}→${sizes[l + 1]}`;
    }
    if (!(weight instanceof Float32Array) || weight.length !== inputs * outputs) {
      return `layers.${l}.weight must be a Float32Array of ${inputs}×${outputs} = ${inputs * outputs} values`;
    }
    if (!(bias instanceof Float32Array) || bias.length !== outputs) return `layers.${l}.bias must be a Float32Array of ${outputs} values`;
    for (const [name, data] of [[`layers.${l}.weight`, weight], [`layers.${l}.bias`, bias]] as const) {
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) return `${name}[${i}] is ${data[i]}: weights must be finite`;
      }
    }
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
