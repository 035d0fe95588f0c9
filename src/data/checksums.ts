// The four MNIST files as pinned facts: name, split, IDX magic, example count, raw size and the SHA-256 of the raw
// (uncompressed) bytes. Every copy we accept must match these exactly, so any two valid copies are byte-identical.
// Sizes follow from the IDX layout: 16 + count·28·28 for images, 8 + count for labels.
// Not here: reading or checking files (validate.ts does that).

export type MnistSplitName = 'train' | 'test';
export type MnistFileKind = 'images' | 'labels';

export interface MnistFileSpec {
  readonly name: string;
  readonly split: MnistSplitName;
  readonly kind: MnistFileKind;
  /** The first four bytes as a big-endian u32: 0x00000803 (ubyte, 3 dims) or 0x00000801 (ubyte, 1 dim). */
  readonly magic: number;
  readonly count: number;
  readonly size: number;
  readonly sha256: string;
}

export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;

/** In ingestion order: each split's images, then its labels. */
export const MNIST_FILES: readonly MnistFileSpec[] = [
  { name: 'train-images-idx3-ubyte', split: 'train', kind: 'images', magic: 0x00000803, count: 60000, size: 47040016,
    sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' },
  { name: 'train-labels-idx1-ubyte', split: 'train', kind: 'labels', magic: 0x00000801, count: 60000, size: 60008,
    sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' },
  { name: 't10k-images-idx3-ubyte', split: 'test', kind: 'images', magic: 0x00000803, count: 10000, size: 7840016,
    sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
  { name: 't10k-labels-idx1-ubyte', split: 'test', kind: 'labels', magic: 0x00000801, count: 10000, size: 10008,
    sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
];

/** File name → SHA-256 (hex) of its raw bytes. */
export const MNIST_CHECKSUMS: Readonly<Record<string, string>> =
  Object.freeze(Object.fromEntries(MNIST_FILES.map((f) => [f.name, f.sha256])));
