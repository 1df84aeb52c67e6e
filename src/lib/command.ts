import {color} from '@heroku-cli/color'
import type {Interfaces} from '@oclif/core'
import {Api, ApiFailure} from './api/client.js'
import {blocking, type Check} from './checks.js'
import {Cancelled, messageOf, Refused, SafeRollbackError} from './errors.js'
import {assertNoEmptyValues} from './input.js'
import {exitCodeOf, Interrupts} from './interrupts.js'
import {forTerminal, printable} from './names.js'
import type {Plan, View} from './plan.js'
import {confirmApp} from './prompts.js'
import type {Notifier} from './notify/index.js'
import {dueTitle} from './runner/history.js'
import {listRuns, openItems, type RunRecord} from './runner/log.js'
import {RunFailed} from './runner/report.js'
import {Progress, RunOutcome, Runner} from './runner/runner.js'
import type {Step} from './runner/step.js'
import {actions, interpreter} from './registry.js'
import {guardDebugOutput, redact, registerSecrets} from './secrets.js'
import {shellQuote} from './shell.js'
import {debugModuleFiles} from './cli-modules.js'
import {Command, ux} from './heroku.js'

// The base of the plugin's commands: one API client, one runner for every change, --json that is always
// one document, signals handled from start to end, and the one place where failures become a one-line
// message, the state things are in, and an exit code. All of it redacted, and every text it writes goes
// through `forTerminal` (names.ts): no control character from a name reaches the terminal raw.
export abstract class GuardedCommand extends Command {
  static override enableJsonFlag = true

  private readonly interrupts = new Interrupts(signal => this.cancelBeforeChanges(signal))
  private client?: Api
  // Whether the runner was given steps: until then, whatever fails, nothing was changed.
  private changing = false
  // What is true after a signal ends the command before the runner started: a command that writes
  // outside the runner (migrate:check on --database-url) says what it leaves.
  protected cancelledState = 'Nothing was changed.'
  // --notify as given (flags.ts), and the warnings said before the run: both go with the run (its events, its log).
  private notifyGiven?: string[]
  private notifier?: Promise<Notifier | undefined>
  private readonly said: string[] = []

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

