import {Command} from '@heroku-cli/command'
import {ux} from '@oclif/core'
import {Cancelled, SafeRollbackError, messageOf, statusOf} from './errors.js'
import {guardDebugOutput, redact} from './secrets.js'

// The base of the plugin's commands: `--json` support, and the one place where failures become
// a one-line message, a line saying what state things are in, and an exit code. All of it redacted.
export abstract class GuardedCommand extends Command {
  static override enableJsonFlag = true

  override async init() {
    await guardDebugOutput()
    await super.init()
  }

  // Progress on the spinner line; only in a terminal, where the line is redrawn rather than appended.
  protected progress = (status: string) => {
    if (!this.jsonEnabled() && process.stderr.isTTY) ux.action.status = status
  }

  protected override async catch(error: Error & {exitCode?: number, oclif?: {exit?: number}}): Promise<any> {
    if (error?.oclif?.exit !== undefined && !(error instanceof SafeRollbackError)) throw error
    const known = error instanceof SafeRollbackError
    const status = statusOf(error)
    const message = redact(known ? error.message : messageOf(error)).split('\n')[0]
    const state = known ? error.state : 'The command stopped before it finished; check the app with `heroku releases` and `heroku ps`.'
    const exitCode = known ? error.exitCode : 1
    process.exitCode = exitCode
    if (this.jsonEnabled()) {
      const details = known ? error.details : undefined
      this.logJson({...details, error: {message, state: state ? redact(state) : undefined, status, cancelled: error instanceof Cancelled || undefined}})
      return
    }
    try {
      ux.action.stop('!')
    } catch {}
    process.stderr.write(`Error: ${message}\n`)
    if (state) process.stderr.write(`${redact(state)}\n`)
    if (process.env.DEBUG && !known) process.stderr.write(`${redact(String(error?.stack ?? ''))}\n`)
  }
}
