import { makeHandler } from '../../runtime/make-handler.ts';
import { loadChunk } from './load-chunk.ts';
import { LoadChunkInputSchema } from './schema.ts';

export const handler = makeHandler('LoadChunk', LoadChunkInputSchema, loadChunk);
