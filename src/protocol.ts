// The wire protocol shared by the server and the web client: message types, limits, and the validation of every
// client → server message and HTTP body (boundary code: each problem gets its own exact message). See docs/protocol.md.
// Imports nothing from src/ (the browser bundles it).

/** Limits (documented in docs/protocol.md). */
export const LIMITS = Object.freeze({
  /** HTTP request body, bytes (413 beyond). */
  maxBodyBytes: 4 * 1024 * 1024,
  /** WebSocket message, bytes: the server closes with 1009 beyond it (uWebSockets.js drops the connection, 1006,
   * beyond its own cap, WS_HARD_CAP_BYTES in src/server/ws-sessions.ts). */
  maxWsMessageBytes: 64 * 1024,
  /** Points in one `move` message. */
  maxPointsPerMessage: 1024,
  /** Strokes in one drawing (WebSocket session or HTTP strokes body). */
  maxStrokes: 512,
  /** Points in one drawing. */
  maxPointsPerDrawing: 50_000,
  /** Canvas sides and raster sides, pixels. */
  minCanvas: 8,
  maxCanvas: 2048,
  /** Brush diameter, canvas pixels. */
  maxBrush: 512,
  /** Default of the drawer limit, open WebSocket connections per server thread (a setting: --max-drawers,
   * MAX_DRAWERS; 503 on upgrade beyond it). A live drawing holds its points and a small grid: ≤ 16 KB for a typical digit. */
  maxDrawers: 10_000,
  /** Default of the per-thread memory budget for live drawings, bytes (a setting: --drawing-memory-mb,
   * DRAWING_MEMORY_MB): beyond it new points get a "limit" error and new drawers 503, so drawings at the points limit
   * (~1 MB each) cannot take the process's memory. */
  drawingMemoryBytes: 512 * 1024 * 1024,
  /** Images in one /v2 infer request. */
  maxBatch: 1024,
  /** Invalid messages a connection may send within errorWindowMs before it is closed as abusive. */
  maxErrorsPerWindow: 20,
  errorWindowMs: 10_000,
});

export const DEFAULT_CANVAS = Object.freeze({ width: 280, height: 280, brush: 18 });

export interface CanvasSpec { width: number; height: number; brush: number }

export type ClientMessage =
  | { type: 'hello'; width: number; height: number; brush: number }
  | { type: 'begin'; x: number; y: number }
  | { type: 'move'; points: number[] }
  | { type: 'end' }
  | { type: 'clear' }
  | { type: 'predict' };

export interface PredictionMessage {
  type: 'prediction';
  seq: number;
  digit: number | null;
  probs: number[];
  model: string;
}

export interface ErrorMessage { type: 'error'; code: ErrorCode; message: string }

export type ServerMessage = PredictionMessage | ErrorMessage;

export type ErrorCode = 'bad_json' | 'bad_message' | 'unknown_type' | 'out_of_range' | 'limit' | 'not_ready' | 'binary_unsupported';

/** A validation failure: `code` for machines, `message` for people. */
export class ProtocolError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Parses and validates one client message against the session's canvas. */
export function parseClientMessage(text: string, canvas: CanvasSpec): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_json', 'message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('bad_message', 'message must be a JSON object with a "type"');
  }
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'hello': {
      const width = m.width === undefined ? DEFAULT_CANVAS.width : intIn(m.width, 'width', LIMITS.minCanvas, LIMITS.maxCanvas);
      const height = m.height === undefined ? DEFAULT_CANVAS.height : intIn(m.height, 'height', LIMITS.minCanvas, LIMITS.maxCanvas);
      const brush = m.brush === undefined ? DEFAULT_CANVAS.brush : numIn(m.brush, 'brush', 0.5, LIMITS.maxBrush);
      return { type: 'hello', width, height, brush };
    }
    case 'begin':
      return { type: 'begin', x: coord(m.x, 'x', canvas.width), y: coord(m.y, 'y', canvas.height) };
    case 'move': {
      const pts = m.points;
      if (!Array.isArray(pts)) throw new ProtocolError('bad_message', '"points" must be an array [x1, y1, x2, y2, …]');
      if (pts.length % 2 !== 0) throw new ProtocolError('bad_message', `"points" has ${pts.length} numbers; it needs x, y pairs`);
      if (pts.length / 2 > LIMITS.maxPointsPerMessage) {
        throw new ProtocolError('limit', `${pts.length / 2} points in one message; the limit is ${LIMITS.maxPointsPerMessage}`);
      }
      for (let i = 0; i < pts.length; i += 2) {
        coord(pts[i], `points[${i}]`, canvas.width);
        coord(pts[i + 1], `points[${i + 1}]`, canvas.height);
      }
      return { type: 'move', points: pts as number[] };
    }
    case 'end':
    case 'clear':
    case 'predict':
      return { type: m.type };
    default:
      if (typeof m.type !== 'string') throw new ProtocolError('bad_message', 'message must have a string "type"');
      throw new ProtocolError('unknown_type', `unknown message type "${m.type.slice(0, 40)}" (hello, begin, move, end, clear, predict)`);
  }
}

