import { parentPort, workerData } from 'node:worker_threads';
import { type RunningSandbox, startSandbox } from './index.ts';
import type { SandboxOptions } from './options.ts';
import type { ThreadCall, ThreadReply } from './thread.ts';

/** The sandbox thread's body (started by startSandboxThread): one sandbox, answering calls by id. */
const port = parentPort;
if (port === null) throw new Error('thread-worker.ts runs as a worker thread only');
const post = (reply: ThreadReply) => port.postMessage(reply);
const nameOf = (error: unknown) => (error instanceof Error ? error.name : 'Error');
const messageOf = (error: unknown) => (error instanceof Error ? error.message : 'sandbox failure');

let sandbox: RunningSandbox | undefined;
try {
  sandbox = await startSandbox(workerData as SandboxOptions);
  post({ type: 'ready', url: sandbox.url, apiKey: sandbox.apiKey });
} catch (error) {
  post({ type: 'failed', name: nameOf(error), message: messageOf(error) });
}

port.on('message', async ({ id, op }: ThreadCall) => {
  try {
    if (!sandbox) throw new Error('the sandbox did not start');
    let value: unknown;
    if (op === 'dump') value = await sandbox.dump();
    else if (op === 'stats') value = await sandbox.stats();
    else if (op === 'reset') await sandbox.reset();
    else await sandbox.stop();
    post({ type: 'result', id, value });
    if (op === 'stop') port.close();
  } catch (error) {
    post({ type: 'error', id, name: nameOf(error), message: messageOf(error) });
  }
});
