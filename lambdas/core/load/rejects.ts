import { bump } from './decide.ts';
import type { MappedLine, RejectLine } from './format.ts';

/**
 * The records one slice of a chunk refused, in the order they were refused: the count per reason
 * and one reject line each (ids, field, reason and rule, never a value).
 */
export interface SliceRejects {
  readonly rejected: Record<string, number>;
  readonly rejects: RejectLine[];
  /** Counts a refused record under `reason` and adds its reject line. */
  reject(line: MappedLine, field: string, reason: string, rule: string): void;
  /**
   * Adds the reject line of a refused task/note target (`TARGET_REJECTED`) under its parent's source
   * line and id; it counts no record.
   */
  rejectTarget(
    parent: { readonly line: number; readonly sourceId: string },
    object: string,
    rule: string,
  ): void;
}

export function sliceRejects(file: string, entity: string): SliceRejects {
  const rejected: Record<string, number> = {};
  const rejects: RejectLine[] = [];
  return {
    rejected,
    rejects,
    reject(line, field, reason, rule) {
      bump(rejected, reason);
      rejects.push({ file, line: line.line, entity, sourceId: line.sourceId, field, reason, rule });
    },
    rejectTarget(parent, object, rule) {
      rejects.push({
        file,
        line: parent.line,
        entity,
        sourceId: parent.sourceId,
        field: object,
        reason: 'TARGET_REJECTED',
        rule,
      });
    },
  };
}
