import { parseJsonBody, type SandboxRequest, type SandboxResponse } from './http.ts';
import { notFound } from './http-error.ts';
import { metadataApi } from './metadata-api.ts';
import { findMany, findOne } from './records-read.ts';
import { create, deleteMany, deleteOne, restore, update } from './records-write.ts';
import { graphqlUpload } from './upload.ts';
import type { Workspace } from './workspace.ts';

/** Maps an API request's path and method to its handler, and names its route for the stats. */

export function routeTemplate(segments: readonly string[]): string {
  const [root, second, third, fourth] = segments;
  if (root !== 'rest') return `/${root}${root === 'files' ? '/:path' : ''}`;
  if (second === 'metadata') return `/rest/metadata/${third ?? ''}${fourth ? '/:id' : ''}`;
  if (second === 'batch') return '/rest/batch/:plural';
  if (second === 'restore') return '/rest/restore/:plural/:id';
  if (fourth === 'restore') return '/rest/:plural/:id/restore';
  if (third !== undefined) return '/rest/:plural/:id';
  return '/rest/:plural';
}

export async function routeApi(
  ws: Workspace,
  method: string,
  url: URL,
  segments: readonly string[],
  request: SandboxRequest,
): Promise<SandboxResponse> {
  const [root, second, third, fourth, fifth] = segments;
  if (root === 'graphql' || root === 'metadata') {
    if (method !== 'POST') throw notFound(`Cannot ${method} /${root}`);
    return graphqlUpload(ws, request);
  }
  if (root === 'files') {
    if (method !== 'GET') throw notFound(`Cannot ${method} /files`);
    const path = segments.slice(1).join('/');
    const file = ws.store.getFile(path);
    if (!file) throw notFound('File not found');
    return {
      status: 200,
      headers: { 'content-type': file.file.mimeType, 'content-length': String(file.file.size) },
      body: null,
      raw: file.bytes,
    };
  }
  // root === 'rest'
  if (second === undefined) throw notFound('Route not found');
  if (second === 'metadata') return metadataApi(ws, method, url, third, fourth, request);
  if (second === 'batch') {
    if (method !== 'POST' || third === undefined || fourth !== undefined)
      throw notFound(`Cannot ${method} ${url.pathname}`);
    return create(ws, ws.objectByPlural(third), parseJsonBody(request), url, true);
  }
  if (second === 'restore') {
    if (method !== 'PATCH' || third === undefined || fourth === undefined)
      throw notFound(`Cannot ${method} ${url.pathname}`);
    return restore(ws, ws.objectByPlural(third), fourth, url);
  }
  const object = ws.objectByPlural(second);
  if (third === undefined) {
    if (method === 'GET') return findMany(ws, object, url);
    if (method === 'POST') return create(ws, object, parseJsonBody(request), url, false);
    if (method === 'DELETE') return deleteMany(ws, object, url);
    throw notFound(`Cannot ${method} ${url.pathname}`);
  }
  if (fourth === 'restore' && fifth === undefined && method === 'PATCH')
    return restore(ws, object, third, url);
  if (fourth !== undefined) throw notFound(`Cannot ${method} ${url.pathname}`);
  if (method === 'GET') return findOne(ws, object, third, url);
  if (method === 'PATCH' || method === 'PUT') return update(ws, object, third, parseJsonBody(request), url);
  if (method === 'DELETE') return deleteOne(ws, object, third, url);
  throw notFound(`Cannot ${method} ${url.pathname}`);
}
