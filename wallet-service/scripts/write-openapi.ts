// Writes wallet-service/openapi.json from the zod schemas: npm run openapi
import { writeFile } from 'node:fs/promises';
import { OPENAPI_FILE, openApiDocument } from '../src/openapi.js';

await writeFile(OPENAPI_FILE, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
