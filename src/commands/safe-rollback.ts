import {flags} from '@heroku-cli/command'
import {Args, Flags} from '@oclif/core'
import {backupGate} from '../lib/backups/gate.js'
import {blocking, type Check} from '../lib/checks.js'
import {GuardedCommand} from '../lib/command.js'
import {durationFlag} from '../lib/duration.js'
import {Refused} from '../lib/errors.js'
import {assertAppName, assertReleaseRef} from '../lib/names.js'
import {confirmApp} from '../lib/prompts.js'
import {gatherRollback} from '../lib/rollback/gather.js'
import {renderPreview} from '../lib/rollback/render.js'
import {rollbackReport} from '../lib/rollback/report.js'
import {RolledBack, rollbackSteps} from '../lib/rollback/steps.js'

export default class SafeRollback extends GuardedCommand {
  static override description = `roll an app's code and config back to a stable release, with backups checked first
Previews what the rollback undoes and what it cannot undo (add-ons, database attachments, migrations),
checks that every Heroku Postgres database has a recent successful backup, asks for confirmation,
rolls back with the Platform API, and waits until the new release and its dynos are up.`

  static override examples = [
    '<%= config.bin %> safe-rollback --app my-app',
    '<%= config.bin %> safe-rollback v50 --app my-app --dry-run',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --capture-backup --maintenance',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --max-backup-age 6h --json',
  ]

  static override args = {
    release: Args.string({description: 'release to roll back to (v50, 50 or a release id); in a terminal, omit it to pick one'}),
  }

  static override flags = {
    app: flags.app({required: true}),
    remote: flags.remote(),
    confirm: Flags.string({description: 'the app name, to roll back without being asked'}),
    'dry-run': Flags.boolean({description: 'print the preview and run every check; change nothing'}),
    maintenance: Flags.boolean({description: 'turn maintenance mode on during the rollback (and off again, whatever happens)'}),
    'max-backup-age': Flags.string({description: 'the newest successful backup of each database must be younger than this', default: '24h'}),
    'capture-backup': Flags.boolean({description: 'capture a fresh backup of every database whose backup is too old', exclusive: ['skip-backup-check']}),
    'skip-backup-check': Flags.boolean({description: 'roll back without checking backups (not recommended)'}),
    'wait-timeout': Flags.string({description: 'how long to wait for the new release and its dynos (and for each request)', default: '5m'}),
    'wait-for-pending': Flags.boolean({description: 'when a newer release is still in its release phase, wait for it instead of refusing'}),
  }

  override async run() {
    const {args, flags} = await this.parse(SafeRollback)
    const {app} = flags
    assertAppName(app)
    assertReleaseRef(args.release)
    const maxAgeMs = durationFlag(flags['max-backup-age'], '--max-backup-age')
    const waitTimeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    const skip = flags['skip-backup-check']
    this.noticeUnfinished(app)

    const {plan, target, backups, inMaintenance} = await gatherRollback(this.api, app, {
      releaseRef: args.release, cwd: process.cwd(), maxBackupAgeMs: skip ? undefined : maxAgeMs,
      maintenance: flags.maintenance, waitForPending: flags['wait-for-pending'], waitTimeoutMs,
    })
    const gate = await backupGate(backups ?? [], {maxAgeMs, capture: flags['capture-backup'], skip, dryRun: flags['dry-run']})
    const checks: Check[] = [{name: 'release', outcome: 'passed', detail: `v${target.version} succeeded and is eligible for rollback.`}, gate.check]
    const steps = rollbackSteps(plan, {target, maintenance: flags.maintenance && !inMaintenance, capture: gate.capture})
    this.log(renderPreview(plan, checks, steps) + '\n')
    const failed = blocking(checks)
    if (failed.length > 0) throw new Refused(`Rollback blocked: ${failed.map(c => c.detail).join(' ')}`, rollbackReport(plan, checks, flags['dry-run']))
    if (skip) this.warn('Backups were not checked (--skip-backup-check): if this rollback goes wrong, there may be no recent backup to recover from.')
    if (flags.maintenance && inMaintenance) this.warn(`${app} is already in maintenance mode: it stays on after the rollback.`)
    if (flags['dry-run']) {
      this.log(`Dry run: nothing was changed. To roll back: heroku safe-rollback v${target.version} --app ${app} --confirm ${app}`)
      return rollbackReport(plan, checks, true)
    }

    await confirmApp(app, flags.confirm, `This rolls ${app} back to v${target.version}, undoing ${plan.undone.length} release(s).`)
    const outcome = await this.execute(steps, {
      app, what: `roll back to v${target.version}`, timeoutMs: waitTimeoutMs, report: run => rollbackReport(plan, checks, false, run),
    })
    const {release, dynos} = outcome.result<RolledBack>('rollback')!
    this.log(`${app} runs v${release.version} (rollback to v${target.version}); ${dynos.length} dyno(s) up.`)
    this.log(`To undo: ${plan.undo}`)
    return rollbackReport(plan, checks, false, outcome)
  }
}
