import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import type { RunningSandbox } from '../../../lib/sandbox/index.ts';
import { startSandboxThread } from '../../../lib/sandbox/thread.ts';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('startSandboxThread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sandbox-thread-'));
  const started: RunningSandbox[] = [];
  afterAll(async () => {
    for (const sandbox of started) await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the same API from its own thread, with dump, stats and reset', async () => {
    const sb = await startSandboxThread({ dataDir: join(dir, 'a'), rateShort: null, rateLong: null });
    started.push(sb);
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${sb.url}/rest/batch/people?upsert=true&depth=0`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ id: id(1), name: { firstName: 'Ada', lastName: 'Example' } }]),
    });
    expect(res.status).toBe(201);
    const dump = await sb.dump();
    expect(dump.records.person?.map((r) => r.id)).toEqual([id(1)]);
    const stats = await sb.stats();
    expect(stats.totalRequests).toBe(1);
    expect(stats.records.person?.active).toBe(1);
    await sb.reset();
    expect((await sb.dump()).records.person ?? []).toEqual([]);
  });

  it('stops idempotently and refuses calls afterwards', async () => {
    const sb = await startSandboxThread({ rateShort: null, rateLong: null });
    await sb.stop();
    await sb.stop();
    await expect(sb.stats()).rejects.toThrow('stopped');
    await expect(fetch(`${sb.url}/rest/people`)).rejects.toThrow();
  });

  it('fails to start with the error the sandbox raised, naming the rule', async () => {
    const dataDir = join(dir, 'flavor');
    const v2 = await startSandboxThread({ dataDir, flavor: 'v2', rateShort: null, rateLong: null });
    await v2.stop();
    await expect(startSandboxThread({ dataDir, flavor: 'v1' })).rejects.toThrow('same flavor');
    await expect(startSandboxThread({ batchMax: 0 })).rejects.toBeInstanceOf(ConfigError);
  });
});
