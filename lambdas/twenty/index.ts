/** Ferry's Twenty client: import from here, not from the individual files. */
export { TwentyClient, type TwentyClientOptions } from './client.ts';
export { renderFilter, renderOrderBy, where } from './filter.ts';
export { MASK, sanitizeTwentyMessage } from './sanitize.ts';
export { throttleWaitMs } from './transport.ts';
