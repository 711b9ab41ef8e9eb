/**
 * A limit on work that may never finish (a user's model that tfjs takes forever to build or run):
 * the caller gets an error when the limit passes and goes on; whatever the work makes later is
 * handed to `late` (to be disposed) instead of being lost or left allocated.
 */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error, late?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(error());
    }, ms);
    work.then(
      (value) => {
        if (done) {
          late?.(value);
          return;
        }
        done = true;
        clearTimeout(timer);
        resolve(value);
      },
      (e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
