import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SandboxDump, SandboxEngine, type SandboxResponse, type SandboxStats } from './engine.ts';
import { resolveSandboxOptions, type SandboxOptions } from './options.ts';

export type { SandboxDump, SandboxRequest, SandboxResponse, SandboxStats } from './engine.ts';
export { SandboxEngine } from './engine.ts';
export type { FaultRule, RateWindow, SandboxMember, SandboxOptions } from './options.ts';
export { parseFaultSpec, parseRate, resolveSandboxOptions, sandboxMembersSchema } from './options.ts';

/** A started sandbox: where it listens, its key, and the inspection hooks tests rely on. */
export interface RunningSandbox {
  readonly url: string;
  readonly apiKey: string;
  stop(): Promise<void>;
  dump(): Promise<SandboxDump>;
  stats(): Promise<SandboxStats>;
  reset(): Promise<void>;
}

/** Extra bytes a multipart upload may carry beyond the file itself (operations, map, boundaries). */
const MULTIPART_OVERHEAD = 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<{ body: Uint8Array; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: tooLarge ? new Uint8Array() : Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

async function send(res: ServerResponse, answer: SandboxResponse): Promise<void> {
  if (answer.delayMs !== undefined) await new Promise((r) => setTimeout(r, answer.delayMs));
  if (answer.reset) {
    res.socket?.destroy();
    return;
  }
  if (answer.raw) {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.raw);
    return;
  }
  const payload = JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/**
 * Starts the Twenty sandbox on 127.0.0.1 (random port by default). Used in-process by tests and
 * benchmarks and by `ferry sandbox`; `stop()` closes the listener, its sockets and the database.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const options = resolveSandboxOptions(opts);
  const engine = new SandboxEngine(options);
  const server = createServer((req, res) => {
    const isMultipart = (req.headers['content-type'] ?? '').startsWith('multipart/form-data');
    const limit = isMultipart ? options.maxUploadBytes + MULTIPART_OVERHEAD : options.maxBodyBytes;
    readBody(req, limit)
      .then(async ({ body, tooLarge }) => {
        const headers: Record<string, string | undefined> = {};
        for (const [key, value] of Object.entries(req.headers))
          headers[key] = Array.isArray(value) ? value.join(', ') : value;
        const answer = await engine.handle({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers,
          body,
          bodyTooLarge: tooLarge,
          origin: `http://${req.headers.host ?? `${options.host}`}`,
        });
        await send(res, answer);
      })
      .catch(() => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              statusCode: 500,
              error: 'InternalServerErrorException',
              messages: ['Internal server error'],
            }),
          );
        }
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped = false;
  return {
    url: `http://${host}:${address.port}`,
    apiKey: options.apiKey,
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      engine.close();
    },
    dump: async () => engine.dump(),
    stats: async () => engine.stats(),
    reset: async () => engine.reset(),
  };
}
