// `npm run export:onnx -- [--model <ref>] [--models <dir>] [--out <file>]`: writes a registry model as an ONNX file
// (src/model/onnx.ts) atomically. Errors: one `error:` line, exit 1 (2 for usage). Not here: the encoding itself.

import { EXIT_CODES, parseFlags, runCli } from './args.js';
import { loadModel } from '../model/model-file.js';
import { encodeOnnx } from '../model/onnx.js';
import { ModelRegistry } from '../model/registry.js';
import { ensureWritableFile, writeFileAtomic } from '../util/atomic-write.js';

const USAGE = `Usage: npm run export:onnx -- [flags]
  --model <ref>    a version id, a unique prefix of one, "current" (default), or a path to a .safetensors file
  --models <dir>   model registry (default models)
  --out <file>     the ONNX file to write (default model.onnx)
  -h, --help       this text
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values } = parseFlags({ model: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' } });
  const path = new ModelRegistry(values.models ?? 'models').resolve(values.model ?? 'current');
  const model = loadModel(path);
  const out = values.out ?? 'model.onnx';
  ensureWritableFile(out);
  const bytes = encodeOnnx(model);
  writeFileAtomic(out, bytes);
  console.log(`wrote ${out} (${bytes.length} byte${bytes.length === 1 ? '' : 's'}) from ${model.version ?? path}`);
  return 0;
}

runCli(main, USAGE);
