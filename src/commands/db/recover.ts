import {resolve} from 'node:path'
import {blocking} from '../../lib/checks.js'
import {GuardedCommand} from '../../lib/command.js'
import {notifyFlag} from '../../lib/flags.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {assertAppName} from '../../lib/names.js'
import {confirmApp} from '../../lib/prompts.js'
import {gatherFacts} from '../../lib/recovery/gather.js'
import {chooseTarget} from '../../lib/recovery/guide.js'
import {planRecovery, RecoveryPlan, RUNBOOK_WARNING, SURGICAL_NOTE} from '../../lib/recovery/plan.js'
import {defaultFolder} from '../../lib/reconcile/plan.js'
import {describeOutcome, describePlan, reconcileCommand, recovered} from '../../lib/recovery/render.js'
import {recoverySteps} from '../../lib/recovery/steps.js'
import {assertTargetFlags, resolveTarget, targetRequest} from '../../lib/recovery/target.js'
import {assertReadOnlyQuery} from '../../lib/recovery/verify.js'
import {runJson} from '../../lib/runner/report.js'
import type {RunOutcome} from '../../lib/runner/runner.js'
import {shellQuote} from '../../lib/shell.js'
import {Args, flags} from '../../lib/heroku.js'

const TIME_FLAGS = ['backup', 'to', 'by', 'before-release']

export default class DbRecover extends GuardedCommand {
  static override description = 'recover a Heroku Postgres database from a backup or a point in time, guarded'
  static override examples = [
    '<%= config.bin %> db:recover --app my-app --backup b101 --confirm my-app',
    '<%= config.bin %> db:recover DATABASE_URL --app my-app --before-release v51 --scale-down-workers',
    '<%= config.bin %> db:recover --app my-app --by 90m --verify "SELECT count(*) > 0 FROM customers" --dry-run',
    '<%= config.bin %> db:recover --app my-app --backup latest --drill --verify "SELECT count(*) > 0 FROM customers" --confirm my-app',
    '<%= config.bin %> db:recover --app my-app --before-release v51 --surgical --tables users,orders --confirm my-app',
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
    keep: flags.boolean({description: 'with --drill or --surgical, keep the scratch database'}),
    surgical: flags.boolean({description: 'put back only the rows of --tables missing from the database, from a scratch copy; never promote', dependsOn: ['tables'], exclusive: ['drill']}),
    tables: flags.string({description: 'with --surgical, the tables to put rows back into (comma-separated)', dependsOn: ['surgical']}),
    out: flags.string({description: 'with --surgical, the folder listing the rows put back (default: surgical-APP-TIMESTAMP)', dependsOn: ['surgical']}),
    'reconcile-base': flags.boolean({description: 'with a point-in-time recovery, record in the new database, before the promote, the base db:reconcile compares three-way against (--no-reconcile-base skips it)', default: true, allowNo: true}),
    'dry-run': flags.boolean({description: 'run every check and show the plan, without changing anything'}),
    'wait-timeout': flags.string({description: 'how long to wait for provisioning and restores (and for each request)', default: '2h'}),
    ...notifyFlag,
  }

