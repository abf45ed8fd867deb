import { parseRate, requestsPerMinute } from '../rate-limit/rate-spec.ts';

/** One entity's share of the load, as Inventory knows it before anything is mapped. */
export interface EstimateEntity {
  readonly entity: string;
  readonly rows: number;
  /** Task/note targets per record (0 for plain objects); each target batch is one more request. */
  readonly targetsPerRecord: number;
  /** Attachments: one upload plus one record batch share per file. */
  readonly uploads?: number;
}

export interface DurationEstimate {
  readonly requests: number;
  readonly requestsPerMinute: number;
  readonly minutes: number;
  readonly rate: string;
  readonly batchMax: number;
}

/**
 * How long the load will take, from counts alone: the rate limit, not Ferry, is the bottleneck,
 * so requests = Σ ceil(rows / batchMax) per entity + the target batches + one upload per file,
 * and minutes = requests / the tightest window's sustained rate. Schema and owner requests are a
 * rounding error next to that and left out.
 */
export function estimateDuration(
  entities: readonly EstimateEntity[],
  rate: string,
  batchMax: number,
): DurationEstimate {
  const spec = parseRate(rate);
  const perMinute = requestsPerMinute(spec);
  let requests = 0;
  for (const e of entities) {
    if (e.rows === 0) continue;
    requests += Math.ceil(e.rows / batchMax);
    if (e.targetsPerRecord > 0) requests += Math.ceil((e.rows * e.targetsPerRecord) / batchMax);
    requests += e.uploads ?? 0;
  }
  return {
    requests,
    requestsPerMinute: perMinute,
    minutes: Number((requests / perMinute).toFixed(2)),
    rate: spec.label,
    batchMax,
  };
}
