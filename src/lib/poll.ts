import {sleep} from './abort.js'

export interface PollOptions {
  // First wait between attempts; it doubles up to `maxIntervalMs`.
  intervalMs?: number
  maxIntervalMs?: number
  timeoutMs: number
  // Consecutive failed attempts tolerated (a flaky network) before giving up.
  failureBudget?: number
  description: string
  // Ctrl-C: stop waiting at once.
  signal?: AbortSignal
  // Settles when the awaited change has probably happened (a release phase's output ended): the wait in
  // progress is cut short, once, and the next attempt made at once.
  wake?: Promise<unknown>
}

export class PollTimeout extends Error {}

// Thrown by a check to stop at once: the outcome is final, not a passing failure.
export class StopPolling extends Error {}

// A wait between attempts, cut short (its timer cleared) when `wake` settles first: true then.
async function pause(ms: number, signal: AbortSignal | undefined, wake: Promise<boolean> | undefined): Promise<boolean> {
  if (!wake) return sleep(ms, signal).then(() => false)
  const early = new AbortController()
  const stop = () => early.abort()
  signal?.addEventListener('abort', stop, {once: true})
  const timed = sleep(ms, early.signal).then(() => false)
  timed.catch(() => {})
  try {
    return await Promise.race([timed, wake])
  } finally {
    signal?.removeEventListener('abort', stop)
    stop()
  }
}

// The one polling loop of the plugin: asks `check` until it returns a value, backing off between
// attempts, tolerating a few transient failures, and giving up after `timeoutMs`.
export async function poll<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const {timeoutMs, description, signal} = options
  const maxInterval = options.maxIntervalMs ?? 5000
  const deadline = Date.now() + timeoutMs
  let interval = options.intervalMs ?? Number(process.env.SAFE_ROLLBACK_POLL_MS ?? 250)
  let failures = 0
  let wake = options.wake?.then(() => true, () => true)
  for (;;) {
    signal?.throwIfAborted()
    try {
      const result = await check()
      if (result !== undefined) return result
      failures = 0
    } catch (error) {
      if (error instanceof StopPolling || signal?.aborted || ++failures > (options.failureBudget ?? 3)) throw error
    }
    if (Date.now() + interval > deadline) throw new PollTimeout(`Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${description}.`)
    if (await pause(interval, signal, wake)) wake = undefined
    interval = Math.min(interval * 2, maxInterval)
  }
}
