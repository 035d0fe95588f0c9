// The Doodle Digits page: pointer input → Drawing (canvas + a StrokeSession on the wasm core) → strokes streamed over
// /ws, coalesced into one `move` per animation frame → live guess, ten probability bars, a 28×28 preview of what the
// model sees, corrections POSTed to /feedback. Without the core (no WebAssembly SIMD) the page draws and predicts on,
// with a note instead of the preview. Protocol: docs/protocol.md; user manual and test hook: docs/web.md.

import type { PredictionMessage, ServerMessage } from '../../src/protocol.js';
import { SIDE } from '../../src/preprocess/spec.js';
import { Connection } from './connection.js';
import { loadPreprocessor, type CoreLoad } from './core.js';
import { CANVAS, Drawing, type Point } from './drawing.js';
import { sendFeedback } from './feedback.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
};

const pad = $<HTMLCanvasElement>('pad');
const preview = $<HTMLCanvasElement>('preview');
const guess = $('guess');
const guessLabel = $('guess-label');
const confidence = $('confidence');
const resultPanel = $('result');
const hint = $('hint');
const predictButton = $<HTMLButtonElement>('predict');
const error = $('error');
const status = $('feedback-status');
const modelEl = $('model');
const latencyEl = $('latency');
const bars = $('bars');
const choices = $('choices');
const previewNote = $('preview-note');

const drawing = new Drawing(pad);
const previewCtx = preview.getContext('2d')!;
const barFills: HTMLElement[] = [];
const barValues: HTMLElement[] = [];
const choiceButtons: HTMLButtonElement[] = [];

for (let d = 0; d < 10; d++) {
  const row = document.createElement('div');
  row.className = 'bar';
  row.innerHTML = `<span class="bar-label">${d}</span><span class="bar-track"><span class="bar-fill"></span></span><span class="bar-value">0%</span>`;
  bars.append(row);
  barFills.push(row.querySelector<HTMLElement>('.bar-fill')!);
  barValues.push(row.querySelector<HTMLElement>('.bar-value')!);
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = String(d);
  b.setAttribute('aria-label', `It was a ${d}: send this correction`);
  b.disabled = true;
  b.addEventListener('click', () => void correct(d));
  choices.append(b);
  choiceButtons.push(b);
}

let model = '';
let lastDigit: number | null = null;
/** Answers still owed for messages sent before the pending `predict` (−1: no result wanted). Each valid message is
 * answered in order, so the answer to `predict` is the one after these; a timer covers answers the server coalesced. */
let skipBeforeResult = -1;
let resultTimer: ReturnType<typeof setTimeout> | undefined;
/** Send times of messages not yet answered, oldest first: each valid message gets one answer. */
const sentAt: number[] = [];
/** The socket dropped and has not reopened: the result shown is stale, nothing can be predicted or corrected. */
let offline = false;
/** A correction is on its way to the server. */
let sending = false;
/** The wasm core behind the preview: still loading, loaded (and how), or unavailable in this browser. */
let core: 'loading' | CoreLoad | 'missing' = 'loading';

// --- connection ------------------------------------------------------------------------------------------------

const conn = new Connection(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, {
  onOpen() {
    sentAt.length = 0;
    if (offline) showError('');
    setOffline(false);
    resend();
  },
  onMessage(m: ServerMessage) {
    const t0 = sentAt.shift();
    if (t0 !== undefined) latencyEl.textContent = `${Math.round(performance.now() - t0)} ms`;
    if (m.type === 'prediction') onPrediction(m);
    else if (m.type === 'error') {
      showError(m.code === 'not_ready' ? 'Model not ready — the server is still loading a model, try again shortly' : m.message);
    }
  },
  onLost() {
    sentAt.length = 0;
    setOffline(true);
    showError('Connection Failed — retrying…');
    if (skipBeforeResult >= 0) {
      cancelResult();
      hint.textContent = 'Not connected';
    }
  },
});

function send(m: Parameters<Connection['send']>[0]): void {
  if (conn.send(m)) {
    sentAt.push(performance.now());
    // Under backpressure the server coalesces answers: never let stale send times inflate the latency shown.
    if (sentAt.length > 64) sentAt.splice(0, sentAt.length - 1);
  }
}

