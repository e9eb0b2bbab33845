import { fileURLToPath } from 'node:url';

/**
 * The network's programs, pinned. HORNET v2.0.1 is the last Stardust release; its quic-go does not link
 * under Go ≥ 1.23, so everything builds with the Go 1.21 toolchain the module proxy serves.
 */
export const GO_TOOLCHAIN = 'go1.21.13';

export type ComponentName = 'hornet' | 'inx-mqtt' | 'tanglewatt-coordinator' | 'tanglewatt-indexer';

export interface Component {
  name: ComponentName;
  /** What identifies the build; a change means rebuild. */
  version: string;
  /** How it is built: `go install` of a module version, a build inside the downloaded module, or our own source. */
  build:
    | { kind: 'install'; module: string }
    | { kind: 'module-dir'; module: string }
    | { kind: 'source'; dir: string };
  /** Needed for `tangle up`; optional ones are skipped with a warning when they fail to build. */
  required: boolean;
}

export const COORDINATOR_SOURCE_DIR = fileURLToPath(new URL('../coordinator/', import.meta.url));
export const INDEXER_SOURCE_DIR = fileURLToPath(new URL('../../indexer/', import.meta.url));

/** One of our own programs, built from its source folder in this repository. */
function ownSource(name: ComponentName, dir: string, required: boolean): Component {
  return { name, version: 'source', build: { kind: 'source', dir }, required };
}

export const COMPONENTS: readonly Component[] = [
  {
    name: 'hornet',
    version: 'v2.0.1',
    build: { kind: 'install', module: 'github.com/iotaledger/hornet/v2' },
    required: true,
  },
  // Issues milestones over INX; our own because inx-coordinator is not served by the module proxy.
  ownSource('tanglewatt-coordinator', COORDINATOR_SOURCE_DIR, true),
  {
    // go.mod has a `replace` directive, so `go install module@version` refuses it: build inside the module.
    name: 'inx-mqtt',
    version: 'v1.0.0',
    build: { kind: 'module-dir', module: 'github.com/iotaledger/inx-mqtt' },
    required: false,
  },
  // Keeps what the community reads (outputs by address, our tagged data) past HORNET's pruning.
  ownSource('tanglewatt-indexer', INDEXER_SOURCE_DIR, false),
];
