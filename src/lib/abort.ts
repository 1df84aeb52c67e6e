// Waiting that stops when the engineer presses Ctrl-C: every pause and poll takes the run's signal.

export class Aborted extends Error {
  override name = 'AbortError'
  constructor() {
    super('cancelled')
  }
}

// Also an API request cut off by the signal (api/client.ts classifies it with the id 'aborted').
export const isAbort = (error: unknown) =>
  error instanceof Aborted || (error as Error)?.name === 'AbortError' || (error as {code?: string})?.code === 'ABORT_ERR'
  || (error as {id?: string})?.id === 'aborted'

// Gives an interrupted wait the words that say where things stand.
export async function explainStop<T>(work: Promise<T>, explanation: string): Promise<T> {
  try {
    return await work
  } catch (error) {
    if (isAbort(error)) throw Object.assign(new Aborted(), {message: explanation})
    throw error
  }
}

// Settles like `promise`, or rejects with Aborted as soon as `signal` fires.
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(new Aborted())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Aborted())
    signal.addEventListener('abort', onAbort, {once: true})
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

export const sleep = (ms: number, signal?: AbortSignal) => abortable(new Promise<void>(resolve => {
  const timer = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => clearTimeout(timer), {once: true})
}), signal)
