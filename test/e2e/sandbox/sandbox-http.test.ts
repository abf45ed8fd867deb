import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';

const auth = (sb: RunningSandbox) => ({ authorization: `Bearer ${sb.apiKey}` });
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function multipart(
  query: string,
  variables: Record<string, unknown>,
  bytes: Uint8Array,
  name: string,
): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
  form.append('map', JSON.stringify({ '0': ['variables.file'] }));
  form.append('0', new Blob([bytes], { type: 'application/pdf' }), name);
  return form;
}

describe('sandbox over HTTP (v2)', () => {
  let sb: RunningSandbox;
  beforeAll(async () => {
    sb = await startSandbox({ rateShort: null, rateLong: null, maxUploadBytes: 1024 });
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('binds to 127.0.0.1', () => {
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers 403 Forbidden resource without or with a wrong key', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      const res = await fetch(`${sb.url}/rest/people`, { headers });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        messages: ['Forbidden resource'],
      });
    }
  });

  it('answers malformed JSON with 400 and an oversized body with 413, then keeps serving', async () => {
    const headers = { ...auth(sb), 'content-type': 'application/json' };
    const bad = await fetch(`${sb.url}/rest/people`, { method: 'POST', headers, body: '{"name": ' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: 400, error: 'BadRequestException' });
    const huge = await fetch(`${sb.url}/rest/batch/people`, {
      method: 'POST',
      headers,
      body: JSON.stringify([{ jobTitle: 'x'.repeat(11 * 1024 * 1024) }]),
    });
    expect(huge.status).toBe(413);
    const wrongType = await fetch(`${sb.url}/rest/batch/people`, {
      method: 'POST',
      headers,
      body: '{"not":"an array"}',
    });
    expect(wrongType.status).toBe(400);
    expect((await fetch(`${sb.url}/rest/people`, { headers })).status).toBe(200);
  });

  it('uploads a file through GraphQL multipart, serves it back and hashes it in the dump', async () => {
    const objects = (await (
      await fetch(`${sb.url}/rest/metadata/objects`, { headers: auth(sb) })
    ).json()) as {
      data: Array<{ nameSingular: string; fields: Array<{ name: string; id: string }> }>;
    };
    const attachment = objects.data.find((o: { nameSingular: string }) => o.nameSingular === 'attachment');
    const fileField = attachment!.fields.find((f: { name: string }) => f.name === 'file');
    const bytes = new TextEncoder().encode('%PDF-synthetic x-ray report');
    const res = await fetch(`${sb.url}/graphql`, {
      method: 'POST',
      headers: auth(sb),
      body: multipart(
        'mutation UploadFilesFieldFile($file: Upload!, $fieldMetadataId: String!) { uploadFilesFieldFile(file: $file, fieldMetadataId: $fieldMetadataId) { id path url } }',
        { fieldMetadataId: fileField!.id },
        bytes,
        'xray.pdf',
      ),
    });
    expect(res.status).toBe(200);
    const uploaded = ((await res.json()) as { data: { uploadFilesFieldFile: { id: string; path: string } } })
      .data.uploadFilesFieldFile;
    expect(uploaded.path).toMatch(/\.pdf$/);
    const back = await fetch(`${sb.url}/files/${uploaded.path}`, { headers: auth(sb) });
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(bytes);
    const created = await fetch(`${sb.url}/rest/attachments`, {
      method: 'POST',
      headers: { ...auth(sb), 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'xray.pdf',
        file: [{ fileId: uploaded.id, label: 'xray.pdf' }],
        fullPath: uploaded.path,
      }),
    });
    expect(created.status).toBe(201);
    const dump = await sb.dump();
    expect(dump.files.find((f) => f.id === uploaded.id)?.sha256).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    expect(dump.records.attachment).toHaveLength(1);
  });

  it('refuses an upload above maxUploadBytes with a GraphQL 413', async () => {
    const res = await fetch(`${sb.url}/graphql`, {
      method: 'POST',
      headers: auth(sb),
      body: multipart(
        'mutation($file: Upload!, $fieldMetadataId: String!) { uploadFilesFieldFile(file: $file, fieldMetadataId: $fieldMetadataId) { id } }',
        { fieldMetadataId: id(1) },
        new Uint8Array(4096),
        'big.pdf',
      ),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(
      /exceeds the 1024 byte size limit/,
    );
  });

  it('counts requests by route and status and resets to a fresh workspace', async () => {
    const stats = await sb.stats();
    expect(stats.requests['GET /rest/:plural']?.['403']).toBe(2);
    expect(stats.requests['POST /rest/batch/:plural']?.['413']).toBe(1);
    const reset = await fetch(`${sb.url}/__sandbox/reset`, { method: 'POST', headers: auth(sb) });
    expect(reset.status).toBe(200);
    expect((await sb.dump()).records.attachment).toHaveLength(0);
  });
});