// Pointer events may stray a little past the canvas edge while drawing: accept up to one canvas beyond each edge
// (clipped when rasterised); anything further is a client bug.
function coord(v: unknown, name: string, side: number): number {
  if (typeof v !== 'number') throw new ProtocolError('bad_message', `${name} must be a number`);
  if (!Number.isFinite(v)) throw new ProtocolError('bad_message', `${name} must be finite`);
  if (v < -side || v > 2 * side) throw new ProtocolError('out_of_range', `${name} = ${v} is outside [${-side}, ${2 * side}]`);
  return v;
}

function numIn(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError('bad_message', `${name} must be a finite number`);
  if (v < lo || v > hi) throw new ProtocolError('out_of_range', `${name} = ${v} is outside [${lo}, ${hi}]`);
  return v;
}

function intIn(v: unknown, name: string, lo: number, hi: number): number {
  const n = numIn(v, name, lo, hi);
  if (!Number.isInteger(n)) throw new ProtocolError('bad_message', `${name} must be an integer`);
  return n;
}

// ------------------------------------------------------------------------------------------------------------------
// HTTP bodies

export type PredictBody =
  | { kind: 'mnist'; image: Float32Array }
  | { kind: 'raster'; image: Float32Array; width: number; height: number }
  | { kind: 'strokes'; strokes: Array<Array<[number, number]>>; canvas: CanvasSpec };

/** Validates a parsed POST /predict JSON body. Throws ProtocolError (→ HTTP 400). */
export function parsePredictBody(value: unknown): PredictBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('bad_message', 'body must be a JSON object with "image" or "strokes"');
  }
  const b = value as Record<string, unknown>;
  if (b.image !== undefined && b.strokes !== undefined) throw new ProtocolError('bad_message', 'give "image" or "strokes", not both');
  if (b.image !== undefined) {
    if (!Array.isArray(b.image)) throw new ProtocolError('bad_message', '"image" must be an array of numbers in [0, 1]');
    if (b.width === undefined && b.height === undefined) {
      if (b.image.length !== 784) {
        throw new ProtocolError('bad_message', `"image" without width/height must have 784 values (28×28), got ${b.image.length}`);
      }
      return { kind: 'mnist', image: unitArray(b.image, 'image') };
    }
    const width = intIn(b.width, 'width', 1, LIMITS.maxCanvas);
    const height = intIn(b.height, 'height', 1, LIMITS.maxCanvas);
    if (b.image.length !== width * height) {
      throw new ProtocolError('bad_message', `"image" has ${b.image.length} values; width × height = ${width * height}`);
    }
    return { kind: 'raster', image: unitArray(b.image, 'image'), width, height };
  }
  if (b.strokes !== undefined) {
    const canvas = {
      width: b.width === undefined ? DEFAULT_CANVAS.width : intIn(b.width, 'width', LIMITS.minCanvas, LIMITS.maxCanvas),
      height: b.height === undefined ? DEFAULT_CANVAS.height : intIn(b.height, 'height', LIMITS.minCanvas, LIMITS.maxCanvas),
      brush: b.brush === undefined ? DEFAULT_CANVAS.brush : numIn(b.brush, 'brush', 0.5, LIMITS.maxBrush),
    };
    if (!Array.isArray(b.strokes)) throw new ProtocolError('bad_message', '"strokes" must be an array of strokes [[x, y], …]');
    if (b.strokes.length > LIMITS.maxStrokes) throw new ProtocolError('limit', `${b.strokes.length} strokes; the limit is ${LIMITS.maxStrokes}`);
    let total = 0;
    const strokes = b.strokes.map((s, i) => {
      if (!Array.isArray(s)) throw new ProtocolError('bad_message', `strokes[${i}] must be an array of [x, y] points`);
      total += s.length;
      if (total > LIMITS.maxPointsPerDrawing) throw new ProtocolError('limit', `more than ${LIMITS.maxPointsPerDrawing} points in the drawing`);
      return s.map((p, j): [number, number] => {
        if (!Array.isArray(p) || p.length !== 2) throw new ProtocolError('bad_message', `strokes[${i}][${j}] must be [x, y]`);
        return [coord(p[0], `strokes[${i}][${j}][0]`, canvas.width), coord(p[1], `strokes[${i}][${j}][1]`, canvas.height)];
      });
    });
    return { kind: 'strokes', strokes, canvas };
  }
  throw new ProtocolError('bad_message', 'body must have "image" (784 values, or width × height with "width" and "height") or "strokes"');
}

