import { fileURLToPath } from 'node:url';

/** Where `npm start` keeps the whole system (git-ignored): network/ and households/. */
export const DEFAULT_SYSTEM_DIR = fileURLToPath(new URL('../../.tangle/', import.meta.url));

/** Where the tangle CLI keeps the local network unless told otherwise: the same one `npm start` runs. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.tangle/network/', import.meta.url));
