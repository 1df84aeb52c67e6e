import {flags} from '@heroku-cli/command'
import {Args, ux} from '@oclif/core'
import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {assertAppName} from '../../lib/names.js'
import {confirmApp} from '../../lib/prompts.js'
import {applyRecovery} from '../../lib/recovery/apply.js'
import {gatherFacts} from '../../lib/recovery/facts.js'
import {chooseTarget} from '../../lib/recovery/guide.js'
import {planRecovery, RUNBOOK_WARNING} from '../../lib/recovery/plan.js'
import type {Progress} from '../../lib/recovery/point-in-time.js'
import {describeOutcome, describePlan} from '../../lib/recovery/report.js'
import {assertTargetFlags, resolveTarget, targetRequest} from '../../lib/recovery/target.js'
import {assertReadOnlyQuery} from '../../lib/recovery/verify.js'
import {blocking} from '../../lib/checks.js'

const TIME_FLAGS = ['backup', 'to', 'by', 'before-release']

export default class DbRecover extends GuardedCommand {
  static override description = 'recover a Heroku Postgres database from a backup or a point in time, guarded'
  static override examples = [
    '<%= config.bin %> db:recover --app my-app --backup b101 --confirm my-app',
    '<%= config.bin %> db:recover DATABASE_URL --app my-app --before-release v51 --scale-down-workers',
    '<%= config.bin %> db:recover --app my-app --by 90m --verify "SELECT count(*) > 0 FROM customers" --dry-run',
    '<%= config.bin %> db:recover --app my-app --backup latest --drill --verify "SELECT count(*) > 0 FROM customers" --confirm my-app',
  ]

  static override args = {
    database: Args.string({description: 'the database to recover: an attachment or config var name', default: 'DATABASE_URL'}),
  }

  static override flags = {
    app: flags.app({required: true}),
    remote: flags.remote(),
    backup: flags.string({description: 'restore this backup (b101, a102 or latest) into the database', exclusive: TIME_FLAGS.filter(f => f !== 'backup')}),
    to: flags.string({description: 'point-in-time rollback to this time (ISO 8601, or "YYYY-MM-DD HH:MM+00")', exclusive: TIME_FLAGS.filter(f => f !== 'to')}),
    by: flags.string({description: 'point-in-time rollback by this long (90m, 3h, 2d)', exclusive: TIME_FLAGS.filter(f => f !== 'by')}),
    'before-release': flags.string({description: 'point-in-time rollback to one minute before this release (v51) was created', exclusive: TIME_FLAGS.filter(f => f !== 'before-release')}),
    confirm: flags.string({description: 'the app name, to run without the confirmation prompt'}),
    'safety-backup': flags.boolean({description: 'capture a backup of the current state first (--no-safety-backup skips it)', default: true, allowNo: true}),
    maintenance: flags.boolean({description: 'turn maintenance mode on during the switch (--no-maintenance skips it)', default: true, allowNo: true}),
    'scale-down-workers': flags.boolean({description: 'scale every non-web process to 0 during the switch, then back'}),
    verify: flags.string({description: 'one read-only query (SELECT) run on the recovered database; false, no rows or an error stops before promotion'}),
    drill: flags.boolean({description: 'rehearse: recover into a scratch database, verify, time it, destroy it'}),
    keep: flags.boolean({description: 'with --drill, keep the scratch database', dependsOn: ['drill']}),
    'dry-run': flags.boolean({description: 'run every check and show the plan, without changing anything'}),
    'wait-timeout': flags.string({description: 'how long to wait for provisioning and restores', default: '2h'}),
  }

  async run() {
    const {args, flags} = await this.parse(DbRecover)
    assertAppName(flags.app)
    assertTargetFlags(flags)
    if (flags.verify) await assertReadOnlyQuery(flags.verify)
    const timeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    const facts = await gatherFacts(this.heroku, flags.app, args.database)
    const request = targetRequest(flags) ?? await chooseTarget(this.heroku, facts)
    const target = await resolveTarget(this.heroku, flags.app, request, facts.now)
    const plan = planRecovery(facts, target, {
      drill: flags.drill, keep: flags.keep, safetyBackup: flags['safety-backup'], maintenance: flags.maintenance,
      scaleDownWorkers: flags['scale-down-workers'], verify: flags.verify,
    })
    this.log(describePlan(plan))
    const failed = blocking(plan.checks)
    if (failed.length > 0) throw new Refused(failed.map(c => c.detail).join(' '))
    if (flags['dry-run']) {
      this.log(`\nDry run: nothing was changed. To recover: heroku db:recover ${this.argv.filter(a => a !== '--dry-run').join(' ')}${flags.confirm ? '' : ` --confirm ${flags.app}`}`)
      return {dryRun: true, plan}
    }
    await confirmApp(flags.app, flags.confirm, plan.drill ? `This creates and destroys a scratch database on ${flags.app}.` : RUNBOOK_WARNING)
    const outcome = await applyRecovery(this.heroku, facts, plan, {progress: this.spinner(), timeoutMs})
    this.spinner().done()
    this.log(`\n${describeOutcome(plan, outcome)}`)
    return {dryRun: false, plan, outcome}
  }

  // Spinners on stderr, with a status line for bytes and provisioning states; silent in --json mode.
  private spinner(): Progress & {done(): void} {
    const quiet = this.jsonEnabled()
    return {
      step: title => quiet || ux.action.start(title),
      status: text => {
        if (!quiet) ux.action.status = text
      },
      done: () => quiet || ux.action.stop(),
    }
  }
}
