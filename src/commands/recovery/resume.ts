import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {guardFlags, notifyFlag, waitTimeoutFlag} from '../../lib/flags.js'
import {confirmApp} from '../../lib/prompts.js'
import {actions, interpreter} from '../../lib/registry.js'
import {describeRecord, finishingSteps, unreadableWarning} from '../../lib/runner/history.js'
import {findRun, lockRun, openItems, RunLog, type RunRecord} from '../../lib/runner/log.js'
import {trustedActions, trustedPlan} from '../../lib/runner/trust.js'
import {stepList} from '../../lib/render/index.js'
import {runJson} from '../../lib/runner/report.js'
import type {Step} from '../../lib/runner/step.js'
import {Args, Flags} from '../../lib/heroku.js'

export default class RecoveryResume extends GuardedCommand {
  static override description = `finish a run that did not: put back what it changed, or with --continue carry it out to the end
For a run whose process stopped before it finished (Ctrl-C twice, a dropped SSH session, a killed process).
By default it waits for work still running at Heroku (a restore), then performs the put-backs that were
due (maintenance mode off, workers scaled back, a scratch database destroyed), newest first, each checked
by reading the state back. With --continue it goes on with the run's own plan from where it stopped: a
change the run had made is not made again, one it was making is read back first. What is already as it
should be is left alone. A log asking for what its run cannot have done (another app, a database the run
did not create) is refused; one process at a time finishes a run.`

  static override examples = [
    '<%= config.bin %> recovery:resume 261125-221530-ab12',
    '<%= config.bin %> recovery:resume 261125-221530-ab12 --confirm my-app',
    '<%= config.bin %> recovery:resume 261125-221530-ab12 --continue --confirm my-app',
  ]

  static override args = {
    run: Args.string({description: 'the run to finish, as recovery:log lists it', required: true}),
  }

  static override flags = {
    ...guardFlags,
    ...waitTimeoutFlag('2h'),
    continue: Flags.boolean({description: 'carry the run out to the end (its remaining steps), instead of putting back what it did'}),
    ...notifyFlag,
  }

  override async run() {
    const {args, flags} = await this.parse(RecoveryResume)
    const record = findRun(this.config.dataDir, args.run)
    if (!record) throw new Refused(`No run ${args.run} on this machine: \`heroku recovery:log\` lists them.`)
    if (record.status === 'running') throw new Refused(`Run ${record.id} is still running (process ${record.pid} on ${record.host}): let it finish, or stop it first.`)
    const unreadable = unreadableWarning(record)
    if (unreadable) this.warn(unreadable)
    this.log(describeRecord(actions, record))
    const steps = flags.continue ? await this.remaining(record) : await this.finishing(record)
    if (steps.length === 0) {
      this.log(`\nNothing to finish: run ${record.id} ${record.status === 'finished' ? 'was finished already' : `ended ${record.status}`} with nothing left ${flags.continue ? 'to do' : 'to put back'}.`)
      return {run: record.id, finished: [], dryRun: flags['dry-run']}
    }
    const shown = flags.continue ? steps.filter(step => record.steps.find(s => s.id === step.id)?.state !== 'done') : steps
    this.log(['', flags.continue ? 'Steps to go on with:' : 'Steps:', ...stepList(shown)].join('\n'))
    if (flags['dry-run']) {
      this.log('\nDry run: nothing was changed.')
      return {run: record.id, steps: steps.map(s => s.title), dryRun: true}
    }
    const unlock = lockRun(record)
    try {
      await confirmApp(record.app, flags.confirm, `This ${flags.continue ? 'carries out the rest of' : 'finishes'} run ${record.id} (${record.what}) on ${record.app}.`)
      return await (flags.continue ? this.goOn(record, steps, flags['wait-timeout']) : this.putBack(record, steps, flags['wait-timeout']))
    } finally {
      unlock()
    }
  }

  // What was due: the work it left running, then the put-backs, from the actions the log names (each checked).
  private async finishing(record: RunRecord): Promise<Step<any>[]> {
    const open = openItems(record)
    if (open.settle.length + open.undo.length === 0) return []
    await trustedActions(actions, this.api, record, [...open.settle, ...open.undo])
    return finishingSteps(actions, record)
  }

  // The run's own plan from where it stopped; the undos still due are checked too, since a failure while
  // going on puts them back (an undo a later step relies on, such as the new database's after the promote, is not).
  private async remaining(record: RunRecord): Promise<Step<any>[]> {
    if (['succeeded', 'finished'].includes(record.status)) return []
    const planned = await trustedPlan(interpreter, this.api, record)
    const open = openItems(record)
    await trustedActions(actions, this.api, record, [...open.settle, ...open.undo])
    const steps = planned.map(interpreter.build)
    return record.steps.every(s => s.state === 'done') ? [] : steps
  }

  private async putBack(record: RunRecord, steps: Step<any>[], waitTimeout: string) {
    const outcome = await this.execute(steps, {
      app: record.app, what: `finish run ${record.id}`, timeoutMs: durationFlag(waitTimeout, '--wait-timeout'), report: run => ({run: record.id, resumedBy: runJson(run)}),
    })
    RunLog.attach(record.file).append({event: 'end', status: 'finished', by: outcome.run})
    // How the work it left running ended (a release phase that succeeded, or failed), then the put-backs.
    const ended = outcome.steps.filter(s => s.id.startsWith('settle-') && s.note).map(s => `${s.note}; `).join('')
    this.log(`\nRun ${record.id} is finished: ${ended}everything due is put back.`)
    return {run: record.id, resumedBy: runJson(outcome)}
  }

  private async goOn(record: RunRecord, steps: Step<any>[], waitTimeout: string) {
    const outcome = await this.execute(steps, {
      app: record.app, what: record.what, timeoutMs: durationFlag(waitTimeout, '--wait-timeout'), continuing: record, report: run => ({run: record.id, continued: runJson(run)}),
    })
    this.log(`\nRun ${record.id} is finished: every step is done (${record.what}).`)
    return {run: record.id, continued: runJson(outcome)}
  }
}
