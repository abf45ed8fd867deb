import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { profileEncoding } from '../../../lambdas/core/csv/encoding.ts';
import { type CsvReject, type ReadCsvOptions, readCsv } from '../../../lambdas/core/csv/reader.ts';
import { sniffDelimiter } from '../../../lambdas/core/csv/sniff.ts';
import { ValidationError } from '../../../lambdas/core/errors.ts';

/** Splits bytes into fixed-size parts so every chunk boundary (mid-CRLF, mid-quote, mid-UTF-8) is exercised. */
function streamOf(bytes: Buffer, partSize = bytes.length || 1): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += partSize) parts.push(bytes.subarray(i, i + partSize));
  return Readable.from(parts);
}

async function read(bytes: Buffer, options: Partial<ReadCsvOptions> = {}, partSize?: number) {
  const rows: Array<{ line: number; cells: string[] }> = [];
  const rejects: CsvReject[] = [];
  const result = await readCsv(
    streamOf(bytes, partSize),
    { file: 'test.csv', encoding: 'utf-8', sniffBytes: 16, ...options },
    {
      row: (row) => rows.push({ line: row.line, cells: row.cells() }),
      reject: (reject) => rejects.push(reject),
    },
  );
  return { rows, rejects, result };
}

describe('readCsv', () => {
  it('reads quoted fields with delimiters, escaped quotes and embedded line breaks', async () => {
    const { rows, result } = await read(
      Buffer.from('id,name,note\n1,"Doe, Jane","said ""hi""\nnext line"\n2,Roe,\n'),
    );
    expect(result.header).toEqual(['id', 'name', 'note']);
    expect(rows).toEqual([
      { line: 2, cells: ['1', 'Doe, Jane', 'said "hi"\nnext line'] },
      { line: 4, cells: ['2', 'Roe', ''] },
    ]);
    expect(result.rows).toBe(2);
  });

  it('gives identical results whatever the chunk boundaries', async () => {
    const text = Buffer.from(
      '\ufeffa;b;c\r\n1;"x;\r\ny";3\r\n\r\n4;5\r\n6;"q""r";7\r\n"8";9;"open\r\n10;11;12',
    );
    const whole = await read(text);
    for (const size of [1, 2, 3, 5, 7]) {
      const parted = await read(text, {}, size);
      expect(parted.rows).toEqual(whole.rows);
      expect(parted.rejects).toEqual(whole.rejects);
      expect(parted.result.blankLines).toBe(whole.result.blankLines);
    }
    expect(whole.result.delimiter).toBe(';');
    expect(whole.result.lineEnding).toBe('crlf');
    expect(whole.result.bom).toBe(true);
  });

  it('strips a UTF-8 BOM so the first header name is clean', async () => {
    const { result } = await read(Buffer.from('\ufeffid,name\n1,a\n'));
    expect(result.header[0]).toBe('id');
    expect(result.bom).toBe(true);
  });

  it('reads CRLF, LF and lone CR line endings and names the style', async () => {
    for (const [eol, style] of [
      ['\r\n', 'crlf'],
      ['\n', 'lf'],
      ['\r', 'cr'],
    ] as const) {
      const { rows, result } = await read(Buffer.from(['a,b', '1,2', '3,4'].join(eol) + eol), {}, 3);
      expect(rows.map((r) => r.line)).toEqual([2, 3]);
      expect(rows[1]?.cells).toEqual(['3', '4']);
      expect(result.lineEnding).toBe(style);
    }
  });

  it('rejects ragged rows with file, line and the cell counts, never the values', async () => {
    const { rows, rejects, result } = await read(Buffer.from('a,b,c\n1,2,3\n4,5\n6,7,8,SECRET\n9,10,11\n'));
    expect(rows.map((r) => r.line)).toEqual([2, 5]);
    expect(rejects).toEqual([
      { file: 'test.csv', line: 3, reason: 'MALFORMED_ROW', detail: 'row has 2 cells but the header has 3' },
      { file: 'test.csv', line: 4, reason: 'MALFORMED_ROW', detail: 'row has 4 cells but the header has 3' },
    ]);
    expect(JSON.stringify(rejects)).not.toContain('SECRET');
    expect(result.rows).toBe(result.accepted + result.rejected);
  });

  it('rejects a data row that repeats the header (files joined together), not a row that merely starts like it', async () => {
    const text = 'id,"name"\n1,Ann\nid,name\n2,Bob\nid,Bo\n"id","name"\n';
    const { rows, rejects, result } = await read(Buffer.from(text), {}, 7);
    expect(rows.map((r) => r.cells)).toEqual([
      ['1', 'Ann'],
      ['2', 'Bob'],
      ['id', 'Bo'],
    ]);
    expect(rejects.map((r) => [r.line, r.reason, r.detail])).toEqual([
      [3, 'MALFORMED_ROW', 'row repeats the header row (files joined together?); it is not a record'],
      [6, 'MALFORMED_ROW', 'row repeats the header row (files joined together?); it is not a record'],
    ]);
    expect(result.rows).toBe(result.accepted + result.rejected);
  });

  it('rejects only the line of an unterminated quote at the end and still reads the lines after it', async () => {
    const { rows, rejects, result } = await read(Buffer.from('a,b\n1,2\n3,"open\n5,6\n7,8\n'));
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ line: 3, reason: 'MALFORMED_ROW' });
    expect(rejects[0]?.detail).toContain('never closed');
    expect(rows.map((r) => r.line)).toEqual([2, 4, 5]);
    expect(result.rows).toBe(4);
  });

  it('recovers from a stray quote that a later quote closes', async () => {
    const { rows, rejects } = await read(Buffer.from('a,b,c\n1,"stray,x\n2,y,z\n3,"q",w\n'));
    expect(rejects.map((r) => r.line)).toEqual([2]);
    expect(rows.map((r) => r.line)).toEqual([3, 4]);
  });

  it('rejects a quoted field that never closes within the record size limit and resumes', async () => {
    const body = `a,b\n1,"${'x'.repeat(200)}\n2,3\n`;
    const { rows, rejects } = await read(Buffer.from(body), { maxRecordBytes: 64 }, 16);
    expect(rejects.map((r) => r.line)).toEqual([2]);
    expect(rows.map((r) => r.line)).toEqual([3]);
  });

  it('rejects text after a closing quote on its line only', async () => {
    const { rows, rejects } = await read(Buffer.from('a,b\n"1"x,2\n3,4\n'));
    expect(rejects).toEqual([
      {
        file: 'test.csv',
        line: 2,
        reason: 'MALFORMED_ROW',
        detail: 'text follows the closing quote of a field',
      },
    ]);
    expect(rows).toEqual([{ line: 3, cells: ['3', '4'] }]);
  });

  it('skips and counts blank and all-empty lines', async () => {
    const { rows, result } = await read(Buffer.from('\na,b\n\n1,2\n  \n,\n3,4\n\n'));
    expect(rows.map((r) => r.line)).toEqual([4, 7]);
    expect(result.blankLines).toBe(5);
    expect(result.headerLine).toBe(2);
  });

  it('rejects rows holding invalid UTF-8 bytes with ENCODING_ERROR and keeps the valid ones', async () => {
    const bytes = Buffer.concat([
      Buffer.from('a,b\nJosé,1\n'),
      Buffer.from([0x78, 0xe9, 0x2c, 0x32, 0x0a]),
      Buffer.from('Zoë,3\n'),
    ]);
    const { rows, rejects } = await read(bytes, {}, 3);
    expect(rows.map((r) => r.cells[0])).toEqual(['José', 'Zoë']);
    expect(rejects).toEqual([
      {
        file: 'test.csv',
        line: 3,
        reason: 'ENCODING_ERROR',
        detail: 'row holds bytes that are not valid UTF-8 (the file is read as UTF-8)',
      },
    ]);
  });

  it('decodes Windows-1252 bytes when told to', async () => {
    const bytes = Buffer.from([...Buffer.from('a,b\nJos'), 0xe9, ...Buffer.from(',5 '), 0x80, 0x0a]);
    const { rows, rejects } = await read(bytes, { encoding: 'windows-1252' });
    expect(rejects).toEqual([]);
    expect(rows[0]?.cells).toEqual(['José', '5 €']);
  });

  it('transcodes UTF-16 LE and BE with a BOM', async () => {
    for (const encoding of ['utf-16le', 'utf-16be'] as const) {
      const le = Buffer.from('\ufeffid\tname\r\n1\tRenée\r\n', 'utf16le');
      const bytes = encoding === 'utf-16le' ? le : Buffer.from(le).swap16();
      const { rows, result } = await read(bytes, { encoding }, 3);
      expect(result.header).toEqual(['id', 'name']);
      expect(result.delimiter).toBe('\t');
      expect(rows).toEqual([{ line: 2, cells: ['1', 'Renée'] }]);
      expect(result.bom).toBe(true);
    }
  });

  it('renames empty and duplicate header names so no cell collapses into another', async () => {
    const { rows, result } = await read(Buffer.from('id,Name,,name\n1,a,b,c\n'));
    expect(result.header).toEqual(['id', 'Name', 'column_3', 'name_2']);
    expect(result.warnings.map((w) => w.code)).toEqual(['EMPTY_HEADER', 'DUPLICATE_HEADER']);
    expect(rows[0]?.cells).toEqual(['1', 'a', 'b', 'c']);
  });

  it('throws a ValidationError naming the file and line when the header cannot be read', async () => {
    await expect(read(Buffer.from('"a"x,b\n1,2\n'))).rejects.toThrow(ValidationError);
    await expect(read(Buffer.from('"a"x,b\n1,2\n'))).rejects.toThrow(/test\.csv: the header row on line 1/);
  });

  it('hashes the raw bytes and counts them', async () => {
    const bytes = Buffer.from('a\n1\n');
    const { result } = await read(bytes, {}, 1);
    expect(result.bytes).toBe(4);
    const { createHash } = await import('node:crypto');
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('reads a file without a trailing line break, ending on a delimiter', async () => {
    const { rows } = await read(Buffer.from('a,b\n1,'));
    expect(rows).toEqual([{ line: 2, cells: ['1', ''] }]);
  });
});

