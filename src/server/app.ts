// The HTTP + WebSocket server on uWebSockets.js, wired from one module per transport: POST /predict
// (predict-route.ts), POST /feedback (feedback-route.ts), the Open Inference Protocol v2 (inference-protocol.ts), live
// strokes on /ws (ws-sessions.ts), /metrics (metrics-route.ts), and the web client's files with the 404/405 fallbacks
// (static-routes.ts), all on one inference pipeline per thread (src/inference/). Every HTTP handler runs in the frame
// of routes.ts. Not here: process lifecycle (cli/serve.ts, serve.ts), the model's lifecycle (model-holder.ts).

import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { loadUws, type UwsModule } from './uws.js';
import { HotMetrics } from './hot-metrics.js';
import { Routes, type RouteContext } from './routes.js';
import { predictRoute } from './predict-route.js';
import { feedbackRoute } from './feedback-route.js';
import { inferenceProtocolRoutes } from './inference-protocol.js';
import { metricsRoute, type MetricsText } from './metrics-route.js';
import { staticRoutes } from './static-routes.js';
import { wsSessions } from './ws-sessions.js';
import type { ModelHolder } from './model-holder.js';
import type { ServerMetrics } from '../metrics/metrics.js';
import { InferencePipeline } from '../inference/index.js';
import { LIMITS } from '../protocol.js';

export { MODEL_NAME } from './inference-protocol.js';
export { WS_HARD_CAP_BYTES } from './ws-sessions.js';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly holder: ModelHolder;
  readonly metrics: ServerMetrics;
  /** Folders of static files for the web client (later ones override earlier ones). */
  readonly staticDirs: readonly string[];
  /** Where corrections (POST /feedback) are stored; without it the endpoint answers 503. */
  readonly feedbackDir?: string | undefined;
  /** Replaces the /metrics body (e.g. the aggregate of several workers). */
  readonly metricsText?: MetricsText;
  /** Open WebSocket drawers on this thread (default LIMITS.maxDrawers); 503 beyond. */
  readonly maxDrawers?: number | undefined;
  /** Memory all live drawings of this thread may hold, bytes (default LIMITS.drawingMemoryBytes). */
  readonly drawingMemoryBytes?: number | undefined;
}

export interface RunningServer {
  readonly port: number;
  /** Stops accepting, closes every WebSocket (1001 going away) and resolves when done. */
  close(): Promise<void>;
  /** Closes the listen socket and every connection at once, synchronously: for a thread that is exiting now, whose
   * event loop will not turn again (uWS's sockets left open there make Node abort the whole process). */
  closeNow(): void;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const uws: UwsModule = loadUws();
  const app: TemplatedApp = uws.App();
  const hot = new HotMetrics(o.metrics);
  const pipeline = await InferencePipeline.create(hot);
  const ctx: RouteContext = { app, holder: o.holder, metrics: o.metrics, hot, pipeline, http: new Routes(app, o.holder, o.metrics, hot) };
  predictRoute(ctx);
  feedbackRoute(ctx, o.feedbackDir);
  inferenceProtocolRoutes(ctx);
  metricsRoute(ctx, o.metricsText);
  const ws = wsSessions(ctx, { maxDrawers: o.maxDrawers ?? LIMITS.maxDrawers, drawingMemoryBytes: o.drawingMemoryBytes ?? LIMITS.drawingMemoryBytes });
  staticRoutes(ctx, o.staticDirs); // last: the catch-all

  return new Promise((resolve, reject) => {
    app.listen(o.host, o.port, (listen: us_listen_socket | false) => {
      if (!listen) {
        reject(new Error(`cannot listen on ${o.host}:${o.port} (in use, or not allowed) → pick another with PORT=… or --port`));
        return;
      }
      const port = uws.us_socket_local_port(listen as unknown as Parameters<UwsModule['us_socket_local_port']>[0]);
      // Each step once: closing a uWS listen socket or app twice is a use-after-free (the process dies with SIGSEGV).
      let listening = true, open = true;
      const stopListening = (): void => { if (listening) uws.us_listen_socket_close(listen); listening = false; };
      const closeApp = (): void => { if (open) (app as unknown as { close(): void }).close(); open = false; }; // not in this d.ts
      resolve({
        port,
        close: async () => {
          stopListening();
          ws.closeAll();
          // Work in flight is synchronous, so nothing is left to finish. Give the close frames a moment to flush,
          // then drop idle keep-alive HTTP connections too: otherwise they keep answering and hold the port and the
          // process open.
          await new Promise((resolve) => setTimeout(resolve, 50));
          closeApp();
        },
        closeNow: () => {
          stopListening();
          closeApp();
        },
      });
    });
  });
}
