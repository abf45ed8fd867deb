import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

/** The embedded DynamoDB thread's body (started by startEmbeddedDynamo): one dynalite server. */
export interface DynamoThreadOptions {
  readonly path?: string;
}

/** What the thread reports to its parent. */
export type DynamoThreadReply =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly name: string; readonly message: string }
  | { readonly type: 'stopped' };

type DynaliteFactory = (options: { path?: string; createTableMs?: number; deleteTableMs?: number }) => Server;

const port = parentPort;
if (port === null) throw new Error('dynamo-thread-worker.ts runs as a worker thread only');
const post = (reply: DynamoThreadReply) => port.postMessage(reply);

const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;
const options = workerData as DynamoThreadOptions;
const server = dynalite({
  ...(options.path === undefined ? {} : { path: options.path }),
  createTableMs: 0,
  deleteTableMs: 0,
});
server.once('error', (error) => post({ type: 'failed', name: error.name, message: error.message }));
server.listen(0, '127.0.0.1', () => post({ type: 'ready', port: (server.address() as AddressInfo).port }));

port.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  server.close(() => {
    post({ type: 'stopped' });
    port.close();
  });
  server.closeAllConnections();
});
