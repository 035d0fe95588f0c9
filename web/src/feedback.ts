// POST /feedback: the user's correction of a wrong guess, with the strokes and the normalised 28×28 the model saw.
// Answers 200 {"stored": true, "id"} or 4xx {"error"}; this returns the id or throws an Error with a readable message.

export interface Feedback {
  label: number;
  strokes: Array<Array<[number, number]>>;
  width: number;
  height: number;
  brush: number;
  image: number[];
  predicted: number | null;
  model: string;
}

export async function sendFeedback(f: Feedback, timeoutMs = 10_000): Promise<string> {
  let r: Response;
  try {
    r = await fetch('/feedback', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new Error('Could not send the correction: the server did not answer');
  }
  let body: { stored?: boolean; id?: string; error?: string } = {};
  try {
    body = await r.json() as typeof body;
  } catch {
    // a non-JSON answer (e.g. a proxy's error page): reported by status below
  }
  if (!r.ok || body.stored !== true) throw new Error(`Correction not saved: ${body.error ?? `HTTP ${r.status}`}`);
  return body.id ?? '';
}
