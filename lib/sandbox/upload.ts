import { createHash, randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import { json, type SandboxRequest, type SandboxResponse } from './http.ts';
import type { Workspace } from './workspace.ts';

/** GraphQL on `POST /graphql` and `POST /metadata`: multipart file uploads only (v1 `uploadFile`, v2 `uploadFilesFieldFile`). */

export async function graphqlUpload(ws: Workspace, request: SandboxRequest): Promise<SandboxResponse> {
  const gqlError = (status: number, message: string, code: string): SandboxResponse =>
    json(status, { errors: [{ message, extensions: { code } }] });
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) {
    return gqlError(
      400,
      'The sandbox implements only multipart file uploads over GraphQL; use the REST API',
      'BAD_USER_INPUT',
    );
  }
  if (request.bodyTooLarge) {
    return gqlError(
      413,
      `File truncated as it exceeds the ${ws.options.maxUploadBytes} byte size limit.`,
      'PAYLOAD_TOO_LARGE',
    );
  }
  let form: FormData;
  try {
    form = await new Request('http://sandbox.local/graphql', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: request.body ?? new Uint8Array(),
    }).formData();
  } catch {
    return gqlError(400, 'Malformed multipart body', 'BAD_USER_INPUT');
  }
  let operations: { query?: unknown; variables?: Record<string, unknown> };
  let map: Record<string, unknown>;
  try {
    operations = JSON.parse(String(form.get('operations') ?? ''));
    map = JSON.parse(String(form.get('map') ?? ''));
  } catch {
    return gqlError(400, 'Invalid operations or map part (GraphQL multipart request spec)', 'BAD_USER_INPUT');
  }
  const query = typeof operations.query === 'string' ? operations.query : '';
  const [partName, targets] = Object.entries(map)[0] ?? [];
  const file = partName === undefined ? null : form.get(partName);
  if (!(file instanceof File) || !Array.isArray(targets) || !targets.includes('variables.file')) {
    return gqlError(400, 'Missing file part mapped to variables.file', 'BAD_USER_INPUT');
  }
  if (file.size > ws.options.maxUploadBytes) {
    return gqlError(
      413,
      `File truncated as it exceeds the ${ws.options.maxUploadBytes} byte size limit.`,
      'PAYLOAD_TOO_LARGE',
    );
  }
  const v1Mutation = /\buploadFile\s*\(/.test(query);
  const v2Mutation = /\buploadFilesFieldFile\s*\(/.test(query);
  if ((ws.options.flavor === 'v1' && !v1Mutation) || (ws.options.flavor === 'v2' && !v2Mutation)) {
    const name = v1Mutation ? 'uploadFile' : v2Mutation ? 'uploadFilesFieldFile' : 'unknown';
    return gqlError(400, `Cannot query field "${name}" on type "Mutation".`, 'GRAPHQL_VALIDATION_FAILED');
  }
  const variables = operations.variables ?? {};
  if (v2Mutation) {
    const fieldId = variables.fieldMetadataId;
    const field = typeof fieldId === 'string' ? ws.fieldsById.get(fieldId) : undefined;
    if (field?.type !== 'FILES') {
      return gqlError(400, 'fieldMetadataId must reference a FILES field', 'BAD_USER_INPUT');
    }
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const id = randomUUID();
  const folder =
    v1Mutation && typeof variables.fileFolder === 'string'
      ? variables.fileFolder.toLowerCase()
      : 'attachment';
  const path = `${folder.replace(/[^a-z0-9-]/g, '')}/${id}${extname(file.name)
    .toLowerCase()
    .replace(/[^.a-z0-9]/g, '')}`;
  const stored = {
    path,
    id,
    name: file.name,
    mimeType: file.type || 'application/octet-stream',
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    createdAt: ws.iso(),
  };
  ws.store.putFile(stored, bytes);
  if (v1Mutation) return json(200, { data: { uploadFile: path } });
  return json(200, {
    data: {
      uploadFilesFieldFile: {
        id,
        path,
        size: bytes.length,
        url: `${request.origin ?? ''}/files/${path}`,
        createdAt: stored.createdAt,
      },
    },
  });
}
