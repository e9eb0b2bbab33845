#!/usr/bin/env node
// `npm run build`: bundles the meter-agent and wallet-service CLIs into one JavaScript file each, so the Pi
// runs them with plain node (no TypeScript loader in memory). The native module (i2c-bus) and the IOTA
// SDK's wasm build stay outside the bundles and load from node_modules at run time.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const external = ['i2c-bus', '@iota/sdk-wasm', '@iota/sdk-wasm/*'];
// Bundled CommonJS dependencies (commander, pino, express) call require for Node's own modules.
const esmBanner = [
  "import { createRequire as __tanglewattCreateRequire } from 'node:module';",
  'const require = __tanglewattCreateRequire(import.meta.url);',
].join('\n');

// zod's error messages in ~40 languages are a third of the agent's bundle; the services speak English.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20.10',
  external,
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: 'linked',
  plugins: [zodEnglishOnly],
  minify: true,
};

async function bundle(pkg, entry, outfile, extra = {}) {
  await build({
    ...common,
    entryPoints: [join(root, pkg, entry)],
    outfile: join(root, pkg, outfile),
    ...extra,
  });
}

for (const pkg of ['meter-agent', 'wallet-service'])
  await rm(join(root, pkg, 'dist'), { recursive: true, force: true });

// meter-agent: a CommonJS entry sizes libuv's thread pool before any ES module loads, then imports the CLI.
// The CLI stays an ES module: as one CommonJS file V8 compiles esbuild's module wrappers eagerly (~4 MB more).
await bundle('meter-agent', 'src/cli.ts', 'dist/cli.mjs', { format: 'esm', banner: { js: esmBanner } });
await bundle('meter-agent', 'src/launch.ts', 'dist/meter-agent.cjs', { format: 'cjs' });
await bundle('wallet-service', 'src/cli.ts', 'dist/wallet-service.mjs', {
  format: 'esm',
  banner: { js: esmBanner },
});
process.stdout.write('built meter-agent/dist/meter-agent.cjs and wallet-service/dist/wallet-service.mjs\n');
