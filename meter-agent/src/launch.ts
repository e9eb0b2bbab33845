// The Pi's entry (built to dist/meter-agent.cjs): sizes libuv's thread pool from the config before
// anything starts it, then loads the bundled CLI in this same process, so signals reach the agent.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sizeThreadPool } from './threadpool.js';

sizeThreadPool(process.argv.slice(2));
void import(pathToFileURL(join(__dirname, 'cli.mjs')).href);
