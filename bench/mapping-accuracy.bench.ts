/**
 * Auto-mapper accuracy on the layout corpus (`test/fixtures/layouts/`, export layouts written without
 * Ferry's generator, each with a truth file): per layout and overall, the share of columns mapped to
 * their intended target, and of critical columns (id, parent reference, name, email). Goals: ≥ 95% of
 * columns, 100% of critical ones. Layouts named `heldout-*` were written without reading Ferry's code and
 * scored before any change for them (README, Performance); only general rules were changed after, and
 * their figure is printed on its own. Run: `npm run bench -- mapping`.
 */
import { planMapping } from '../lambdas/core/inventory/mapping-plan.ts';
import { type LayoutScore, layoutNames, loadLayout, scoreLayout } from '../test/support/layout-corpus.ts';
import { reportMetric } from './lib.ts';

const scores: LayoutScore[] = [];
/** The corpus truth's systems Ferry has a profile for; any other system is reported as generic. */
const KNOWN_SYSTEMS: Record<string, string> = { apms: 'apms', 'practice-by-numbers': 'pbn' };
const detections: string[] = [];
for (const name of layoutNames()) {
  const { files, truth } = await loadLayout(name);
  const plan = planMapping(files);
  scores.push(scoreLayout(name, plan, files, truth));
  const expected = KNOWN_SYSTEMS[truth.system] ?? 'generic';
  if (plan.source !== expected)
    detections.push(`${name}: reported ${plan.source}, came from ${truth.system}`);
}

function line(label: string, group: readonly LayoutScore[]): void {
  const columns = group.reduce((n, s) => n + s.columns, 0);
  const correct = group.reduce((n, s) => n + s.correct, 0);
  const critical = group.flatMap((s) => s.verdicts.filter((v) => v.critical));
  const criticalRight = critical.filter((v) => v.correct).length;
  console.log(
    `${label.padEnd(24)} ${String(correct).padStart(4)}/${String(columns).padEnd(4)} columns ${((100 * correct) / Math.max(1, columns)).toFixed(1).padStart(5)}%   critical ${criticalRight}/${critical.length}   files misread ${group.reduce((n, s) => n + s.fileErrors.length, 0)}`,
  );
}

for (const s of scores) line(s.layout, [s]);
const tuned = scores.filter((s) => !s.layout.startsWith('heldout-'));
const heldout = scores.filter((s) => s.layout.startsWith('heldout-'));
console.log('');
line('corpus (tuned on)', tuned);
if (heldout.length > 0) line('held-out layouts', heldout);
const all = scores.reduce((n, s) => n + s.columns, 0);
const right = scores.reduce((n, s) => n + s.correct, 0);
const critical = scores.flatMap((s) => s.verdicts.filter((v) => v.critical));
reportMetric({
  id: 'mapping-column-accuracy',
  label: 'auto-mapper: columns mapped to their intended target, layout corpus',
  value: right / Math.max(1, all),
  unit: 'of columns',
  goals: [{ on: 'value', op: '>=', target: 0.95 }],
  detail: `${right}/${all} columns over ${scores.length} layouts`,
});
const criticalRight = critical.filter((v) => v.correct).length;
reportMetric({
  id: 'mapping-critical-accuracy',
  label: 'auto-mapper: critical columns (id, parent, name, email) right',
  value: criticalRight / Math.max(1, critical.length),
  unit: 'of columns',
  goals: [{ on: 'value', op: '=', target: 1 }],
  detail: `${criticalRight}/${critical.length} critical columns`,
});
if (heldout.length > 0) {
  const hc = heldout.reduce((n, s) => n + s.columns, 0);
  const hr = heldout.reduce((n, s) => n + s.correct, 0);
  reportMetric({
    id: 'mapping-heldout-column-accuracy',
    label: 'auto-mapper: columns right on the held-out layouts',
    value: hr / Math.max(1, hc),
    unit: 'of columns',
    goals: [{ on: 'value', op: '>=', target: 0.95 }],
    detail: `${hr}/${hc} columns over ${heldout.length} layouts never used for tuning`,
  });
}
console.log(
  `source system reported right on ${scores.length - detections.length}/${scores.length} layouts (APMS and PbN named, others generic)`,
);
console.log(
  `RATIO source-detection ${((scores.length - detections.length) / Math.max(1, scores.length)).toFixed(3)} =1.000`,
);
for (const d of detections) console.log(`source: ${d}`);
for (const s of scores) for (const e of s.criticalErrors) console.log(`critical: ${e}`);
