/**
 * A sleep that a wake ends early. A wake while nobody sleeps ends the next sleep at once, so an event
 * that arrives during a step (a new payment, a confirmed milestone) is never lost until the next timer.
 */
export class Waker {
  private pending = false;
  private ring: (() => void) | undefined;

  wake(): void {
    if (this.ring) this.ring();
    else this.pending = true;
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.ring = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.ring = done;
    });
  }
}
