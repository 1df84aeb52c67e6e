import {Cancelled, SafeRollbackError, messageOf} from './errors.js'

// Runs `work`, then `restore` whatever happens: success, failure, or Ctrl-C. On Ctrl-C the restore
// runs before the process exits, and the user is told where things stand.
export async function withRestore<T>(restore: () => Promise<string | void>, work: () => Promise<T>): Promise<T> {
  let restored: Promise<string | void> | undefined
  const restoreOnce = () => (restored ??= restore())
  const onSignal = () => {
    process.stderr.write('\nInterrupted: putting things back...\n')
    restoreOnce().then(
      state => finishInterrupted(typeof state === 'string' ? state : undefined),
      error => finishInterrupted(`Could not put everything back: ${(error as Error).message}`),
    )
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    return await work()
  } catch (error) {
    const state = await restoreOnce().catch(error_ => `Could not put everything back: ${(error_ as Error).message}`)
    if (typeof state !== 'string') throw error
    if (error instanceof SafeRollbackError) throw Object.assign(error, {state: [error.state, state].filter(Boolean).join(' ')})
    throw new SafeRollbackError(messageOf(error), state)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await restoreOnce().catch(() => {})
  }
}

function finishInterrupted(state?: string) {
  const cancelled = new Cancelled(state)
  process.stderr.write(`Error: ${cancelled.message}\n${state ?? ''}\n`)
  process.exit(cancelled.exitCode)
}
