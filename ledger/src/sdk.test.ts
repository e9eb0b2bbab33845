import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as IotaSdk from '@iota/sdk-wasm/node/lib/index.js';
import { isError } from '@tanglewatt/errors';
import { describe, expect, it } from 'vitest';
import {
  basicOutputDeposit,
  bech32ToHex,
  blockBytesOf,
  generateMnemonic,
  hexToBech32,
  hexToUtf8,
  isBech32Address,
  LedgerClient,
  MnemonicSigner,
  microOutputDeposit,
  transactionIdOf,
  utf8ToHex,
} from './sdk.js';

// The SDK itself, to state independently what the ledger holds (sdk.ts keeps its objects to itself).
const sdkModule = createRequire(import.meta.url)('@iota/sdk-wasm/node') as typeof IotaSdk;

const rent = { vByteCost: 10, vByteFactorData: 1, vByteFactorKey: 10 };
// Development-only mnemonic of hornet-config/profiles/development.json.
const devMnemonic =
  'exhaust foot tenant enemy bulb naive piece snack diamond sibling accuse limit laundry struggle dentist sell split silent shallow loud tube net sand tenant';

describe('MnemonicSigner', () => {
  it('derives the same addresses for the same mnemonic, account and range', async () => {
    const a = await new MnemonicSigner(devMnemonic).addresses({
      accountIndex: 1,
      count: 2,
      bech32Hrp: 'watt',
    });
    const b = await new MnemonicSigner(devMnemonic).addresses({
      accountIndex: 1,
      start: 1,
      count: 1,
      bech32Hrp: 'watt',
    });
    expect(a).toHaveLength(2);
    expect(a[1]).toBe(b[0]);
    for (const address of a) expect(isBech32Address(address, 'watt')).toBe(true);
  });

  it('derives different addresses per account', async () => {
    const signer = new MnemonicSigner(generateMnemonic());
    const [a] = await signer.addresses({ accountIndex: 0, count: 1, bech32Hrp: 'watt' });
    const [b] = await signer.addresses({ accountIndex: 1, count: 1, bech32Hrp: 'watt' });
    expect(a).not.toBe(b);
  });

  it('rejects an invalid mnemonic with a message naming the field', () => {
    expect(() => new MnemonicSigner('not a mnemonic')).toThrow(/^mnemonic: must be a valid 24-word/);
  });

  it('never serialises its secret', () => {
    const signer = new MnemonicSigner(devMnemonic);
    expect(JSON.stringify({ signer })).not.toContain('exhaust');
    expect(Object.keys(signer)).toHaveLength(0);
  });
});

describe('addresses', () => {
  it('checks the HRP', async () => {
    const [address] = await new MnemonicSigner(devMnemonic).addresses({ count: 1, bech32Hrp: 'watt' });
    expect(isBech32Address(address!, 'watt')).toBe(true);
    expect(isBech32Address(address!, 'tst')).toBe(false);
    expect(isBech32Address('watt1qqqq', 'watt')).toBe(false);
    expect(isBech32Address('')).toBe(false);
  });

  it('round-trips bech32 and hex', async () => {
    const [address] = await new MnemonicSigner(devMnemonic).addresses({ count: 1, bech32Hrp: 'watt' });
    expect(hexToBech32(bech32ToHex(address!), 'watt')).toBe(address);
    expect(() => bech32ToHex('nonsense')).toThrow(/^address: /);
  });
});

describe('storage deposits under our rent structure', () => {
  it('a basic output needs 4260 base units, a micro-payment output 5060', async () => {
    const [payee, payer] = await new MnemonicSigner(devMnemonic).addresses({ count: 2, bech32Hrp: 'watt' });
    expect(basicOutputDeposit(payee!, rent)).toBe(4260n);
    expect(microOutputDeposit(payee!, payer!, rent)).toBe(5060n);
  });
});

describe('hex text', () => {
  it('round-trips UTF-8', () => {
    expect(utf8ToHex('tanglewatt')).toBe('0x74616e676c6577617474');
    expect(hexToUtf8(utf8ToHex('Wh ⚡'))).toBe('Wh ⚡');
  });
});

describe('blockBytesOf', () => {
  it('counts the whole block around a payload, with the most parents a block may have', () => {
    const data = `0x${'ab'.repeat(100)}`;
    const payload = JSON.stringify({ type: 5, tag: '0x1234', data });
    // version 1 + parent count 1 + 8 parents × 32 + payload length 4 + tagged data (4 + 1 + 2 + 4 + 100) + nonce 8
    expect(blockBytesOf(payload)).toBe(1 + 1 + 8 * 32 + 4 + (4 + 1 + 2 + 4 + 100) + 8);
  });
});