  // Every command parses here: an empty value (`--verify ""`) is refused before anything else happens.
  protected override async parse<F extends Values, B extends Values, A extends Values>(options?: Interfaces.Input<F, B, A>, argv?: string[]): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    assertNoEmptyValues(parsed)
    const notify = (parsed.flags as {notify?: string[]}).notify
    if (Array.isArray(notify) && notify.length > 0) {
      const {assertTargets, isUrl} = await import('./notify/targets.js')
      assertTargets(notify)
      // A webhook's URL is its secret: hidden from here on wherever it might show up.
      registerSecrets(notify.filter(isUrl))
      this.notifyGiven = notify
    }
    return parsed
  }

  override log(message = '', ...args: any[]) {
    super.log(typeof message === 'string' ? terminal(message) : message, ...args)
  }

  override warn(input: string | Error) {
    super.warn(typeof input === 'string' ? terminal(input) : input)
    if (typeof input === 'string') this.said.push(redact(input))
    return input
  }

  // JSON escapes C0 controls itself; DEL and C1 controls, which it leaves raw in strings, become \u escapes.
  override logJson(json: unknown) {
    ux.stdout(ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json}).replace(/[\u007F-\u009F]/g, ch => printable(ch)))
  }

  // Every request of the command goes through this client (see api/client.ts).
  protected get api(): Api {
    return (this.client ??= new Api(this.heroku))
  }

  // The guarded skeleton every changing command shares: the plan shown, refused when a check fails (with
  // the plan in --json), nothing to do, the dry run with the exact command that carries it out, the
  // confirmation, the run, the closing message; one JSON document from the plan and what became of it.
  protected async guarded<P extends Plan>(plan: P, view: View<P>, flags: {confirm?: string, 'dry-run'?: boolean}, resources?: Map<string, unknown>) {
    const steps = plan.steps.map(interpreter.build)
    this.log(view.preview(plan, steps))
    const failed = blocking(plan.checks)
    if (failed.length > 0) {
      if (!flags['dry-run']) await (await this.notify())?.blocked({app: plan.app, what: plan.what, checks: failed})
      throw new Refused(view.refusal?.(plan, failed) ?? failed.map(c => c.detail).join(' '), view.json(plan, steps))
    }
    for (const warning of view.warnings?.(plan) ?? []) this.warn(warning)
    if (steps.length === 0) {
      this.log(view.nothingToDo?.(plan) ?? '\nNothing to do.')
      return view.json(plan, steps)
    }
    if (flags['dry-run']) {
      const command = shellQuote(plan.rerun)
      this.log(view.dryRun?.(plan, command) ?? `\nDry run: nothing was changed. To do exactly this: ${command}`)
      return view.json(plan, steps)
    }
    if (plan.confirm !== undefined) await confirmApp(plan.app, flags.confirm, plan.confirm)
    const outcome = await this.execute(steps, {
      app: plan.app, what: plan.what, timeoutMs: plan.timeoutMs, resources, checks: plan.checks, rerun: plan.rerun, report: run => view.json(plan, steps, run),
    }).catch(error => {
      const more = error instanceof RunFailed ? view.unfinished?.(plan, error.outcome) ?? [] : []
      if (more.length > 0) error.state = [error.state, ...more].join('\n')
      throw error
    })
    this.log(view.closing(plan, outcome))
    for (const warning of view.afterwards?.(plan, outcome) ?? []) this.warn(warning)
    return view.json(plan, steps, outcome)
  }

  // Runs the steps with the one runner; a run that did not succeed becomes a RunFailed carrying `details`.
  // The people following the incident are told (--notify): a start event before the first step, an
  // outcome event at the end; a sink that fails costs at most a few seconds and one warning line.
  // `checks` and `rerun` (the argv that carries out the same plan) go to the run log for the postmortem;
  // a command that has no rerun of its own records the command line it was given.
  protected async execute(steps: Step<any>[], run: {app: string, what: string, timeoutMs: number, resources?: Map<string, unknown>, continuing?: RunRecord, checks?: Check[], rerun?: string[], report(outcome: RunOutcome): Record<string, unknown>}): Promise<RunOutcome> {
    const notifier = await this.notify()
    const runner = new Runner({
      api: this.api, actions, interrupts: this.interrupts, progress: this.progress, dataDir: this.config.dataDir,
      command: this.id ?? 'unknown', app: run.app, what: run.what, timeoutMs: run.timeoutMs, resources: run.resources,
      context: {checks: run.checks, warnings: [...this.said], rerun: redact(shellQuote(run.rerun ?? this.typed()))},
      begun: notifier && (log => notifier.started(log)),
    })
    this.changing = true
    let outcome: RunOutcome | undefined
    try {
      outcome = await runner.run(steps, run.continuing)
    } finally {
      // The run is over: a signal now only stops the waiting for the sinks, and the command ends as the run did.
      if (notifier) await this.interrupts.during(() => notifier.stopWaiting(), () => notifier.finished(outcome))
    }
    if (outcome.status !== 'succeeded') throw new RunFailed(outcome, run.report(outcome))
    return outcome
  }

  // The sinks of this run: --notify, else the team default (HEROKU_SAFE_ROLLBACK_NOTIFY); the notify
  // module is loaded only when one of them names something.
  private notify(): Promise<Notifier | undefined> {
    this.notifier ??= (async () => {
      if (!this.notifyGiven && !process.env.HEROKU_SAFE_ROLLBACK_NOTIFY?.trim()) return undefined
      const {Notifier} = await import('./notify/index.js')
      return Notifier.for({given: this.notifyGiven, env: process.env, command: this.id ?? 'unknown', warn: text => this.warnEvenInJson(text)})
    })()
    return this.notifier
  }

  // A sink that failed is said with --json too (oclif keeps warnings back then): on stderr, one line.
  private warnEvenInJson(text: string) {
    if (!this.jsonEnabled()) return this.warn(text)
    this.said.push(redact(text))
    process.stderr.write(terminal(`Warning: ${redact(text)}\n`))
  }

  // The command line as given, without where it notifies (a webhook's URL is a secret) and --json.
  private typed(): string[] {
    const argv = this.argv.filter((arg, i, all) => !(arg === '--notify' || arg.startsWith('--notify=') || all[i - 1] === '--notify' || arg === '--json'))
    return ['heroku', this.id ?? '', ...argv]
  }

  // A run on this app that did not finish (a killed process, a dropped SSH session) is said first.
  protected noticeUnfinished(app: string) {
    const last = listRuns(this.config.dataDir, app).find(run => run.status !== 'running')
    if (!last) return
    const {settle, undo} = openItems(last)
    if (settle.length + undo.length === 0) return
    const left = [...settle.map(s => actions.title(s.running!.settle)), ...undo.map(s => dueTitle(actions, last, s))].map(title => `${title.replace(/^./, c => c.toLowerCase())} is still due`)
    this.warn(`The last run on ${app} (${last.what}, ${last.startedAt}, run ${last.id}) did not finish: ${left.join('; ')}. Finish it with \`heroku recovery:resume ${last.id}\`.`)
  }

  // Progress on stderr: a spinner in a terminal, one line per update otherwise, nothing but messages with --json.
  // The spinner only where oclif draws one (a TTY, no CI, a capable TERM): its fallback writes status
  // updates one after the other on one line ("...provisionedWaiting for..."), so outside the spinner
  // every update is a line of its own, written here.
  protected get progress(): Progress {
    const quiet = this.jsonEnabled()
    const spinner = Boolean(process.stderr.isTTY) && ux.action.type === 'spinner'
    const write = (text: string) => process.stderr.write(terminal(text))
    const line = (text: string) => write(text.endsWith('\n') ? text : `${text}\n`)
    // A line of its own above the spinner, which goes on after it.
    const above = (text: string) => spinner && ux.action.running ? ux.action.pause(() => line(text)) : line(text)
    let last = ''
    return {
      start: title => {
        last = ''
        if (quiet) return
        if (spinner) ux.action.start(terminal(title))
        else line(`${title}...`)
      },
      status: text => {
        if (quiet || text === last) return
        last = text
        if (spinner) ux.action.status = terminal(text)
        else line(`  ${text}`)
      },
      stop: result => quiet || (spinner ? ux.action.stop(terminal(result)) : line(`  ${result}`)),
      say: above,
      line: text => quiet || above(text),
      // Release phase output: whole lines, above the spinner.
      output: text => quiet || !text || above(text),
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

  // The one place a failure becomes words. A message is one line: a name's newline in it is escaped.
  // An error the runner did not report (a read that failed, a query of --keys-from-db) changed nothing
  // when the runner had not started: then that is what the state says.
  private report(error: Error) {
    const known = error instanceof SafeRollbackError
    const text = redact(messageOf(error))
    const state = known ? error.state : this.changing ? 'The command stopped before it finished; check the app with `heroku releases` and `heroku ps`.' : 'Nothing was changed.'
    process.exitCode = known ? error.exitCode : 1
    if (this.jsonEnabled()) {
      const status = error instanceof ApiFailure ? error.status : undefined
      this.logJson({...(known ? error.details : undefined), error: {message: text.split('\n')[0], state: state ? redact(state) : undefined, status, cancelled: error instanceof Cancelled || undefined}})
      return
    }
    try {
      if (ux.action.running) ux.action.stop('!')
    } catch {}
    process.stderr.write(terminal(`Error: ${printable(text.trim())}\n`))
    if (state) process.stderr.write(terminal(`${redact(state)}\n`))
    if (process.env.DEBUG && !known) process.stderr.write(terminal(`${redact(String(error?.stack ?? ''))}\n`))
  }
}

type Values = {[name: string]: any}

// Colour passes only where @heroku-cli/color writes it (a terminal); see `forTerminal`.
const terminal = (text: string) => forTerminal(text, color.level > 0)
