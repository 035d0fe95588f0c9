// Static files of the web client, read once at start-up into memory. Lookups are exact keys of that map, so a path
// like /../../etc/passwd simply is not found: there is no path resolution at request time to traverse with.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.wasm': 'application/wasm', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};

export interface StaticFile { readonly body: Buffer; readonly contentType: string }

/** Loads every file under the given folders (later folders override earlier ones) as URL path → file. */
export function loadStatic(dirs: readonly string[]): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const dir of dirs) {
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.name.startsWith('.')) continue;
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) {
          const url = '/' + relative(dir, p).split(sep).join('/');
          files.set(url, { body: readFileSync(p), contentType: TYPES[extname(p).toLowerCase()] ?? 'application/octet-stream' });
        }
      }
    };
    walk(dir);
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}
