// DataError: the one error type of the data boundary (ingestion and loading). Its message names the file and says
// what is wrong with it, ready to print as is; `file` carries the path for callers that want it separately.
// IDX parse errors (idx.ts) are rethrown as DataError with the same text, so callers catch one type.

import { IdxError } from './idx.js';

export class DataError extends Error {
  override readonly name = 'DataError';

  /** `message` is the full text; use `DataError.at` for the usual "<file>: <problem>" form. */
  constructor(readonly file: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }

  /** "<file>: <problem>". */
  static at(file: string, problem: string, cause?: unknown): DataError {
    return new DataError(file, `${file}: ${problem}`, cause === undefined ? undefined : { cause });
  }

  /** The same error as a DataError if it is an IdxError; anything else is returned unchanged. */
  static fromIdx(err: unknown): unknown {
    return err instanceof IdxError ? DataError.at(err.file, err.problem, err) : err;
  }
}
