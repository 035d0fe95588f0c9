// Training options: defaults from params.yaml (the single source of default hyperparameters, shared with DVC),
// overridden by command-line flags, validated once with messages that name the flag.
// Not here: parsing argv (the CLI does) or any training.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SCHEDULES, type ScheduleName } from './schedule.js';
import type { TrainConfig } from './trainer.js';

export class OptionsError extends Error {
  override name = 'OptionsError';
}

/** The `train:` section of params.yaml (snake_case, as DVC users edit it). */
export interface TrainParams {
  layers: number[];
  epochs: number;
  batch_size: number;
  optimizer: string;
  lr: number;
  schedule: string;
  warmup_epochs: number;
  momentum: number;
  weight_decay: number;
  seed: number;
  augment: boolean;
  /** Train on the first `limit` images (0 = all); optional. */
  limit?: number;
}

export interface Params {
  data: { dir: string };
  train: TrainParams;
}

/** Reads and checks params.yaml. */
export function readParams(path: string): Params {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OptionsError(code === 'ENOENT' ? `${path} not found (it holds the default hyperparameters)`
      : `${path}: ${(err as Error).message}`);
  }
  const root = doc as Partial<Params> | null;
  if (!root || typeof root !== 'object' || !root.train || typeof root.train !== 'object') {
    throw new OptionsError(`${path}: expected a "train:" section`);
  }
  const t = root.train;
  const need = (key: keyof TrainParams, type: 'number' | 'string' | 'boolean'): void => {
    if (typeof t[key] !== type) throw new OptionsError(`${path}: train.${key} must be a ${type}, got ${JSON.stringify(t[key])}`);
  };
  if (!Array.isArray(t.layers)) throw new OptionsError(`${path}: train.layers must be a list of layer sizes`);
  for (const k of ['epochs', 'batch_size', 'lr', 'warmup_epochs', 'momentum', 'weight_decay', 'seed'] as const) need(k, 'number');
  for (const k of ['optimizer', 'schedule'] as const) need(k, 'string');
  need('augment', 'boolean');
  if (t.limit !== undefined) need('limit', 'number');
  return { data: { dir: typeof root.data?.dir === 'string' ? root.data.dir : 'mnist' }, train: t as TrainParams };
}

/** Flag values as parsed from argv (strings), all optional. */
export interface TrainFlags {
  layers?: string;
  epochs?: string;
  'batch-size'?: string;
  optimizer?: string;
  lr?: string;
  schedule?: string;
  'warmup-epochs'?: string;
  momentum?: string;
  'weight-decay'?: string;
  seed?: string;
  augment?: boolean;
  limit?: string;
}

export function resolveConfig(p: TrainParams, f: TrainFlags): TrainConfig {
  const layers = f.layers !== undefined ? parseLayers(f.layers) : p.layers;
  checkLayers(layers, f.layers !== undefined ? '--layers' : 'params.yaml train.layers');
  const optimizer = f.optimizer ?? p.optimizer;
  if (optimizer !== 'sgd' && optimizer !== 'adam') throw new OptionsError(`--optimizer must be sgd or adam, got "${optimizer}"`);
  const schedule = f.schedule ?? p.schedule;
  if (!(SCHEDULES as readonly string[]).includes(schedule)) {
    throw new OptionsError(`--schedule must be one of ${SCHEDULES.join(', ')}, got "${schedule}"`);
  }
  return {
    sizes: layers,
    epochs: int('--epochs', f.epochs, p.epochs, 1, 10_000),
    batchSize: int('--batch-size', f['batch-size'], p.batch_size, 1, 65_536),
    optimizer,
    lr: num('--lr', f.lr, p.lr, 0, 10, true),
    schedule: schedule as ScheduleName,
    warmupEpochs: num('--warmup-epochs', f['warmup-epochs'], p.warmup_epochs, 0, 1000),
    momentum: num('--momentum', f.momentum, p.momentum, 0, 0.9999),
    weightDecay: num('--weight-decay', f['weight-decay'], p.weight_decay, 0, 1),
    seed: int('--seed', f.seed, p.seed, 0, 2 ** 32 - 1),
    augment: f.augment ?? p.augment,
    limit: int('--limit', f.limit, p.limit ?? 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

function parseLayers(text: string): number[] {
  const parts = text.split(/[,x-]/).map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s))) throw new OptionsError(`--layers must look like 784,256,128,10, got "${text}"`);
  return parts.map(Number);
}

function checkLayers(layers: readonly unknown[], where: string): asserts layers is number[] {
  if (layers.length < 2 || layers.some((n) => !Number.isInteger(n) || (n as number) < 1 || (n as number) > 65_536)) {
    throw new OptionsError(`${where}: layer sizes must be 2 or more integers in 1..65536, got [${layers.join(', ')}]`);
  }
  if (layers[0] !== 784) throw new OptionsError(`${where}: the first layer must be 784 (28×28 pixels), got ${layers[0]}`);
  if (layers[layers.length - 1] !== 10) throw new OptionsError(`${where}: the last layer must be 10 (digits), got ${layers[layers.length - 1]}`);
}

function num(flag: string, text: string | undefined, fallback: number, min: number, max: number, exclusiveMin = false): number {
  const v = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(v) || v < min || v > max || (exclusiveMin && v === min)) {
    throw new OptionsError(`${flag} must be a number in ${exclusiveMin ? '(' : '['}${min}, ${max}], got "${text ?? fallback}"`);
  }
  return v;
}

function int(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  const v = num(flag, text, fallback, min, max);
  if (!Number.isInteger(v)) throw new OptionsError(`${flag} must be an integer, got "${text ?? fallback}"`);
  return v;
}
