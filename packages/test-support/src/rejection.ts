/**
 * What a promise rejects with, checked to be a `type`: throws (failing the test) if the promise
 * resolves or rejects with anything else.
 */
export async function rejectionOf<E>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  if (error === undefined) throw new Error(`expected a rejection with ${type.name}, but the promise resolved`);
  if (!(error instanceof type)) throw new Error(`expected a ${type.name}, got ${String(error)}`, { cause: error });
  return error;
}