  async run() {
    const {args, flags} = await this.parse(DbRecover)
    assertAppName(flags.app)
    assertTargetFlags(flags)
    if (flags.verify) await assertReadOnlyQuery(flags.verify)
    const timeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    if (flags.keep && !flags.drill && !flags.surgical) throw new Refused('--keep goes with --drill or --surgical.')
    const surgical = flags.surgical ? {tables: flags.tables!.split(',').map((t: string) => t.trim()).filter(Boolean), out: resolve(flags.out ?? defaultFolder(flags.app).replace(/^reconcile-/, 'surgical-'))} : undefined
    this.noticeUnfinished(flags.app)
    const facts = await gatherFacts(this.api, flags.app, args.database)
    const request = targetRequest(flags) ?? await chooseTarget(this.api, facts)
    const target = await resolveTarget(this.api, flags.app, request, facts.now)
    const plan = planRecovery(facts, target, {
      drill: flags.drill, keep: flags.keep, safetyBackup: flags['safety-backup'], maintenance: flags.maintenance,
      scaleDownWorkers: flags['scale-down-workers'], verify: flags.verify, surgical, reconcileBase: flags['reconcile-base'],
    })
    const failed = blocking(plan.checks)
    const steps = failed.length > 0 ? [] : recoverySteps(facts, plan)
    const report = (outcome?: RunOutcome) => ({
      dryRun: !outcome, plan: {...plan, steps: steps.map(s => s.title)}, outcome: outcome && recovered(outcome), run: outcome && runJson(outcome),
      reconcile: outcome && reconcileCommand(facts, plan, outcome),
    })
    this.log(describePlan(plan, steps))
    if (failed.length > 0) throw new Refused(failed.map(c => c.detail).join(' '), report())
    if (flags['dry-run']) {
      this.log(`\nDry run: nothing was changed. To recover exactly this: ${this.commandFor(args.database, plan, flags)}`)
      return report()
    }
    await confirmApp(flags.app, flags.confirm, plan.drill ? `This creates and destroys a scratch database on ${flags.app}.` : plan.surgical ? SURGICAL_NOTE(plan.surgical.tables, plan.database.attachment) : RUNBOOK_WARNING)
    const started = Date.now()
    const outcome = await this.execute(steps, {app: flags.app, what: describeWhat(plan), timeoutMs, report})
    this.log(`\n${describeOutcome(facts, plan, outcome, Date.now() - started)}`)
    const files = await this.filesCommand(plan)
    if (files) this.log(`\nUploaded files are not in the database: to put the app's bucket back to the same time, preview with --dry-run:\n  ${files}`)
    return {...report(outcome), files}
  }

  // When the app keeps uploads in S3, the files:recover command for the same time (names of config vars only are looked at).
  private async filesCommand(plan: RecoveryPlan): Promise<string | undefined> {
    const at = plan.drill || plan.surgical ? undefined : plan.target?.at ?? plan.backup?.finishedAt
    if (!at) return undefined
    try {
      const {hasBucketVars, readConfig} = await import('../../lib/files/bucket.js')
      if (!hasBucketVars(Object.keys(await readConfig(this.api, plan.app)))) return undefined
      return shellQuote(['heroku', 'files:recover', '--app', plan.app, '--to', new Date(at).toISOString()])
    } catch {
      return undefined
    }
  }

  // The command that recovers to exactly what was previewed: the backup by name, the time to the second.
  private commandFor(database: string, plan: RecoveryPlan, flags: {app: string, verify?: string, 'scale-down-workers': boolean, 'safety-backup': boolean, maintenance: boolean, drill: boolean, keep: boolean, 'wait-timeout': string, surgical: boolean, tables?: string, 'reconcile-base': boolean}) {
    return shellQuote([
      'heroku', 'db:recover', database, '--app', flags.app,
      ...(plan.way === 'backup' ? ['--backup', plan.backup!.name] : ['--to', plan.target!.at]),
      ...(flags.verify ? ['--verify', flags.verify] : []),
      ...(flags['scale-down-workers'] ? ['--scale-down-workers'] : []),
      ...(flags['safety-backup'] ? [] : ['--no-safety-backup']),
      ...(flags.maintenance ? [] : ['--no-maintenance']),
      ...(flags['reconcile-base'] || plan.way !== 'point-in-time' ? [] : ['--no-reconcile-base']),
      ...(flags.drill ? ['--drill'] : []),
      ...(flags.surgical ? ['--surgical', '--tables', flags.tables!] : []),
      ...(flags.keep ? ['--keep'] : []),
      ...(flags['wait-timeout'] === '2h' ? [] : ['--wait-timeout', flags['wait-timeout']]),
      '--confirm', flags.app,
    ])
  }
}

const describeWhat = (plan: RecoveryPlan) =>
  `${plan.drill ? 'drill: ' : plan.surgical ? `surgical (${plan.surgical.tables.join(', ')}): ` : ''}recover ${plan.database.attachment} ${plan.way === 'backup' ? `from ${plan.backup?.name}` : `to ${plan.target?.at}`}`
