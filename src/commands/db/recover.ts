import {resolve} from 'node:path'
import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {appFlags, changeHealthFlags, guardFlags, notifyFlag, waitTimeoutFlag} from '../../lib/flags.js'
import {watchInput} from '../../lib/health/plan.js'
import {assertAppName} from '../../lib/names.js'
import {defaultFolder} from '../../lib/reconcile/folder.js'
import {askTarget, gatherRecovery} from '../../lib/recovery/gather.js'
import {planRecovery, recoveryResources} from '../../lib/recovery/plan.js'
import {recoverView} from '../../lib/recovery/render.js'
import {assertTargetFlags, targetRequest} from '../../lib/recovery/target.js'
import {assertReadOnlyQuery} from '../../lib/recovery/verify.js'
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
    ...appFlags,
    backup: flags.string({description: 'restore this backup (b101, a102 or latest) into the database', exclusive: TIME_FLAGS.filter(f => f !== 'backup')}),
    to: flags.string({description: 'point-in-time rollback to this time (ISO 8601, or "YYYY-MM-DD HH:MM+00")', exclusive: TIME_FLAGS.filter(f => f !== 'to')}),
    by: flags.string({description: 'point-in-time rollback by this long (90m, 3h, 2d)', exclusive: TIME_FLAGS.filter(f => f !== 'by')}),
    'before-release': flags.string({description: 'point-in-time rollback to one minute before this release (v51) was created', exclusive: TIME_FLAGS.filter(f => f !== 'before-release')}),
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
    'skip-sequence-fence': flags.boolean({description: 'with a point-in-time recovery, do not advance the new database\'s sequences past the old one\'s (when this machine cannot reach it): ids written after the recovery point may be reused', exclusive: ['backup', 'drill', 'surgical']}),
    ...guardFlags,
    ...waitTimeoutFlag('2h'),
    ...changeHealthFlags,
    ...notifyFlag,
  }

  async run() {
    const {args, flags} = await this.parse(DbRecover)
    assertAppName(flags.app)
    assertTargetFlags(flags)
    if (flags.verify) await assertReadOnlyQuery(flags.verify)
    const timeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    if (flags.keep && !flags.drill && !flags.surgical) throw new Refused('--keep goes with --drill or --surgical.')
    const surgical = flags.surgical ? {tables: flags.tables!.split(',').map((t: string) => t.trim()).filter(Boolean), out: resolve(flags.out ?? defaultFolder(flags.app).replace(/^reconcile-/, 'surgical-')), outGiven: flags.out !== undefined} : undefined
    const watch = flags.drill ? undefined : watchInput(this.api, flags.app, flags, this.argv)
    this.noticeUnfinished(flags.app)
    const facts = await gatherRecovery(this.api, {app: flags.app, database: args.database, request: targetRequest(flags)})
    const target = facts.target ?? await askTarget(facts)
    const plan = planRecovery(facts, target, {
      database: args.database, drill: flags.drill, keep: flags.keep, safetyBackup: flags['safety-backup'], maintenance: flags.maintenance,
      scaleDownWorkers: flags['scale-down-workers'], verify: flags.verify, surgical, reconcileBase: flags['reconcile-base'], skipSequenceFence: flags['skip-sequence-fence'], waitTimeout: flags['wait-timeout'], timeoutMs,
      watch: await watch,
    })
    return this.guarded(plan, recoverView, flags, recoveryResources(facts, plan))
  }
}