describe('LedgerClient.signTransaction on an unconfirmed output', () => {
  it('builds and signs without the node: the given output spent, our outputs in order, the remainder last', async () => {
    const signer = new MnemonicSigner(devMnemonic);
    const [own] = await signer.addresses({ count: 1, bech32Hrp: 'watt' });
    const payee = hexToBech32(`0x${'cd'.repeat(32)}`, 'watt');
    const plain = (hex: string, amount: string) => ({
      type: 3,
      amount,
      unlockConditions: [{ type: 0, address: { type: 0, pubKeyHash: hex } }],
    });
    // A signed transaction not confirmed yet, as journaled: it pays someone and sends 1 000 000 back to us.
    const parent = JSON.stringify({
      type: 6,
      essence: {
        type: 1,
        networkId: '8342982141227064571',
        inputsCommitment: `0x${'11'.repeat(32)}`,
        inputs: [{ type: 0, transactionId: `0x${'22'.repeat(32)}`, transactionOutputIndex: 0 }],
        outputs: [plain(bech32ToHex(payee), '50000'), plain(bech32ToHex(own!), '1000000')],
      },
      unlocks: [
        {
          type: 0,
          signature: { type: 0, publicKey: `0x${'33'.repeat(32)}`, signature: `0x${'44'.repeat(64)}` },
        },
      ],
    });
    const client = new LedgerClient('http://127.0.0.1:9'); // nothing listens: the node is never asked
    const parentInput = `0x${'22'.repeat(32)}0000`;
    await expect(
      client.signTransaction({
        signer,
        inputs: [parentInput],
        outputs: [],
        remainderAddress: own!,
        unconfirmedInputs: { [parentInput]: parent },
      }),
    ).rejects.toThrow(/inputs: .* is not an output of the transaction given for it/);
    const change = `${transactionIdOf(parent)}0100`;
    const signed = await client.signTransaction({
      signer,
      inputs: [change],
      outputs: [{ kind: 'basic', address: payee, amount: 60_000n }],
      remainderAddress: own!,
      tag: 'tanglewatt/pay/v1',
      data: '{"v":1}',
      unconfirmedInputs: { [change]: parent },
    });
    expect(signed.outputAmounts).toEqual([60_000n, 940_000n]);
    const essence = JSON.parse(signed.payloadJson).essence;
    expect(essence.networkId).toBe('8342982141227064571');
    expect(essence.inputs).toEqual([
      { type: 0, transactionId: transactionIdOf(parent), transactionOutputIndex: 1 },
    ]);
    expect(hexToUtf8(essence.payload.data)).toBe('{"v":1}');
    expect(JSON.parse(signed.payloadJson).unlocks).toHaveLength(1);
    await client.destroy();
  });
});

describe('LedgerClient.signTransaction on confirmed outputs it is given in full', () => {
  it('asks the node only for its info (the network id), not for each input, and commits to the given outputs', async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url!);
      if (req.url === '/api/core/v2/info')
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(nodeInfo('tanglewatt-dev')));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const signer = new MnemonicSigner(devMnemonic);
    const [own] = await signer.addresses({ count: 1, bech32Hrp: 'watt' });
    const payee = hexToBech32(`0x${'cd'.repeat(32)}`, 'watt');
    const a = `0x${'55'.repeat(32)}0100`;
    const b = `0x${'66'.repeat(32)}0000`;
    const client = new LedgerClient(url);
    try {
      const sign = (inputs: string[]) =>
        client.signTransaction({
          signer,
          inputs,
          outputs: [{ kind: 'basic', address: payee, amount: 70_000n }],
          remainderAddress: own!,
          knownInputs: {
            [a]: { kind: 'basic', address: own!, amount: 50_000n },
            [b]: { kind: 'basic', address: own!, amount: 30_000n },
          },
        });
      const first = await sign([a, b]);
      const second = await sign([b, a]);
      expect(first.outputAmounts).toEqual([70_000n, 10_000n]);
      expect(second.transactionId).not.toBe(first.transactionId);
      const essence = JSON.parse(first.payloadJson).essence;
      expect(essence.inputs).toEqual([
        { type: 0, transactionId: `0x${'55'.repeat(32)}`, transactionOutputIndex: 1 },
        { type: 0, transactionId: `0x${'66'.repeat(32)}`, transactionOutputIndex: 0 },
      ]);
      // The commitment is over the inputs' outputs exactly as the ledger holds them.
      const plain = (amount: bigint) =>
        new sdkModule.BasicOutput(amount, [
          new sdkModule.AddressUnlockCondition(new sdkModule.Ed25519Address(bech32ToHex(own!))),
        ]);
      expect(essence.inputsCommitment).toBe(
        sdkModule.Utils.computeInputsCommitment([plain(50_000n), plain(30_000n)]),
      );
      expect(essence.networkId).toMatch(/^[1-9][0-9]*$/);
      expect(asked.filter((p) => p.includes('/outputs/'))).toEqual([]);
      expect(asked.filter((p) => p === '/api/core/v2/info').length).toBeLessThanOrEqual(2);
    } finally {
      await client.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  it('leaves an input it is not given to the SDK, which asks the node for it', async () => {
    const client = new LedgerClient('http://127.0.0.1:9');
    const signer = new MnemonicSigner(devMnemonic);
    const [own] = await signer.addresses({ count: 1, bech32Hrp: 'watt' });
    const a = `0x${'55'.repeat(32)}0100`;
    const error = await client
      .signTransaction({
        signer,
        inputs: [a, `0x${'77'.repeat(32)}0000`],
        outputs: [],
        remainderAddress: own!,
        knownInputs: { [a]: { kind: 'basic', address: own!, amount: 50_000n } },
      })
      .catch((e: unknown) => e);
    expect(isError(error, 'NODE_UNREACHABLE')).toBe(true);
    await client.destroy();
  });
});

function nodeInfo(networkName: string) {
  const milestone = {
    index: 1,
    timestamp: Math.floor(Date.now() / 1000),
    milestoneId: `0x${'00'.repeat(32)}`,
  };
  return {
    name: 'HORNET',
    version: '2.0.1',
    status: {
      isHealthy: true,
      latestMilestone: milestone,
      confirmedMilestone: milestone,
      pruningIndex: 0,
    },
    supportedProtocolVersions: [2],
    protocol: {
      version: 2,
      networkName,
      bech32Hrp: 'watt',
      minPowScore: 0,
      belowMaxDepth: 15,
      rentStructure: rent,
      tokenSupply: '2779530283277761',
    },
    pendingProtocolParameters: [],
    baseToken: { name: 'Watt', tickerSymbol: 'WATT', unit: 'WATT', decimals: 6, useMetricPrefix: false },
    metrics: { blocksPerSecond: 0, referencedBlocksPerSecond: 0, referencedRate: 0 },
    features: [],
  };
}