/** Copies an array of numbers in [0, 1] into a Float32Array, naming the first bad element. */
export function unitArray(a: readonly unknown[], name: string): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number') throw new ProtocolError('bad_message', `${name}[${i}] must be a number`);
    if (!(v >= 0 && v <= 1)) throw new ProtocolError('out_of_range', `${name}[${i}] = ${v} is not in [0, 1]`);
    out[i] = v;
  }
  return out;
}

export interface FeedbackBody {
  label: number;
  predicted: number | null;
  model: string | null;
  strokes: Array<Array<[number, number]>>;
  canvas: CanvasSpec;
  image: Float32Array;
}

/** Validates a POST /feedback body: the corrected label, the drawing's strokes and its normalised 28×28 image. */
export function parseFeedbackBody(value: unknown): FeedbackBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('bad_message', 'body must be a JSON object with "label", "strokes" and "image"');
  }
  const b = value as Record<string, unknown>;
  const label = digitOrNull(b.label, 'label');
  if (label === null) throw new ProtocolError('bad_message', '"label" must be a digit 0–9');
  const predicted = b.predicted === undefined ? null : digitOrNull(b.predicted, 'predicted');
  if (b.model !== undefined && b.model !== null && (typeof b.model !== 'string' || b.model.length > 100)) {
    throw new ProtocolError('bad_message', '"model" must be a string of at most 100 characters');
  }
  if (b.strokes === undefined) throw new ProtocolError('bad_message', '"strokes" is required');
  const drawing = parsePredictBody({ strokes: b.strokes, width: b.width, height: b.height, brush: b.brush });
  if (drawing.kind !== 'strokes') throw new ProtocolError('bad_message', '"strokes" is required');
  if (drawing.strokes.every((s) => s.length === 0)) throw new ProtocolError('bad_message', 'the drawing is empty');
  if (!Array.isArray(b.image) || b.image.length !== 784) {
    throw new ProtocolError('bad_message', '"image" must be the 784 values of the normalised 28×28 input');
  }
  return { label, predicted, model: typeof b.model === 'string' ? b.model : null, strokes: drawing.strokes,
    canvas: drawing.canvas, image: unitArray(b.image, 'image') };
}

function digitOrNull(v: unknown, name: string): number | null {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 9) throw new ProtocolError('bad_message', `"${name}" must be a digit 0–9`);
  return v;
}

// ------------------------------------------------------------------------------------------------------------------
// Open Inference Protocol v2

export interface InferRequest { n: number; data: Float32Array; id?: string; outputs?: string[] }

const INPUT_PIXELS = 784;
const bad = (message: string): ProtocolError => new ProtocolError('bad_message', message);

/**
 * An OIP v2 inference request: inputs[0] with shape [N, 784] or [N, 28, 28], FP32 data in [0, 1] (flat or nested,
 * row-major) — or, with the binary tensor data extension (`binary`: the bytes after the JSON header), FP32
 * little-endian or UINT8 pixels (0–255, divided by 255) of `parameters.binary_data_size` bytes. Throws ProtocolError.
 */
