/**
 * What opening a keystore costs: scrypt (r=8, p=1, 32-byte key, as the keystore uses it) for N=2^14..2^18
 * on this machine, with its memory and the time expected on a Raspberry Pi 3: this machine's fastest run
 * (the least disturbed by other work on a shared machine) times PI3_SLOWDOWN. The README's wallet-service
 * "Keys" paragraph says why that ratio.
 *
 *   npx tsx tests/bench/wallet-service/keystore-kdf.ts [runs=5]
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { deriveKeystoreKey } from '@tanglewatt/wallet-service';

/** Cortex-A53 @ 1.2 GHz against one x86 server core, for scrypt (README: wallet-service, Keys). */
const PI3_SLOWDOWN = 10;
const r = 8;
const runs = Number(process.argv[2] ?? 5);

const rows: string[] = [];
for (let log2N = 14; log2N <= 18; log2N++) {
  const N = 2 ** log2N;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const salt = randomBytes(16);
    const start = process.hrtime.bigint();
    await deriveKeystoreKey('correct horse battery staple', salt, { N, r, p: 1 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  rows.push(
    `| 2^${log2N} | ${(128 * N * r) / 2 ** 20} MiB | ${times[0]!.toFixed(0)} | ${median.toFixed(0)} | ${((times[0]! * PI3_SLOWDOWN) / 1000).toFixed(1)} s |`,
  );
}
process.stdout.write(
  `scrypt r=${r} p=1, ${runs} runs each, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}\n\n` +
    `| N | memory | min ms | median ms | Pi 3 (min ×${PI3_SLOWDOWN}) |\n|---|---|---|---|---|\n${rows.join('\n')}\n`,
);