describe('sniffDelimiter', () => {
  it('picks the delimiter that is consistent across records, ignoring quoted ones', () => {
    expect(sniffDelimiter(Buffer.from('a;b;c\n"1,5";2;3\n4;"x;y";6\n')).delimiter).toBe(';');
    expect(sniffDelimiter(Buffer.from('a|b\n1|2\n')).delimiter).toBe('|');
    expect(sniffDelimiter(Buffer.from('a\tb,c\n1\t2,3\n4\t5\n')).delimiter).toBe('\t');
  });

  it('reports no delimiter for single-column text', () => {
    expect(sniffDelimiter(Buffer.from('just words\nmore words\n'))).toEqual({
      delimiter: ',',
      detected: false,
    });
  });
});

describe('profileEncoding', () => {
  it('chooses UTF-8 for valid UTF-8 and honours a UTF-8 BOM', async () => {
    expect((await profileEncoding(streamOf(Buffer.from('a,b\nZoë,1\n'), 3))).encoding).toBe('utf-8');
    const bom = await profileEncoding(streamOf(Buffer.from('\ufeffa\n'), 1));
    expect(bom).toMatchObject({ bom: 'utf-8', encoding: 'utf-8', problem: null });
  });

  it('falls back to Windows-1252 when the bytes are not UTF-8 at all', async () => {
    const bytes = Buffer.from('a,b\nJos\u00e9,M\u00fcller\n', 'latin1');
    expect(await profileEncoding(streamOf(bytes, 2))).toMatchObject({
      encoding: 'windows-1252',
      fallback: true,
    });
  });

  it('keeps UTF-8 when a mostly-UTF-8 file has a stray invalid byte', async () => {
    const bytes = Buffer.concat([Buffer.from('a\nJosé\nZoë\nRenée\n'), Buffer.from([0xff, 0x0a])]);
    expect(await profileEncoding(streamOf(bytes))).toMatchObject({ encoding: 'utf-8', fallback: false });
  });

  it('detects UTF-16 with and without a BOM', async () => {
    expect((await profileEncoding(streamOf(Buffer.from('\ufeffa,b\n', 'utf16le')))).encoding).toBe(
      'utf-16le',
    );
    expect((await profileEncoding(streamOf(Buffer.from('a,b\n1,2\n', 'utf16le')))).encoding).toBe('utf-16le');
    expect((await profileEncoding(streamOf(Buffer.from('a,b\n1,2\n', 'utf16le').swap16()))).encoding).toBe(
      'utf-16be',
    );
  });

  it('flags binary content and UTF-32 as problems', async () => {
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
    ]);
    expect((await profileEncoding(streamOf(png))).problem).toBe('BINARY_FILE');
    expect((await profileEncoding(streamOf(Buffer.from([0xff, 0xfe, 0, 0, 0x61, 0, 0, 0])))).problem).toBe(
      'UNSUPPORTED_ENCODING',
    );
  });

  it('names the line of the first NUL byte, whatever the line ends and chunking', async () => {
    const lf = Buffer.from('id,name\r\n1,a\r\n2,b\0c\r\n3,\0\r\n');
    expect(await profileEncoding(streamOf(lf, 5))).toMatchObject({
      problem: 'BINARY_FILE',
      firstBinaryLine: 3,
    });
    const crOnly = Buffer.from('id,name\r1,a\0\r');
    expect((await profileEncoding(streamOf(crOnly))).firstBinaryLine).toBe(2);
    expect((await profileEncoding(streamOf(Buffer.from('a,b\n1,2\n')))).firstBinaryLine).toBeNull();
  });
});
