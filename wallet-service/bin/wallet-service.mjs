#!/usr/bin/env node
// Loads the TypeScript CLI in this same process through tsx's loader: no build step, and signals
// (including SIGKILL from a service manager) reach the real program rather than a wrapper.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli.ts', import.meta.url).href);