/** The whole session again, after a (re)connect: hello, then every stroke (the open one left open). */
function resend(): void {
  drawing.dropPending();
  send({ type: 'hello', ...CANVAS });
  drawing.strokes.forEach((s, i) => {
    const first = s[0]!;
    send({ type: 'begin', x: first[0], y: first[1] });
    const flat = s.slice(1).flat();
    for (let k = 0; k < flat.length; k += 2048) send({ type: 'move', points: flat.slice(k, k + 2048) });
    if (i < drawing.strokes.length - 1 || !drawing.drawing) send({ type: 'end' });
  });
}

// --- pointer input: one stroke per primary pointer; moves batched per animation frame ----------------------------

let activePointer: number | null = null;
let frame = 0;

const at = (e: PointerEvent): Point => {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * CANVAS.width / r.width, (e.clientY - r.top) * CANVAS.height / r.height];
};

function flush(): void {
  frame = 0;
  for (let pts = drawing.takePending(); pts.length > 0; pts = drawing.takePending()) send({ type: 'move', points: pts });
  updatePreview();
}

const schedule = (): void => {
  if (!frame) frame = requestAnimationFrame(flush);
};

pad.addEventListener('pointerdown', (e) => {
  if (activePointer !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
  if (drawing.full) {
    showError('This drawing is as large as the server accepts: clear the canvas to start again');
    return;
  }
  e.preventDefault();
  // Focus leaves the buttons, so Enter now predicts rather than re-clicking the last button pressed.
  pad.focus({ preventScroll: true });
  activePointer = e.pointerId;
  try {
    pad.setPointerCapture(e.pointerId);
  } catch {
    // synthetic or already-released pointers cannot be captured; drawing still works inside the canvas
  }
  const p = at(e);
  drawing.begin(p);
  cancelResult();
  send({ type: 'begin', x: p[0], y: p[1] });
  onInkChanged();
});

pad.addEventListener('pointermove', (e) => {
  if (e.pointerId !== activePointer) return;
  // Coalesced events give every sample the hardware produced between frames (smoother fast strokes).
  const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
  for (const ev of events.length > 0 ? events : [e]) drawing.extend(at(ev));
  schedule();
});

const up = (e: PointerEvent): void => {
  if (e.pointerId !== activePointer) return;
  activePointer = null;
  if (frame) cancelAnimationFrame(frame);
  flush();
  drawing.end();
  send({ type: 'end' });
};
pad.addEventListener('pointerup', up);
pad.addEventListener('pointercancel', up);

// --- results ---------------------------------------------------------------------------------------------------

function onPrediction(m: PredictionMessage): void {
  if (m.model) {
    model = m.model;
    modelEl.textContent = m.model;
  }
  // An answer to a message sent before a Clear still says "ink": trust the local canvas for emptiness.
  const digit = drawing.empty ? null : m.digit;
  lastDigit = digit;
  if (digit === null) {
    guess.textContent = '–';
    confidence.textContent = '';
    setBars(null);
  } else {
    guess.textContent = String(digit);
    confidence.textContent = `${Math.round((m.probs[digit] ?? 0) * 100)}% sure`;
    setBars(m.probs);
  }
  if (skipBeforeResult > 0) skipBeforeResult--;
  else if (skipBeforeResult === 0) showResult();
}

/** The answer to Predict: the guess in the result panel becomes "Prediction" (the digit is shown there only). */
function showResult(): void {
  cancelResult();
  setFinal(lastDigit !== null);
  hint.textContent = lastDigit === null ? 'Draw a digit' : 'Done — Clear to draw another';
}

function setFinal(final: boolean): void {
  guessLabel.textContent = final ? 'Prediction' : 'Live guess';
  resultPanel.classList.toggle('final', final);
}

/** While offline the result is greyed out (style.css) and Predict and the corrections are disabled. */
function setOffline(value: boolean): void {
  offline = value;
  resultPanel.classList.toggle('offline', value);
  predictButton.disabled = value;
  updateChoices();
}

function updateChoices(): void {
  // A correction carries the 28×28 the model saw: none without the core.
  const disabled = offline || sending || !drawing.preprocessing || (drawing.empty && drawing.strokes.length === 0);
  for (const b of choiceButtons) b.disabled = disabled;
}

function cancelResult(): void {
  skipBeforeResult = -1;
  clearTimeout(resultTimer);
}

function setBars(probs: readonly number[] | null): void {
  let best = -1;
  if (probs) best = probs.indexOf(Math.max(...probs));
  for (let d = 0; d < 10; d++) {
    const p = probs?.[d] ?? 0;
    barFills[d]!.style.width = `${(p * 100).toFixed(1)}%`;
    barFills[d]!.parentElement!.parentElement!.classList.toggle('best', d === best);
    barValues[d]!.textContent = `${Math.round(p * 100)}%`;
  }
}

function updatePreview(): void {
  const img = drawing.mnist();
  if (!img) return; // no core: the preview stays black, the note says why
  const data = previewCtx.createImageData(SIDE, SIDE);
  for (let i = 0; i < img.length; i++) {
    const v = Math.round(img[i]! * 255);
    data.data[4 * i] = v;
    data.data[4 * i + 1] = v;
    data.data[4 * i + 2] = v;
    data.data[4 * i + 3] = 255;
  }
  previewCtx.putImageData(data, 0, 0);
}

function onInkChanged(): void {
  updateChoices();
  setFinal(false);
  if (drawing.empty && drawing.strokes.length === 0) {
    hint.textContent = 'Draw a digit';
  } else if (skipBeforeResult < 0) {
    hint.textContent = 'Press Enter or Predict Digit';
  }
  status.textContent = '';
}

function showError(text: string): void {
  error.textContent = text;
}

// --- actions ---------------------------------------------------------------------------------------------------

function predict(): void {
  if (drawing.empty) {
    hint.textContent = 'Draw a digit';
    return;
  }
  cancelResult();
  if (!conn.open) {
    hint.textContent = 'Not connected';
    return;
  }
  hint.textContent = 'Predicting…';
  skipBeforeResult = sentAt.length;
  resultTimer = setTimeout(showResult, 2000);
  send({ type: 'predict' });
}

function clearAll(): void {
  activePointer = null;
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
  drawing.clear();
  cancelResult();
  lastDigit = null;
  guess.textContent = '–';
  confidence.textContent = '';
  setBars(null);
  updatePreview();
  onInkChanged();
  if (!offline) showError('');
  send({ type: 'clear' });
}

async function correct(label: number): Promise<void> {
  const image = drawing.mnist();
  if (drawing.strokes.length === 0 || !image) return;
  status.textContent = 'Sending…';
  sending = true;
  updateChoices();
  try {
    await sendFeedback({
      label,
      strokes: drawing.strokes.map((s) => s.map((p): [number, number] => [p[0], p[1]])),
      width: CANVAS.width, height: CANVAS.height, brush: CANVAS.brush,
      image: Array.from(image),
      predicted: lastDigit,
      model,
    });
    status.textContent = `Thanks — saved as ${label}`;
  } catch (e) {
    status.textContent = '';
    showError((e as Error).message);
  } finally {
    sending = false;
    updateChoices();
  }
}

predictButton.addEventListener('click', predict);
$('clear').addEventListener('click', clearAll);

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  const t = e.target as HTMLElement | null;
  if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
  if (e.key === 'c' || e.key === 'C') {
    e.preventDefault();
    clearAll();
  } else if (e.key === 'Enter' && t?.tagName !== 'BUTTON') { // Enter on a focused button already clicks it
    e.preventDefault();
    predict();
  }
});

matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', () => drawing.resize());

// Test hook (docs/web.md): the strokes as streamed, the preview's 784 values, and the core's state.
Object.defineProperty(window, 'doodleDigits', {
  value: Object.freeze({
    get core() { return core; },
    strokes: () => drawing.strokes.map((s) => s.map((p) => [p[0], p[1]])),
    preview: () => { const img = drawing.mnist(); return img ? Array.from(img) : null; },
  }),
});

setBars(null);
conn.connect();
loadPreprocessor().then(({ pre, load }) => {
  drawing.attach(pre); // replays whatever was drawn while the module loaded
  core = load;
  updatePreview();
  updateChoices();
}, (e: unknown) => {
  core = 'missing';
  previewNote.textContent = 'No preview in this browser (it cannot run the WebAssembly core), so no corrections ' +
    'either; the guesses still come from the server.';
  previewNote.hidden = false;
  console.warn('numeric core not loaded:', e);
});
