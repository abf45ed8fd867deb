import { describe, expect, it } from 'vitest';
import { planMapping } from '../../../lambdas/core/inventory/mapping-plan.ts';
import { type LayoutScore, layoutNames, loadLayout, scoreLayout } from '../../support/layout-corpus.ts';

/**
 * The layout corpus: exports modelled on Dentrix, Eaglesoft, Open Dental, Curve, Denticon, a hand-kept
 * spreadsheet, AdvancedMD, Kareo, athenahealth, APMS, PbN report exports, Medisoft and six held-out
 * systems (PracticeWorks, DentiMax, DrChrono, ChiroTouch, ClearDent, WebPT), written without Ferry's
 * generator, each with a truth file, and read with the stems Inventory gives files. The mapping Ferry proposes for each (the same planMapping
 * Inventory runs) is scored column by column; a wrong id, parent reference, name or email — or a file
 * read as the wrong kind of record — is a critical error, and there must be none.
 */
describe('the layout corpus', () => {
  const names = layoutNames();
  const scores: LayoutScore[] = [];

  it('holds at least twelve independent layouts', () => {
    expect(names.length).toBeGreaterThanOrEqual(12);
  });

  it.each(names)('%s: no critical mapping error', async (name) => {
    const { files, truth } = await loadLayout(name);
    const plan = planMapping(files);
    const score = scoreLayout(name, plan, files, truth);
    scores.push(score);
    const wrong = score.verdicts
      .filter((v) => !v.correct)
      .map((v) => `${v.file}: ${v.column} → ${v.predicted.join('+')} (meant ${v.expected.join(' | ')})`);
    console.log(
      `layout ${name.padEnd(22)} ${score.correct}/${score.columns} columns (${((100 * score.correct) / score.columns).toFixed(1)}%), source ${plan.source}` +
        (wrong.length > 0 ? `\n  ${wrong.join('\n  ')}` : ''),
    );
    expect(score.criticalErrors).toEqual([]);
  });

  it('prints the overall accuracy', () => {
    const columns = scores.reduce((n, s) => n + s.columns, 0);
    const correct = scores.reduce((n, s) => n + s.correct, 0);
    const critical = scores.flatMap((s) => s.verdicts.filter((v) => v.critical));
    console.log(
      `layout corpus: ${correct}/${columns} columns right (${((100 * correct) / Math.max(1, columns)).toFixed(1)}%), ` +
        `critical ${critical.filter((v) => v.correct).length}/${critical.length}`,
    );
    expect(columns).toBeGreaterThan(0);
  });
});
