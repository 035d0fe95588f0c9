// `npm run export:onnx -- [--model <ref>] [--models <dir>] [--out <file>]`: writes a registry model as an ONNX file
// (src/model/onnx.ts) atomically. Errors: one `error:` line, exit 1 (2 for usage). Not here: the encoding itself.

import { parseFlags, runCli } from './args.js';
import { loadModel } from '../model/model-file.js';
import { encodeOnnx } from '../model/onnx.js';
import { ModelRegistry } from '../model/registry.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const USAGE = `Usage: npm run export:onnx -- [flags]
  --model <ref>    a version id, a unique prefix of one, "current" (default), or a path to a .safetensors file
  --models <dir>   model registry (default models)
  --out <file>     the ONNX file to write (default model.onnx)
  --help           this text`;

async function main(): Promise<number> {
  const { values } = parseFlags({ model: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' },
    help: { type: 'boolean' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const path = new ModelRegistry(values.models ?? 'models').resolve(values.model ?? 'current');
  const model = loadModel(path);
  const bytes = encodeOnnx(model);
  const out = values.out ?? 'model.onnx';
  writeFileAtomic(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes) from ${model.version ?? path}`);
  return 0;
}

runCli(main, USAGE);
