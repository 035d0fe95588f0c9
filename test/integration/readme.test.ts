// The README's benchmark tables are generated: they must match the committed results file (a child process, so
// this lives in the integration tier).

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../helpers/paths.js';

describe('README', () => {
  it('shows the benchmark figures of the committed results file (tools/bench-tables.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(projectRoot, 'tools', 'bench-tables.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
