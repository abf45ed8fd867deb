import { describe, expect, it } from 'vitest';
import { ChunkManifestSchema } from '../../../lambdas/core/inventory/manifest.ts';
import { inventory } from '../../../lambdas/tasks/inventory/inventory.ts';
import { SegmentInputSchema, SegmentOutputSchema } from '../../../lambdas/tasks/segment/schema.ts';
import { segment } from '../../../lambdas/tasks/segment/segment.ts';
import { expectRowsConserved, makeDeps } from '../inventory/harness.ts';

const runId = 'run-7';
const folder = 'drop/clinic/';

async function inventoryThenSegment(files: Record<string, string | Uint8Array>, chunkSize = 2) {
  const deps = makeDeps(files);
  const planned = await inventory({ runId, folder }, deps);
  const segmented = await segment({ runId, planKey: planned.planKey, chunkSize }, deps);
  return { deps, planned, segmented };
}

function lines(n: number, eol = '\n'): string {
  return Array.from({ length: n }, (_, i) => `${i + 1},name-${i + 1},"note, ${i + 1}"`).join(eol) + eol;
}

/** Every bad input of the issue, each built here; the row invariant must hold for all of them. */
const badInputs: Record<string, Record<string, string | Uint8Array>> = {
  'an empty file': { 'drop/clinic/empty.csv': '', 'drop/clinic/ok.csv': 'a\n1\n' },
  'a header-only file': { 'drop/clinic/h.csv': 'id,name,note\r\n' },
  'an unterminated quote': { 'drop/clinic/q.csv': `id,name,note\n${lines(3)}4,"open,x\n${lines(2)}` },
  'ragged rows': { 'drop/clinic/r.csv': `id,name,note\n1,2\n${lines(3)}5,6,7,8\n` },
  'a UTF-8 BOM': { 'drop/clinic/b.csv': `\ufeffid,name,note\n${lines(5)}` },
  CRLF: { 'drop/clinic/c.csv': `id,name,note\r\n${lines(5, '\r\n')}` },
  'non-UTF-8 bytes in a UTF-8 file': {
    'drop/clinic/n.csv': Buffer.concat([
      Buffer.from('id,name,note\n1,José,a\n2,Zoë,b\n3,Renée,c\n'),
      Buffer.from([0x34, 0x2c, 0xff, 0xfe, 0x2c, 0x64, 0x0a]),
      Buffer.from('5,Chloë,e\n'),
    ]),
  },
  'a Windows-1252 file': {
    'drop/clinic/w.csv': Buffer.from('id,name,note\n1,Jos\u00e9,a\n2,M\u00fcller,b\n', 'latin1'),
  },
  'UTF-16 LE with BOM': {
    'drop/clinic/u.csv': Buffer.from(`\ufeffid,name,note\r\n${lines(3, '\r\n')}`, 'utf16le'),
  },
  'blank lines and a missing final line break': {
    'drop/clinic/e.csv': `\nid,name,note\n\n${lines(3)}\n\n9,x,y`,
  },
};

