import { Worker } from 'node:worker_threads';
import type { SandboxDump, SandboxStats } from './engine.ts';
import type { RunningSandbox } from './index.ts';
import { resolveSandboxOptions, type SandboxOptions } from './options.ts';

/** What the sandbox thread answers (see thread-worker.ts). */
export type ThreadReply =
  | { readonly type: 'ready'; readonly url: string; readonly apiKey: string }
  | { readonly type: 'failed'; readonly name: string; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly value?: unknown }
  | { readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string };

/** What the caller asks the sandbox thread. */
export interface ThreadCall {
  readonly id: number;
  readonly op: 'dump' | 'stats' | 'reset' | 'stop';
}

function errorOf(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Starts the sandbox on its own worker thread: the same server and SQLite store as
 * {@link startSandbox}, but its request handling no longer competes with the caller's event loop.
 * A local `ferry run` keeps the embedded S3, DynamoDB and every stage on the main thread; with the
 * sandbox there too, each batch write waited for the loaders' own work and the other core idled —
 * a real Twenty is another process anyway. Options are validated here, so bad ones fail the same way.
 */
export async function startSandboxThread(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  resolveSandboxOptions(opts);
  const worker = new Worker(new URL('./thread-worker.ts', import.meta.url), { workerData: opts });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const failAll = (error: Error) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  const ready = new Promise<{ url: string; apiKey: string }>((resolve, reject) => {
    worker.on('message', (reply: ThreadReply) => {
      if (reply.type === 'ready') resolve({ url: reply.url, apiKey: reply.apiKey });
      else if (reply.type === 'failed') reject(errorOf(reply.name, reply.message));
      else {
        const call = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.type === 'result') call?.resolve(reply.value);
        else call?.reject(errorOf(reply.name, reply.message));
      }
    });
    worker.on('error', (error) => {
      reject(error);
      failAll(error);
    });
    worker.on('exit', () => {
      exited = true;
      const error = new Error('the sandbox thread has stopped');
      reject(error);
      failAll(error);
    });
  });
  let started: { url: string; apiKey: string };
  try {
    started = await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const call = <T>(op: ThreadCall['op']): Promise<T> => {
    if (exited) return Promise.reject(new Error('the sandbox thread has stopped'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, op } satisfies ThreadCall);
    });
  };
  let stopping: Promise<void> | undefined;
  return {
    url: started.url,
    apiKey: started.apiKey,
    stop() {
      stopping ??= (async () => {
        if (!exited) await call<void>('stop');
        await worker.terminate();
      })();
      return stopping;
    },
    dump: () => call<SandboxDump>('dump'),
    stats: () => call<SandboxStats>('stats'),
    reset: () => call<void>('reset'),
  };
}