export function parseInferRequest(value: unknown, binary?: Uint8Array): InferRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('body must be an inference request object with "inputs"');
  }
  const r = value as Record<string, unknown>;
  if (r.id !== undefined && typeof r.id !== 'string') throw bad('"id" must be a string');
  if (!Array.isArray(r.inputs) || r.inputs.length !== 1) throw bad('"inputs" must be an array of exactly one tensor');
  const t = r.inputs[0] as Record<string, unknown> | null;
  if (typeof t !== 'object' || t === null) throw bad('inputs[0] must be a tensor object');
  const size = (t.parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
  const inBinary = size !== undefined;
  if (inBinary && binary === undefined) {
    throw bad('inputs[0].parameters.binary_data_size needs the binary tensor data extension (an Inference-Header-Content-Length header)');
  }
  const types = inBinary ? ['FP32', 'UINT8'] : ['FP32'];
  if (!types.includes(t.datatype as string)) {
    throw bad(`inputs[0].datatype must be ${types.map((d) => `"${d}"`).join(' or ')}, got ${JSON.stringify(t.datatype)}`);
  }
  const shape = t.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw bad('inputs[0].shape must be an array of positive integers');
  }
  const ok = (shape.length === 2 && shape[1] === INPUT_PIXELS) || (shape.length === 3 && shape[1] === 28 && shape[2] === 28);
  if (!ok) throw bad(`inputs[0].shape must be [N, 784] or [N, 28, 28], got [${shape.join(', ')}]`);
  const n = shape[0] as number;
  if (n > LIMITS.maxBatch) throw new ProtocolError('limit', `batch of ${n} images exceeds the limit of ${LIMITS.maxBatch}`);
  const data = inBinary ? binaryTensor(t.datatype as 'FP32' | 'UINT8', size, n, binary!) : jsonTensor(t.data, n, shape);
  let outputs: string[] | undefined;
  if (r.outputs !== undefined) {
    if (!Array.isArray(r.outputs)) throw bad('"outputs" must be an array of {"name"}');
    outputs = r.outputs.map((o, i) => {
      const name = (o as { name?: unknown } | null)?.name;
      if (name !== 'probabilities' && name !== 'digit') throw bad(`outputs[${i}].name must be "probabilities" or "digit"`);
      return name;
    });
  }
  return { n, data, ...(r.id !== undefined ? { id: r.id as string } : {}), ...(outputs ? { outputs } : {}) };
}

/**
 * A request of the binary tensor data extension: `headerLength` (the Inference-Header-Content-Length header) bytes of
 * JSON, then the tensors' bytes. Throws ProtocolError.
 */
export function parseBinaryInferRequest(body: Uint8Array, headerLength: string): InferRequest {
  const text = headerLength.trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 2 && n <= body.length)) {
    throw bad(`Inference-Header-Content-Length must be the byte length of the JSON header (2..${body.length}), ` +
      `got ${JSON.stringify(headerLength.slice(0, 20))}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(body.subarray(0, n)));
  } catch (err) {
    throw new ProtocolError('bad_json', `body is not valid JSON: ${(err as Error).message}`);
  }
  return parseInferRequest(header, body.subarray(n));
}

function jsonTensor(values: unknown, n: number, shape: readonly unknown[]): Float32Array {
  const flat = Array.isArray(values) ? (values as unknown[]).flat(2) : undefined;
  if (!flat) throw bad('inputs[0].data must be an array of numbers');
  if (flat.length !== n * INPUT_PIXELS) {
    throw bad(`inputs[0].data has ${flat.length} values; shape [${shape.join(', ')}] needs ${n * INPUT_PIXELS}`);
  }
  const data = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw bad(`inputs[0].data[${i}] = ${JSON.stringify(v)} is not a number in [0, 1]`);
    data[i] = v;
  }
  return data;
}

function binaryTensor(datatype: 'FP32' | 'UINT8', size: unknown, n: number, bytes: Uint8Array): Float32Array {
  const need = n * INPUT_PIXELS * (datatype === 'FP32' ? 4 : 1);
  if (size !== need) throw bad(`inputs[0].parameters.binary_data_size must be ${need} (${n}×784 ${datatype}), got ${JSON.stringify(size)}`);
  if (bytes.length !== need) throw bad(`the binary tensor data has ${bytes.length} bytes after the JSON header; binary_data_size says ${need}`);
  const data = new Float32Array(n * INPUT_PIXELS);
  if (datatype === 'UINT8') {
    for (let i = 0; i < data.length; i++) data[i] = bytes[i]! / 255;
    return data;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < data.length; i++) {
    const v = view.getFloat32(i * 4, true);
    if (!(v >= 0 && v <= 1)) throw bad(`inputs[0] binary value ${i} = ${v} is not in [0, 1]`);
    data[i] = v;
  }
  return data;
}