describe('segment', () => {
  it('writes chunks of at most chunkSize rows with source lines and raw cells, and a manifest', async () => {
    const { deps, segmented } = await inventoryThenSegment({
      'drop/clinic/p.csv': `id,name,note\n${lines(5)}`,
    });
    expect(SegmentOutputSchema.parse(segmented)).toEqual({
      runId,
      manifestKey: 'runs/run-7/chunks/manifest.json',
      chunks: 3,
      rows: 5,
      rejects: 0,
    });
    const first = await deps.work.getText('runs/run-7/chunks/p/00001.ndjson');
    expect(first.split('\n')[0]).toBe('{"line":2,"cells":{"id":"1","name":"name-1","note":"note, 1"}}');
    const manifest = ChunkManifestSchema.parse(JSON.parse(await deps.work.getText(segmented.manifestKey)));
    expect(manifest.files[0]?.chunks.map((c) => [c.key, c.rows, c.firstLine, c.lastLine])).toEqual([
      ['runs/run-7/chunks/p/00001.ndjson', 2, 2, 3],
      ['runs/run-7/chunks/p/00002.ndjson', 2, 4, 5],
      ['runs/run-7/chunks/p/00003.ndjson', 1, 6, 6],
    ]);
    expect(manifest.totals).toEqual({ rows: 5, rejected: 0, chunks: 3 });
  });

  for (const [name, files] of Object.entries(badInputs)) {
    it(`conserves every row (chunks + rejects = inventory rows) for ${name}`, async () => {
      const { deps, planned, segmented } = await inventoryThenSegment(files);
      expect(segmented.rows + segmented.rejects).toBe(planned.rows);
      await expectRowsConserved(deps.work, runId);
    });
  }

  it('writes rejects with file, line, reason and rule, never the value', async () => {
    const { deps } = await inventoryThenSegment({
      'drop/clinic/r.csv': 'id,name,note\n1,CANARY-VALUE\n2,b,c\n',
    });
    const rejects = await deps.work.getText('runs/run-7/rejects/segment.ndjson');
    expect(rejects).toBe(
      '{"file":"r.csv","line":2,"reason":"MALFORMED_ROW","detail":"row has 2 cells but the header has 3"}\n',
    );
  });

  it('rejects an invalid-byte row as ENCODING_ERROR and keeps decoded values of the others', async () => {
    const { deps } = await inventoryThenSegment(badInputs['non-UTF-8 bytes in a UTF-8 file'] ?? {}, 10);
    const rejects = await deps.work.getText('runs/run-7/rejects/segment.ndjson');
    expect(JSON.parse(rejects.trim())).toMatchObject({ file: 'n.csv', line: 5, reason: 'ENCODING_ERROR' });
    const chunk = await deps.work.getText('runs/run-7/chunks/n/00001.ndjson');
    expect(chunk).toContain('"name":"Chloë"');
  });

  it('decodes Windows-1252 and UTF-16 values into UTF-8 chunks', async () => {
    const { deps } = await inventoryThenSegment({
      ...badInputs['a Windows-1252 file'],
      ...badInputs['UTF-16 LE with BOM'],
    });
    expect(await deps.work.getText('runs/run-7/chunks/w/00001.ndjson')).toContain('"name":"José"');
    expect(await deps.work.getText('runs/run-7/chunks/u/00001.ndjson')).toContain('"id":"1"');
  });

  it('refuses a source file that changed after Inventory', async () => {
    const deps = makeDeps({ 'drop/clinic/p.csv': 'a\n1\n' });
    const planned = await inventory({ runId, folder }, deps);
    await deps.drop.put('drop/clinic/p.csv', 'a\n2\n');
    await expect(segment({ runId, planKey: planned.planKey }, deps)).rejects.toMatchObject({
      name: 'ValidationError',
      code: 'SOURCE_CHANGED',
    });
  });

  it('refuses a plan of another run, a plan with errors, and an invalid plan', async () => {
    const deps = makeDeps({ 'drop/clinic/p.csv': 'a\n1\n' });
    const planned = await inventory({ runId, folder }, deps);
    await expect(segment({ runId: 'other', planKey: planned.planKey }, deps)).rejects.toThrow(/another run/);
    const plan = JSON.parse(await deps.work.getText(planned.planKey));
    plan.errors = [{ code: 'BINARY_FILE', file: 'x.csv', message: 'x' }];
    await deps.work.put(planned.planKey, JSON.stringify(plan));
    await expect(segment({ runId, planKey: planned.planKey }, deps)).rejects.toThrow(/unreadable file/);
    await deps.work.put(planned.planKey, '{"version":2}');
    await expect(segment({ runId, planKey: planned.planKey }, deps)).rejects.toThrow(
      /plan runs\/run-7\/plan.json is invalid/,
    );
  });

  it('streams many rejects through backpressure without losing any', async () => {
    const body = `a,b\n${Array.from({ length: 3000 }, (_, i) => `${i}`).join('\n')}\n1,2\n`;
    const { deps, segmented } = await inventoryThenSegment({ 'drop/clinic/bad.csv': body }, 5000);
    expect(segmented).toMatchObject({ rows: 1, rejects: 3000 });
    await expectRowsConserved(deps.work, runId);
  });
});

describe('SegmentInputSchema', () => {
  it('defaults chunkSize to 5000 and caps it at 20000', () => {
    expect(SegmentInputSchema.parse({ runId: 'r', planKey: 'k' }).chunkSize).toBe(5000);
    expect(SegmentInputSchema.safeParse({ runId: 'r', planKey: 'k', chunkSize: 20_001 }).success).toBe(false);
    expect(SegmentInputSchema.safeParse({ runId: 'r', planKey: 'k', chunkSize: 0 }).success).toBe(false);
  });
});
