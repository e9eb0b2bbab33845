#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so no build step is needed. tsx is registered in this process
// (not a child process): signals from systemd or kill reach the agent itself.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli.ts', import.meta.url).href);
