import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Files too large to commit, written into a case's export folder at test time. Each writes a
 * patients file in the corpus mapping's layout (PatientID, FirstName, LastName, Email, Phone, DOB,
 * Occupation) unless it says otherwise; the case.json next to it holds the expected outcome.
 */
export const GENERATORS: Record<string, (dir: string) => void> = {
  /**
   * A 1 MB cell: a note body of 1,048,576 characters (loads — Twenty's rich text has no small cap)
   * and an occupation of 1 MB (rejected VALUE_TOO_LONG by the mapping's 255-character rule).
   */
  hugeCells(dir) {
    const mb = 1024 * 1024;
    writeFileSync(
      join(dir, 'patients.csv'),
      'PatientID,FirstName,LastName,Email,Phone,DOB,Occupation\n' +
        'P001,Ada,Quillfeather,ada.huge@example.test,,1980-01-02,Teacher\n' +
        `P002,Bo,Marrowind,,,1975-03-04,${'x'.repeat(mb)}\n`,
    );
    writeFileSync(
      join(dir, 'notes.csv'),
      `NoteID,PatientID,NoteType,Note\nN01,P001,Clinical,"${'Long note. '.repeat(mb / 8).slice(0, mb)}"\n`,
    );
  },

  /** A patients file 10,000 columns wide: the seven mapped ones, then 9,993 more, two rows. */
  tenThousandColumns(dir) {
    const extra = Array.from({ length: 9993 }, (_, i) => `Extra${i + 1}`);
    const header = ['PatientID', 'FirstName', 'LastName', 'Email', 'Phone', 'DOB', 'Occupation', ...extra];
    const row = (id: string, first: string, email: string) =>
      [id, first, 'Widefile', email, '', '1980-01-02', 'Clerk', ...extra.map((_, i) => `v${i % 97}`)].join(
        ',',
      );
    writeFileSync(
      join(dir, 'patients.csv'),
      `${header.join(',')}\n${row('P001', 'Ada', 'ada.wide@example.test')}\n${row('P002', 'Bo', '')}\n`,
    );
  },

  /**
   * An export whose ferry.json announces patients.csv as 2 GiB (the exporting system's manifest),
   * while the file that arrived was cut off after a few rows, in the middle of a quoted cell.
   */
  announcedTruncated(dir) {
    writeFileSync(
      join(dir, 'patients.csv'),
      'PatientID,FirstName,LastName,Email,Phone,DOB,Occupation\n' +
        'P001,Ada,Quillfeather,ada.cut@example.test,,1980-01-02,Teacher\n' +
        'P002,Bo,Marrowind,,,1975-03-04,"Baker and',
    );
    writeFileSync(
      join(dir, 'ferry.json'),
      `${JSON.stringify({ files: { 'patients.csv': { bytes: 2 * 1024 * 1024 * 1024 } } }, null, 2)}\n`,
    );
  },

  /** documents/linked.pdf: a symbolic link to a file beside (outside) the export folder. */
  symlinkOut(dir) {
    const outside = join(dir, '..', `${basename(dir)}-outside.txt`);
    writeFileSync(outside, 'root:x:0:0:outside the export folder\n');
    mkdirSync(join(dir, 'documents'), { recursive: true });
    symlinkSync(outside, join(dir, 'documents', 'linked.pdf'));
  },

  /** A 5 MB row between two ordinary ones: over the reader's 4 MiB record limit. */
  rowOverLimit(dir) {
    writeFileSync(
      join(dir, 'patients.csv'),
      'PatientID,FirstName,LastName,Email,Phone,DOB,Occupation\n' +
        'P001,Ada,Quillfeather,ada.limit@example.test,,1980-01-02,Teacher\n' +
        `P002,Bo,Marrowind,,,1975-03-04,${'y'.repeat(5 * 1024 * 1024)}\n` +
        'P003,Cy,Fennimore,,,1990-05-06,Welder\n',
    );
  },
};
