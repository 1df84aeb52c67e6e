import {Command} from '@heroku-cli/command'
import {Cancelled, SafeRollbackError, messageOf, statusOf} from './errors.js'
import {redact} from './secrets.js'

// The base of the plugin's commands: `--json` support, and the one place where failures become
// a one-line message, a line saying what state things are in, and an exit code. All of it redacted.
export abstract class GuardedCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {exitCode?: number, oclif?: {exit?: number}}): Promise<any> {
    if (error?.oclif?.exit !== undefined && !(error instanceof SafeRollbackError)) throw error
    const known = error instanceof SafeRollbackError
    const status = statusOf(error)
    const message = redact(known ? error.message : messageOf(error)).split('\n')[0]
    const state = known ? error.state : 'The command stopped before it finished; check the app with `heroku releases` and `heroku ps`.'
    const exitCode = known ? error.exitCode : 1
    process.exitCode = exitCode
    if (this.jsonEnabled()) {
      this.logJson({error: {message, state: state ? redact(state) : undefined, status, cancelled: error instanceof Cancelled || undefined}})
      return
    }
    const {ux} = await import('@oclif/core')
    try {
      ux.action.stop('!')
    } catch {}
    process.stderr.write(`Error: ${message}\n`)
    if (state) process.stderr.write(`${redact(state)}\n`)
    if (process.env.DEBUG && !known) process.stderr.write(`${redact(String(error?.stack ?? ''))}\n`)
  }
}
