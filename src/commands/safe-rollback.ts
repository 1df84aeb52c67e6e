import {GuardedCommand} from '../lib/command.js'
import {durationFlag} from '../lib/duration.js'
import {appFlags, backupFlags, changeHealthFlags, guardFlags, notifyFlag, waitTimeoutFlag} from '../lib/flags.js'
import {watchInput} from '../lib/health/plan.js'
import {assertAppName, assertReleaseRef} from '../lib/names.js'
import {rollbackView} from '../lib/rollback/render.js'
import {gatherSafeRollback, planSafeRollback} from '../lib/rollback/safe.js'
import {Args, Flags} from '../lib/heroku.js'

export default class SafeRollback extends GuardedCommand {
  static override description = `roll an app's code and config back to a stable release, with backups checked first
Previews what the rollback undoes and what it cannot undo (add-ons, database attachments, migrations),
checks that every Heroku Postgres database has a recent successful backup and that the target's Prisma
schema fits today's database (refusing below the rollback floor), asks for confirmation, rolls back with
the Platform API, and waits until the new release and its dynos are up, then watches the app's requests (--health-window)
and says whether it is healthy; --on-unhealthy undo rolls back to the release it ran before. With
--with-migrations, first reverts the migrations the target does not know, and applies them again if
the rollback fails.`

  static override examples = [
    '<%= config.bin %> safe-rollback --app my-app',
    '<%= config.bin %> safe-rollback v50 --app my-app --dry-run',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --capture-backup --maintenance',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --max-backup-age 6h --json',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --with-migrations',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --health-window 5m --on-unhealthy undo',
  ]

  static override args = {
    release: Args.string({description: 'release to roll back to (v50, 50 or a release id); in a terminal, omit it to pick one'}),
  }

  static override flags = {
    ...appFlags,
    ...guardFlags,
    maintenance: Flags.boolean({description: 'turn maintenance mode on during the rollback (and off again, whatever happens)'}),
    ...backupFlags,
    ...waitTimeoutFlag('5m'),
    'wait-for-pending': Flags.boolean({description: 'when a newer release is still in its release phase, wait for it instead of refusing'}),
    'require-schema-check': Flags.boolean({description: 'refuse when it cannot be told whether the target\'s code fits today\'s database schema'}),
    'accept-schema-risk': Flags.boolean({description: 'roll back even though the target\'s code does not fit today\'s database schema (with --with-migrations: even though another app\'s code on the database does not fit the schema the revert leaves)'}),
    'with-migrations': Flags.boolean({description: 'first revert the Prisma migrations the target does not know (as migrate:down does, run from the app\'s project folder), then roll back; re-applied if the rollback fails'}),
    'allow-data-loss': Flags.boolean({description: 'with --with-migrations: revert even when the down SQL drops data'}),
    ...changeHealthFlags,
    ...notifyFlag,
  }

  override async run() {
    const {args, flags} = await this.parse(SafeRollback)
    assertAppName(flags.app)
    assertReleaseRef(args.release)
    const input = {
      app: flags.app, releaseRef: args.release, cwd: process.cwd(), maintenance: flags.maintenance, capture: flags['capture-backup'],
      maxBackupAge: flags['max-backup-age'], maxBackupAgeMs: durationFlag(flags['max-backup-age'], '--max-backup-age'),
      waitTimeout: flags['wait-timeout'], waitTimeoutMs: durationFlag(flags['wait-timeout'], '--wait-timeout'),
      skipBackupCheck: flags['skip-backup-check'], waitForPending: flags['wait-for-pending'], requireSchemaCheck: flags['require-schema-check'],
      acceptSchemaRisk: flags['accept-schema-risk'], withMigrations: flags['with-migrations'], allowDataLoss: flags['allow-data-loss'], dryRun: flags['dry-run'],
    }
    const watch = watchInput(this.api, flags.app, flags, this.argv)
    this.noticeUnfinished(flags.app)
    const facts = await gatherSafeRollback(this.api, input)
    const resources = new Map(facts.down ? [[`database:${facts.down.database.configVar}`, facts.down.database]] : [])
    return this.guarded(planSafeRollback(facts, {...input, watch: await watch}), rollbackView, flags, resources)
  }
}
