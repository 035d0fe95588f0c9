// The errors of the model package: a bad or missing model file (`ModelFileError`) and a registry that cannot do what
// was asked (`RegistryError`). Both are "expected" errors: the CLI prints their message as one line, no stack.
// Not here: formatting or exit codes (src/cli/), or the checks themselves.

/** A model file that is missing, malformed or inconsistent. The message is `<file>: <detail>` unless overridden. */
export class ModelFileError extends Error {
  constructor(readonly file: string, readonly detail: string, message = `${file}: ${detail}`) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** A registry operation that cannot proceed: unknown or ambiguous version, dangling `current`, bad metrics. */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}
