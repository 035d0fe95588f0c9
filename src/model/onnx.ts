// ONNX export of a loaded MLP, written by hand: a minimal protobuf writer (varints, length-delimited fields, packed
// floats) and the subset of onnx.proto that an MLP needs. Encode only; nothing here reads ONNX (ORT does, in tests).
// The graph, for sizes [C0, …, CL] (batch dim symbolic "N"):
//   input [N, C0] → (MatMul W_l [C_l, C_l+1] → Add b_l [C_l+1] → Relu, except after the last) → Softmax(axis −1)
//   → probabilities [N, CL] FLOAT;  ArgMax(probabilities, axis 1, keepdims 0) → digit [N] INT64
// Field numbers: see: onnx/onnx onnx/onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto …).

import type { LoadedModel, ModelMetadata } from './model-file.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
export const ONNX_PRODUCER = 'doodle-digits';
export const ONNX_INPUT = 'input';
export const ONNX_PROBABILITIES = 'probabilities';
export const ONNX_DIGIT = 'digit';

/** TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType.INT. */
const ATTR_INT = 2;

// ---- protobuf wire format (see: protobuf.dev/programming-guides/encoding) ----

const VARINT = 0, LEN = 2;

/** One encoded field or message body: concatenated byte chunks. */
type Bytes = Uint8Array;

