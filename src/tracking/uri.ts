// Reads a tracking URI the way MLflow does for the two stores this module implements: nothing, a path or a
// file: URI is a file store (relative paths against the working directory), http(s):// is a tracking server.
// The caller passes the URI (the CLI reads MLFLOW_TRACKING_URI); nothing here reads the environment.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type TrackingTarget =
  | { readonly kind: 'file'; readonly root: string }
  | { readonly kind: 'rest'; readonly baseUrl: string };

export function resolveTrackingUri(uri: string | undefined, cwd: string = process.cwd()): TrackingTarget {
  const text = (uri ?? '').trim();
  if (text === '') return { kind: 'file', root: resolve(cwd, 'mlruns') };
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`tracking URI ${JSON.stringify(text)} is not a valid URL`);
    }
    if (url.search !== '' || url.hash !== '') {
      throw new Error(`tracking URI ${JSON.stringify(text)}: a query or fragment is not supported`);
    }
    return { kind: 'rest', baseUrl: url.href.replace(/\/+$/, '') };
  }
  if (/^file:/i.test(text)) {
    // file:///abs/path (or file://localhost/abs/path) is a URL; MLflow also takes file:relative/path.
    if (/^file:\/\//i.test(text)) {
      try {
        return { kind: 'file', root: fileURLToPath(text) };
      } catch (err) {
        throw new Error(`tracking URI ${JSON.stringify(text)}: ${(err as Error).message}`, { cause: err });
      }
    }
    return { kind: 'file', root: resolve(cwd, decodeURIComponent(text.slice('file:'.length))) };
  }
  // A scheme of two or more letters (databricks:, sqlite:, postgresql:…); one letter is a Windows drive.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(text);
  if (scheme !== null) {
    throw new Error(
      `tracking URI scheme "${scheme[1]}:" is not supported: use a path or file:// URI (MLflow file store) ` +
        'or an http(s):// MLflow tracking server',
    );
  }
  return { kind: 'file', root: resolve(cwd, text) };
}
