import { isError } from '@tanglewatt/errors';
import { acquireDirLock } from '@tanglewatt/journal';
import { MeterAgentError } from '../errors.js';

/** One agent per data dir (see acquireDirLock: pid + boot id, a dead holder's lock is taken over). */
export async function acquireLock(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await acquireDirLock(dataDir, {
      file: 'agent.lock',
      holderName: 'meter-agent',
      hint: 'give this one another dataDir',
    });
  } catch (error) {
    if (isError(error, 'DATA_DIR_LOCKED'))
      throw new MeterAgentError('DATA_DIR_LOCKED', error.message, { cause: error });
    throw error;
  }
}