describe('sandbox over HTTP (faults, v1, persistence)', () => {
  it('drops the connection on a reset fault', async () => {
    const sb = await startSandbox({ faults: 'reset:1', rateShort: null, rateLong: null });
    try {
      await expect(fetch(`${sb.url}/rest/people`, { headers: auth(sb) })).rejects.toThrow();
    } finally {
      await sb.stop();
    }
  });

  it('answers v1 uploads with a path and v1 rate limits without headers', async () => {
    const sb = await startSandbox({
      flavor: 'v1',
      rateShort: { limit: 2, windowMs: 60_000 },
      rateLong: null,
    });
    try {
      const res = await fetch(`${sb.url}/graphql`, {
        method: 'POST',
        headers: auth(sb),
        body: multipart(
          'mutation UploadFile($file: Upload!, $fileFolder: FileFolder) { uploadFile(file: $file, fileFolder: $fileFolder) }',
          { fileFolder: 'Attachment' },
          new Uint8Array([1, 2, 3]),
          'a.pdf',
        ),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { uploadFile: string } }).data.uploadFile).toMatch(
        /^attachment\/.+\.pdf$/,
      );
      await fetch(`${sb.url}/rest/people`, { headers: auth(sb) });
      const limited = await fetch(`${sb.url}/rest/people`, { headers: auth(sb) });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBeNull();
    } finally {
      await sb.stop();
    }
  });

  it('keeps records and custom objects across a restart when given a data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-sandbox-'));
    try {
      const first = await startSandbox({ dataDir: dir, rateShort: null, rateLong: null });
      const headers = { ...auth(first), 'content-type': 'application/json' };
      await fetch(`${first.url}/rest/metadata/objects`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          nameSingular: 'claim',
          namePlural: 'claims',
          labelSingular: 'Claim',
          labelPlural: 'Claims',
        }),
      });
      await fetch(`${first.url}/rest/claims`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id: id(7), name: 'C' }),
      });
      await first.stop();
      const second = await startSandbox({ dataDir: dir, rateShort: null, rateLong: null });
      const res = await fetch(`${second.url}/rest/claims/${id(7)}`, { headers: auth(second) });
      expect(res.status).toBe(200);
      await second.stop();
      await expect(startSandbox({ dataDir: dir, flavor: 'v1' })).rejects.toThrow(/flavor/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ferry sandbox command', () => {
  it('prints URL and key, serves, and stops cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'run-sandbox-command.ts'),
        'sandbox',
        '--memory',
        '--api-key',
        'k-test',
        '--flavor',
        'v1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !out.includes('API key'); i += 1) await new Promise((r) => setTimeout(r, 50));
    const url = /URL:\s+(\S+)/.exec(out)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect(out).toContain('k-test');
    const res = await fetch(`${url}/rest/metadata/objects`, { headers: { authorization: 'Bearer k-test' } });
    expect(res.status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
  });
});
