import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../lambdas/ports/clock.ts';

/** What a scripted route answers: a response, a dropped connection, or a stall past the timeout. */
export type FakeReply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'reset'
  | { stallMs: number; status: number; body?: unknown };

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  raw: Buffer;
}

export type FakeHandler = (request: FakeRequest, index: number) => FakeReply | Promise<FakeReply>;

/**
 * A scripted Twenty double on 127.0.0.1 for the client's failure-handling tests: each test says what
 * every request gets, and reads back what the client sent.
 */
export async function startFakeTwenty(handler: FakeHandler) {
  const requests: FakeRequest[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown;
    try {
      body =
        raw.length > 0 && String(req.headers['content-type']).includes('json')
          ? JSON.parse(String(raw))
          : undefined;
    } catch {
      body = undefined;
    }
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      raw,
    };
    requests.push(request);
    const reply = await handler(request, requests.length - 1);
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    if ('stallMs' in reply) await new Promise((resolve) => setTimeout(resolve, reply.stallMs));
    if (res.destroyed) return;
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      ...('headers' in reply ? reply.headers : {}),
    });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A clock whose sleeps return at once and are recorded, so backoff is asserted, not waited. */
export function fakeClock(): Clock & { sleeps: number[] } {
  let now = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
