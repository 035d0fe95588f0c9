// The trainer's data, from either home: an IDX folder (`npm run data`'s mnist/, loadMnist) or a Parquet dataset
// written by the Spark job (`parquet:<dir>`, loadParquetDataset). The one place that reads a `--data` value.

import { DataError } from './errors.js';
import { loadMnist, type MnistData } from './mnist.js';
import { loadParquetDataset, parquetDir, type ParquetDatasetInfo } from './parquet.js';

export interface TrainingData extends MnistData {
  /** Set when the data came from a Parquet dataset. */
  readonly dataset?: ParquetDatasetInfo;
}

/** `spec`: an IDX folder, or `parquet:<dir>`; `include`: extra Parquet sources (e.g. feedback). Throws DataError. */
export async function loadTrainingData(spec: string, include: readonly string[] = []): Promise<TrainingData> {
  const dir = parquetDir(spec);
  if (dir === undefined) {
    if (include.length > 0) throw new DataError(spec, `--include ${include.join(',')} needs a Parquet dataset (--data parquet:<dir>); ${spec} is an IDX folder`);
    return loadMnist(spec);
  }
  if (dir === '') throw new DataError(spec, '--data parquet: needs a folder (e.g. parquet:data/parquet)');
  return loadParquetDataset(dir, { include });
}
