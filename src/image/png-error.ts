// PngError: the one error type of the PNG boundary. Every rejection of the input (bad structure, CRC, limits, zlib,
// filters) is a PngError whose message says what is wrong, ready for an HTTP 400 body; bugs stay other errors.
// Not here: HTTP status mapping (the server does that).

export class PngError extends Error {
  override readonly name = 'PngError';
}
