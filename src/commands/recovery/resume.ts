import {GuardedCommand} from '../../lib/command.js'
import {notifyFlag} from '../../lib/flags.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {confirmApp} from '../../lib/prompts.js'
import {actions} from '../../lib/registry.js'
import {describeRecord, finishingSteps, unreadableWarning} from '../../lib/runner/history.js'
import {findRun, lockRun, openItems, RunLog} from '../../lib/runner/log.js'
import {trustedActions} from '../../lib/runner/trust.js'
import {stepList} from '../../lib/render/index.js'
import {runJson} from '../../lib/runner/report.js'
import {Args, Flags} from '../../lib/heroku.js'

export default class RecoveryResume extends GuardedCommand {
  static override description = `finish a run that did not: wait for what it left running, then put back what it changed
For a run whose process stopped before it could put things back (Ctrl-C twice, a dropped SSH session,
a killed process): waits for work still running at Heroku (a restore), then performs the put-backs
that were due (maintenance mode off, workers scaled back, a scratch database destroyed), newest first,
each checked by reading the state back. What is already as it should be is left alone. A log asking for
what its run cannot have done (another app, a database the run did not create) is refused; one process
at a time finishes a run.`

  static override examples = [
    '<%= config.bin %> recovery:resume 261125-221530-ab12',
    '<%= config.bin %> recovery:resume 261125-221530-ab12 --confirm my-app',
  ]

  static override args = {
    run: Args.string({description: 'the run to finish, as recovery:log lists it', required: true}),
  }

  static override flags = {
    confirm: Flags.string({description: 'the app name, to run without being asked'}),
    'dry-run': Flags.boolean({description: 'show what would be done, change nothing'}),
    'wait-timeout': Flags.string({description: 'how long to wait for work still running at Heroku', default: '2h'}),
    ...notifyFlag,
  }

  override async run() {
    const {args, flags} = await this.parse(RecoveryResume)
    const record = findRun(this.config.dataDir, args.run)
    if (!record) throw new Refused(`No run ${args.run} on this machine: \`heroku recovery:log\` lists them.`)
    if (record.status === 'running') throw new Refused(`Run ${record.id} is still running (process ${record.pid} on ${record.host}): let it finish, or stop it first.`)
    const open = openItems(record)
    const unreadable = unreadableWarning(record)
    if (unreadable) this.warn(unreadable)
    this.log(describeRecord(actions, record))
    if (open.settle.length + open.undo.length === 0) {
      this.log(`\nNothing to finish: run ${record.id} ${record.status === 'finished' ? 'was finished already' : `ended ${record.status}`} with nothing left to put back.`)
      return {run: record.id, finished: [], dryRun: flags['dry-run']}
    }
    const timeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    await trustedActions(actions, this.api, record, [...open.settle, ...open.undo])
    const steps = finishingSteps(actions, record)
    this.log(['', 'Steps:', ...stepList(steps)].join('\n'))
    if (flags['dry-run']) {
      this.log('\nDry run: nothing was changed.')
      return {run: record.id, steps: steps.map(s => s.title), dryRun: true}
    }
    const unlock = lockRun(record)
    try {
      await confirmApp(record.app, flags.confirm, `This finishes run ${record.id} (${record.what}) on ${record.app}.`)
      const outcome = await this.execute(steps, {
        app: record.app, what: `finish run ${record.id}`, timeoutMs, report: run => ({run: record.id, resumedBy: runJson(run)}),
      })
      RunLog.attach(record.file).append({event: 'end', status: 'finished', by: outcome.run})
      // How the work it left running ended (a release phase that succeeded, or failed), then the put-backs.
      const ended = outcome.steps.filter(s => s.id.startsWith('settle-') && s.note).map(s => `${s.note}; `).join('')
      this.log(`
Run ${record.id} is finished: ${ended}everything due is put back.`)
      return {run: record.id, resumedBy: runJson(outcome)}
    } finally {
      unlock()
    }
  }
}
