import {Api, ApiFailure} from './api/client.js'
import {Cancelled, messageOf, SafeRollbackError} from './errors.js'
import {exitCodeOf, Interrupts} from './interrupts.js'
import {dueTitle} from './runner/history.js'
import {listRuns, openItems} from './runner/log.js'
import {RunFailed} from './runner/report.js'
import {Progress, RunOutcome, Runner} from './runner/runner.js'
import type {Step} from './runner/step.js'
import {guardDebugOutput, redact} from './secrets.js'
import {debugModuleFiles} from './cli-modules.js'
import {Command, ux} from './heroku.js'

// The base of the plugin's commands: one API client, one runner for every change, --json that is always
// one document, signals handled from start to end, and the one place where failures become a one-line
// message, the state things are in, and an exit code. All of it redacted.
export abstract class GuardedCommand extends Command {
  static override enableJsonFlag = true

  private readonly interrupts = new Interrupts(signal => this.cancelBeforeChanges(signal))
  private client?: Api
  // What is true after a signal ends the command before the runner started: a command that writes
  // outside the runner (migrate:check on --database-url) says what it leaves.
  protected cancelledState = 'Nothing was changed.'

  override async init() {
    await guardDebugOutput(debugModuleFiles())
    // A terminal that went away (SIGHUP) must not crash the put-back with EPIPE.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
    this.interrupts.install()
    await super.init()
  }

  override async finally(error: Error | undefined) {
    this.interrupts.uninstall()
    await super.finally(error)
  }

  // Every request of the command goes through this client (see api/client.ts).
  protected get api(): Api {
    return (this.client ??= new Api(this.heroku))
  }

  // Runs the steps with the one runner; a run that did not succeed becomes a RunFailed carrying `details`.
  protected async execute(steps: Step<any>[], run: {app: string, what: string, timeoutMs: number, report(outcome: RunOutcome): Record<string, unknown>}): Promise<RunOutcome> {
    const runner = new Runner({
      api: this.api, interrupts: this.interrupts, progress: this.progress, dataDir: this.config.dataDir,
      command: this.id ?? 'unknown', app: run.app, what: run.what, timeoutMs: run.timeoutMs,
    })
    const outcome = await runner.run(steps)
    if (outcome.status !== 'succeeded') throw new RunFailed(outcome, run.report(outcome))
    return outcome
  }

  // A run on this app that did not finish (a killed process, a dropped SSH session) is said first.
  protected noticeUnfinished(app: string) {
    const last = listRuns(this.config.dataDir, app).find(run => run.status !== 'running')
    if (!last) return
    const open = openItems(last)
    const {settle, undo} = open
    if (settle.length + undo.length === 0) return
    const left = [...settle.map(s => `${s.running!.running} was running`), ...undo.map(s => `${dueTitle(open, s).replace(/^./, c => c.toLowerCase())} is still due`)]
    this.warn(`The last run on ${app} (${last.what}, ${last.startedAt}, run ${last.id}) did not finish: ${left.join('; ')}. Finish it with \`heroku recovery:resume ${last.id}\`.`)
  }

  // Progress on stderr: a spinner in a terminal, one line per update otherwise, nothing but messages with --json.
  // The spinner only where oclif draws one (a TTY, no CI, a capable TERM): its fallback writes status
  // updates one after the other on one line ("...provisionedWaiting for..."), so outside the spinner
  // every update is a line of its own, written here.
  protected get progress(): Progress {
    const quiet = this.jsonEnabled()
    const spinner = Boolean(process.stderr.isTTY) && ux.action.type === 'spinner'
    const write = (text: string) => process.stderr.write(text)
    const line = (text: string) => write(text.endsWith('\n') ? text : `${text}\n`)
    let last = ''
    return {
      start: title => {
        last = ''
        if (quiet) return
        if (spinner) ux.action.start(title)
        else line(`${title}...`)
      },
      status: text => {
        if (quiet || text === last) return
        last = text
        if (spinner) ux.action.status = text
        else line(`  ${text}`)
      },
      stop: result => quiet || (spinner ? ux.action.stop(result) : line(`  ${result}`)),
      say: text => {
        if (spinner && ux.action.running) ux.action.pause(() => line(text))
        else line(text)
      },
      // Release phase output: whole lines, above the spinner.
      output: text => {
        if (quiet || !text) return
        if (spinner && ux.action.running) ux.action.pause(() => line(text))
        else line(text)
      },
    }
  }

  // Before the first change, a signal ends the command at once: nothing was changed.
  private cancelBeforeChanges(signal: NodeJS.Signals) {
    this.report(new Cancelled(exitCodeOf(signal), this.cancelledState))
    process.exit(process.exitCode)
  }

  protected override async catch(error: Error & {exitCode?: number, oclif?: {exit?: number}}): Promise<any> {
    if (error?.oclif?.exit !== undefined && !(error instanceof SafeRollbackError)) {
      if (!this.jsonEnabled()) throw error
      // A flag error with --json is still one document on stdout.
      process.exitCode = error.oclif.exit
      this.logJson({error: {message: redact(messageOf(error)).split('\n')[0], state: 'Nothing was changed.'}})
      return
    }
    this.report(error)
  }

  private report(error: Error) {
    const known = error instanceof SafeRollbackError
    const message = redact(messageOf(error)).split('\n')[0]
    const state = known ? error.state : 'The command stopped before it finished; check the app with `heroku releases` and `heroku ps`.'
    process.exitCode = known ? error.exitCode : 1
    if (this.jsonEnabled()) {
      const status = error instanceof ApiFailure ? error.status : undefined
      this.logJson({...(known ? error.details : undefined), error: {message, state: state ? redact(state) : undefined, status, cancelled: error instanceof Cancelled || undefined}})
      return
    }
    try {
      if (ux.action.running) ux.action.stop('!')
    } catch {}
    process.stderr.write(`Error: ${message}\n`)
    if (state) process.stderr.write(`${redact(state)}\n`)
    if (process.env.DEBUG && !known) process.stderr.write(`${redact(String(error?.stack ?? ''))}\n`)
  }
}
