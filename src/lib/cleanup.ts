import {ux} from '@oclif/core'
import {Cancelled, SafeRollbackError, messageOf} from './errors.js'

// Runs `work`, then `restore` whatever happens: success, failure, or Ctrl-C. On Ctrl-C the restore
// runs before the process exits, and the user is told where things stand.
export async function withRestore<T>(restore: () => Promise<string | void>, work: () => Promise<T>): Promise<T> {
  let restored: Promise<string | void> | undefined
  const restoreOnce = () => (restored ??= restore())
  const onSignal = () => {
    // A running spinner holds back what is written to the terminal; stop it so that nothing is lost.
    if (ux.action.running) ux.action.stop('interrupted')
    process.stderr.write('\nInterrupted: putting things back...\n')
    restoreOnce().then(
      state => finishInterrupted(typeof state === 'string' ? state : undefined),
      error => finishInterrupted(`Could not put everything back: ${(error as Error).message}`),
    )
  }
  // Other handlers (the CLI's telemetry) exit at once on a signal; ours must finish its restore
  // first, so they stand aside while the work runs.
  const standingAside = (['SIGINT', 'SIGTERM'] as const).map(signal => {
    const others = process.listeners(signal)
    process.removeAllListeners(signal)
    process.once(signal, onSignal)
    return {signal, others}
  })
  try {
    return await work()
  } catch (error) {
    const state = await restoreOnce().catch(error_ => `Could not put everything back: ${(error_ as Error).message}`)
    if (typeof state !== 'string') throw error
    if (error instanceof SafeRollbackError) throw Object.assign(error, {state: [error.state, state].filter(Boolean).join(' ')})
    throw new SafeRollbackError(messageOf(error), state)
  } finally {
    for (const {signal, others} of standingAside) {
      process.removeListener(signal, onSignal)
      for (const listener of others) process.on(signal, listener as () => void)
    }
    await restoreOnce().catch(() => {})
  }
}

function finishInterrupted(state?: string) {
  const cancelled = new Cancelled(state)
  process.stderr.write(`Error: ${cancelled.message}\n${state ?? ''}\n`)
  process.exit(cancelled.exitCode)
}
