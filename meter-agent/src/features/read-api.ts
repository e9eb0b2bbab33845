import { errorMessage, MeterAgentError } from '../errors.js';
import { type ReadApi, type ReadApiSource, startReadApi } from '../http-api.js';
import type { Feature, Kernel } from '../kernel.js';

/** The read-only HTTP API for the dashboard (`http` in the config); see http-api.ts for its routes. */
export class ReadApiFeature implements Feature {
  readonly name = 'read-api';
  readonly #source: ReadApiSource;
  #api: ReadApi | undefined;

  constructor(source: ReadApiSource) {
    this.#source = source;
  }

  get url(): string | undefined {
    return this.#api?.url;
  }

  async start(kernel: Kernel): Promise<void> {
    const http = kernel.config.http;
    if (!http) return;
    try {
      this.#api = await startReadApi(this.#source, { ...http, log: kernel.log });
    } catch (error) {
      throw new MeterAgentError(
        'BAD_CONFIG',
        `http: cannot listen on ${http.host}:${http.port} (${errorMessage(error)}): choose another port`,
      );
    }
  }

  async stop(): Promise<void> {
    await this.#api?.close();
  }
}
