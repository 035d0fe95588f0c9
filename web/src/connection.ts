// A WebSocket to the server's /ws that reconnects by itself with exponential backoff (250 ms doubling to 5 s, reset
// once a connection opens). It knows nothing about drawings: on every (re)open it calls `onOpen`, which resends the
// whole session (hello + every stroke), so a prediction simply continues after a server restart.
// Not here: message validation (the server's), rendering.

import type { ClientMessage, ServerMessage } from '../../src/protocol.js';

export interface ConnectionEvents {
  onOpen(): void;
  onMessage(m: ServerMessage): void;
  /** The connection dropped (or could not be made); a retry is scheduled after `retryMs`. */
  onLost(retryMs: number): void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

export class Connection {
  private ws: WebSocket | undefined;
  private retryMs = FIRST_RETRY_MS;

  constructor(private readonly url: string, private readonly events: ConnectionEvents) {}

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = FIRST_RETRY_MS;
      this.events.onOpen();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') return;
      let m: ServerMessage;
      try {
        m = JSON.parse(e.data) as ServerMessage;
      } catch {
        return; // the server only sends JSON; a broken frame is not worth surfacing
      }
      this.events.onMessage(m);
    };
    // onerror is always followed by onclose: retry from there only.
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      const wait = this.retryMs;
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      this.events.onLost(wait);
      setTimeout(() => this.connect(), wait);
    };
  }

  /** Sends when open; otherwise drops the message (the next open resends the whole drawing). Returns whether sent. */
  send(m: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }
}
