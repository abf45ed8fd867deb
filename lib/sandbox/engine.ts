import { RequestGate } from './gate.ts';
import { errorResponse, json, type SandboxRequest, type SandboxResponse } from './http.ts';
import { forbidden, notFound } from './http-error.ts';
import { presentObject } from './metadata-api.ts';
import type { ResolvedSandboxOptions } from './options.ts';
import { routeApi, routeTemplate } from './router.ts';
import { SandboxStore } from './store.ts';
import { Workspace } from './workspace.ts';

export { nameFromLabel } from '../../lambdas/ports/twenty-names.ts';
export type { SandboxRequest, SandboxResponse } from './http.ts';
export { validateFieldValue } from './records.ts';
export { MUTATION_MAXIMUM_AFFECTED_RECORDS } from './records-write.ts';

/** Every record of every object plus metadata and uploaded-file hashes (GET /__sandbox/dump). */
export interface SandboxDump {
  readonly flavor: 'v1' | 'v2';
  readonly objects: unknown[];
  readonly records: Record<string, Array<Record<string, unknown>>>;
  readonly files: Array<{
    path: string;
    id: string;
    name: string;
    mimeType: string;
    size: number;
    sha256: string;
  }>;
}

/** Request counters (GET /__sandbox/stats). */
export interface SandboxStats {
  readonly requests: Record<string, Record<string, number>>;
  readonly totalRequests: number;
  readonly rateLimited: number;
  readonly faults: Record<string, number>;
  readonly records: Record<string, { active: number; deleted: number }>;
}

/**
 * The sandbox itself: a faithful local double of Twenty's REST + metadata API over SQLite. The
 * HTTP server is a thin shell around {@link SandboxEngine.handle}. This class composes the parts:
 * authorisation, the inspection routes and request counters here; rate limits and faults in
 * `gate.ts`; routing in `router.ts`; the records, metadata and upload APIs in their own modules.
 */
export class SandboxEngine {
  readonly options: ResolvedSandboxOptions;
  readonly store: SandboxStore;
  readonly #now: () => number;
  readonly #workspace: Workspace;
  #gate: RequestGate;
  #requests = new Map<string, Map<number, number>>();
  #totalRequests = 0;

  constructor(options: ResolvedSandboxOptions, now: () => number = Date.now) {
    this.options = options;
    this.#now = now;
    this.store = new SandboxStore(options.dataDir);
    this.#workspace = new Workspace(options, this.store, now);
    this.#gate = new RequestGate(options, now);
    this.#workspace.initialise();
  }

  close(): void {
    this.store.close();
  }

  /** Answers one request; never throws (unknown failures become Twenty's 500 shape). */
  async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const url = new URL(request.url, 'http://sandbox.local');
    const method = request.method.toUpperCase();
    let route = 'unmatched';
    let response: SandboxResponse;
    try {
      const result = await this.#dispatch(method, url, request, (r) => {
        route = r;
      });
      response = result;
    } catch (error) {
      response = errorResponse(error);
    }
    this.#count(`${method} ${route}`, response.status);
    return response;
  }

  #count(route: string, status: number): void {
    this.#totalRequests += 1;
    const byStatus = this.#requests.get(route) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.#requests.set(route, byStatus);
  }

  #authorised(request: SandboxRequest): boolean {
    const header = request.headers.authorization ?? request.headers.Authorization;
    return header === `Bearer ${this.options.apiKey}`;
  }

  async #dispatch(
    method: string,
    url: URL,
    request: SandboxRequest,
    setRoute: (route: string) => void,
  ): Promise<SandboxResponse> {
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const [root] = segments;

    if (root === '__sandbox') {
      setRoute(`/__sandbox/${segments[1] ?? ''}`);
      if (!this.#authorised(request)) throw forbidden();
      if (method === 'GET' && segments[1] === 'dump') return json(200, this.dump());
      if (method === 'GET' && segments[1] === 'stats') return json(200, this.stats());
      if (method === 'POST' && segments[1] === 'reset') {
        this.reset();
        return json(200, { ok: true });
      }
      throw notFound('Sandbox route not found');
    }

    const known = root === 'rest' || root === 'graphql' || root === 'metadata' || root === 'files';
    if (!known) {
      setRoute('unmatched');
      throw notFound(`Cannot ${method} ${url.pathname}`);
    }
    setRoute(routeTemplate(segments));
    if (!this.#authorised(request)) throw forbidden();

    const admission = this.#gate.admit();
    if (admission.refusal) return admission.refusal;
    const response = await routeApi(this.#workspace, method, url, segments, request);
    return admission.delayMs === undefined ? response : { ...response, delayMs: admission.delayMs };
  }

  // -------------------------------------------------------------------------------------------
  // Inspection
  // -------------------------------------------------------------------------------------------

  /** Everything stored, for tests and benchmarks to assert on. */
  dump(): SandboxDump {
    const objects = this.#workspace.objects;
    const records: Record<string, Array<Record<string, unknown>>> = {};
    for (const object of objects.values())
      records[object.nameSingular] = this.store.allRecords(object.nameSingular);
    return {
      flavor: this.options.flavor,
      objects: [...objects.values()].map((o) => presentObject(this.#workspace, o)),
      records,
      files: this.store
        .listFiles()
        .map(({ path, id, name, mimeType, size, sha256 }) => ({ path, id, name, mimeType, size, sha256 })),
    };
  }

  stats(): SandboxStats {
    const requests: Record<string, Record<string, number>> = {};
    for (const [route, byStatus] of this.#requests) requests[route] = Object.fromEntries(byStatus);
    const records: Record<string, { active: number; deleted: number }> = {};
    for (const row of this.store.countRecords())
      records[row.object] = { active: row.active, deleted: row.deleted };
    return {
      requests,
      totalRequests: this.#totalRequests,
      rateLimited: this.#gate.rateLimited,
      faults: this.#gate.faultCounts(),
      records,
    };
  }

  /** Back to a fresh workspace of the same flavor (standard schema, seeded members), counters zeroed. */
  reset(): void {
    this.store.wipe();
    this.#requests = new Map();
    this.#totalRequests = 0;
    this.#gate = new RequestGate(this.options, this.#now);
    this.#workspace.initialise();
  }
}
