// Model version ids: `<UTC yyyymmdd-hhmmss>-<first 12 hex of the content hash>`, e.g. `20250107-093015-3fa9c0d2e1b4`.
// Time-ordered (plain `ls` and string sort give oldest → newest) and content-addressed (the suffix names the weights).
// Not here: where versions live or which one is current (registry.ts).

export const VERSION_ID_PATTERN = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-([0-9a-f]{12})$/;
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

/** The version id of weights with `contentHash` (sha256 hex) registered at `createdAt`. */
export function makeVersionId(createdAt: Date, contentHash: string): string {
  if (!SHA256_HEX_PATTERN.test(contentHash)) throw new RangeError(`content hash must be 64 lowercase hex digits, got "${contentHash}"`);
  const year = createdAt.getUTCFullYear();
  if (!Number.isFinite(createdAt.getTime()) || year < 0 || year > 9999) throw new RangeError(`invalid creation date ${String(createdAt)}`);
  const p = (n: number, width = 2): string => String(n).padStart(width, '0');
  const date = `${p(year, 4)}${p(createdAt.getUTCMonth() + 1)}${p(createdAt.getUTCDate())}`;
  const time = `${p(createdAt.getUTCHours())}${p(createdAt.getUTCMinutes())}${p(createdAt.getUTCSeconds())}`;
  return `${date}-${time}-${contentHash.slice(0, 12)}`;
}

export function isVersionId(s: string): boolean {
  return VERSION_ID_PATTERN.test(s);
}

/** The registration time encoded in a version id, as ISO-8601 UTC to the second (`2025-01-07T09:30:15Z`). */
export function versionCreatedAt(id: string): string {
  const m = VERSION_ID_PATTERN.exec(id);
  if (!m) throw new RangeError(`not a version id: "${id}"`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}
