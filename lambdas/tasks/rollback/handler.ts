import { makeHandler } from '../../runtime/make-handler.ts';
import { rollback } from './rollback.ts';
import { ROLLBACK_DEADLINE_MARGIN_MS, RollbackInputSchema } from './schema.ts';

/** The invocation being served (a Lambda container serves one at a time). */
let remainingMs: (() => number) | undefined;

const inner = makeHandler('Rollback', RollbackInputSchema, (input, deps) =>
  rollback(
    input,
    deps,
    remainingMs ? { deadline: deps.clock.now() + remainingMs() - ROLLBACK_DEADLINE_MARGIN_MS } : {},
  ),
);

/** Rollback's tick ends at the Lambda's remaining time minus the margin, then returns a continuation. */
export const handler = (event: unknown, context: { getRemainingTimeInMillis?: () => number }) => {
  const remaining = context?.getRemainingTimeInMillis;
  remainingMs = typeof remaining === 'function' ? () => remaining.call(context) : undefined;
  return inner(event, context as never);
};