function concat(parts: Bytes[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Base-128 varint, least significant group first. Negative int64 values are their 64-bit two's complement (10 bytes),
 * as protobuf encodes int64 (not zigzag: that is sint64). */
export function encodeVarint(value: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const key = (field: number, wire: number): Bytes => encodeVarint((field << 3) | wire);
const varintField = (field: number, value: number | bigint): Bytes => concat([key(field, VARINT), encodeVarint(value)]);
const bytesField = (field: number, bytes: Bytes): Bytes => concat([key(field, LEN), encodeVarint(bytes.length), bytes]);
const stringField = (field: number, s: string): Bytes => bytesField(field, new TextEncoder().encode(s));
const messageField = (field: number, parts: Bytes[]): Bytes => bytesField(field, concat(parts));

/** A packed `repeated float`: one length-delimited field of little-endian IEEE-754 singles (DataView: host-endian-safe). */
function packedFloats(field: number, values: Float32Array): Bytes {
  const body = new Uint8Array(values.length * 4);
  const view = new DataView(body.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytesField(field, body);
}

// ---- the onnx.proto subset ----

/** TensorProto: dims = 1 (int64), data_type = 2, float_data = 4 (packed), name = 8. */
function tensor(name: string, dims: number[], data: Float32Array): Bytes {
  return concat([...dims.map((d) => varintField(1, d)), varintField(2, FLOAT), packedFloats(4, data), stringField(8, name)]);
}

/** ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1, shape = 2 } }, doc_string = 3 }.
 * A TensorShapeProto dim (field 1) is dim_value = 1 (a number) or dim_param = 2 (a symbolic name). */
function valueInfo(name: string, elemType: number, dims: (number | string)[], doc: string): Bytes {
  const dim = (d: number | string): Bytes => messageField(1, [typeof d === 'number' ? varintField(1, d) : stringField(2, d)]);
  const shape = messageField(2, dims.map(dim));
  const tensorType = messageField(1, [varintField(1, elemType), shape]);
  return concat([stringField(1, name), messageField(2, [tensorType]), stringField(3, doc)]);
}

/** AttributeProto { name = 1, i = 3, type = 20 } for an INT attribute. */
const intAttribute = (name: string, value: number): Bytes => concat([stringField(1, name), varintField(3, value), varintField(20, ATTR_INT)]);

/** NodeProto { input = 1, output = 2, name = 3, op_type = 4, attribute = 5 }; the default domain is left unset. */
function node(opType: string, name: string, inputs: string[], outputs: string[], attributes: Bytes[] = []): Bytes {
  return concat([...inputs.map((s) => stringField(1, s)), ...outputs.map((s) => stringField(2, s)), stringField(3, name),
    stringField(4, opType), ...attributes.map((a) => bytesField(5, a))]);
}

/** StringStringEntryProto { key = 1, value = 2 }. */
const entry = (k: string, v: string): Bytes => concat([stringField(1, k), stringField(2, v)]);

/** The model's metadata as ONNX metadata_props (all strings; objects as JSON), plus the registry version when known. */
export function onnxMetadata(model: LoadedModel): [string, string][] {
  const m: ModelMetadata = model.metadata;
  const props: [string, string][] = [
    ['format', m.format], ['format_version', String(m.formatVersion)], ['architecture', JSON.stringify(m.architecture)],
    ['preprocessing', m.preprocessing], ['test_accuracy', String(m.testAccuracy)],
    ['training_params', JSON.stringify(m.trainingParams)], ['data_checksums', JSON.stringify(m.dataChecksums)],
    ['created_at', m.createdAt], ['content_hash', m.contentHash],
  ];
  return model.version === undefined ? props : [['version', model.version], ...props];
}

export interface OnnxOptions {
  /** ModelProto.producer_version, e.g. the package version. */
  producerVersion?: string;
}

/**
 * Encodes `model` (already validated by loadModel/decodeModel) as ONNX ModelProto bytes:
 * ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7, opset_import = 8
 * (OperatorSetIdProto { domain = 1, version = 2 }), metadata_props = 14.
 * GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12.
 */
export function encodeOnnx(model: LoadedModel, options: OnnxOptions = {}): Uint8Array {
  const { layers } = model;
  if (layers.length === 0) throw new RangeError('cannot export a model with no layers');
  const nodes: Bytes[] = [];
  const initializers: Bytes[] = [];
  let x = ONNX_INPUT;
  layers.forEach((layer, l) => {
    const w = `layers.${l}.weight`, b = `layers.${l}.bias`;
    initializers.push(tensor(w, [layer.inputs, layer.outputs], layer.weight), tensor(b, [layer.outputs], layer.bias));
    nodes.push(node('MatMul', `layers.${l}.matmul`, [x, w], [`layers.${l}.xw`]));
    nodes.push(node('Add', `layers.${l}.add`, [`layers.${l}.xw`, b], [`layers.${l}.linear`]));
    x = `layers.${l}.linear`;
    if (l + 1 < layers.length) {
      nodes.push(node('Relu', `layers.${l}.relu`, [x], [`layers.${l}.relu`]));
      x = `layers.${l}.relu`;
    }
  });
  nodes.push(node('Softmax', 'softmax', [x], [ONNX_PROBABILITIES], [intAttribute('axis', -1)]));
  nodes.push(node('ArgMax', 'argmax', [ONNX_PROBABILITIES], [ONNX_DIGIT], [intAttribute('axis', 1), intAttribute('keepdims', 0)]));

  const inputs = layers[0]!.inputs, classes = layers[layers.length - 1]!.outputs;
  const sizes = [inputs, ...layers.map((l) => l.outputs)];
  const graph = [
    ...nodes.map((n) => bytesField(1, n)),
    stringField(2, 'doodle-digits-mlp'),
    ...initializers.map((t) => bytesField(5, t)),
    stringField(10, `MLP [${sizes.join(', ')}]: Linear (x·W + b) with ReLU between, then softmax over the last axis`),
    messageField(11, [valueInfo(ONNX_INPUT, FLOAT, ['N', inputs], `N images, ${inputs} pixels each in [0, 1] (ink 1 on 0), preprocessing ${model.metadata.preprocessing}`)]),
    messageField(12, [valueInfo(ONNX_PROBABILITIES, FLOAT, ['N', classes], 'class probabilities; each row sums to 1')]),
    messageField(12, [valueInfo(ONNX_DIGIT, INT64, ['N'], 'argmax of probabilities (first index on ties)')]),
  ];
  return concat([
    varintField(1, ONNX_IR_VERSION),
    stringField(2, ONNX_PRODUCER),
    ...(options.producerVersion === undefined ? [] : [stringField(3, options.producerVersion)]),
    stringField(6, `Doodle Digits handwritten-digit classifier${model.version === undefined ? '' : ` ${model.version}`}`),
    messageField(7, graph),
    messageField(8, [stringField(1, ''), varintField(2, ONNX_OPSET)]),
    ...onnxMetadata(model).map(([k, v]) => bytesField(14, entry(k, v))),
  ]);
}
