import { fileURLToPath } from 'node:url';

/** Where `npm start` and the tangle CLI keep the local network unless told otherwise (git-ignored). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.tangle/', import.meta.url));
