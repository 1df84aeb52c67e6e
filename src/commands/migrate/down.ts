import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {appFlags, backupFlags, guardFlags, notifyFlag} from '../../lib/flags.js'
import {gatherMigrateDown, planMigrateDown} from '../../lib/migrations/down.js'
import {writeGeneratedDowns} from '../../lib/migrations/generate/write.js'
import {downView} from '../../lib/migrations/render.js'
import {assertAppName} from '../../lib/names.js'
import {assertNoPasswordInArgv} from '../../lib/secrets.js'
import {Args, flags} from '../../lib/heroku.js'

export default class MigrateDown extends GuardedCommand {
  static override description = 'revert applied Prisma migrations on an app\'s database, in one transaction, with data-loss checks'

  static override examples = [
    '<%= config.bin %> migrate:down --app my-app --dry-run',
    '<%= config.bin %> migrate:down --app my-app --steps 2 --confirm my-app',
    '<%= config.bin %> migrate:down HEROKU_POSTGRESQL_TEAL --app my-app --to 20260301000000_add_user_bio --confirm my-app',
    '<%= config.bin %> migrate:down --app my-app --allow-data-loss --capture-backup --confirm my-app',
    '<%= config.bin %> migrate:down --app my-app --generate --write --dry-run',
  ]

  static override args = {
    database: Args.string({description: 'the database to revert (config var or attachment name)', default: 'DATABASE_URL'}),
  }

  static override flags = {
    ...appFlags,
    steps: flags.integer({description: 'how many of the newest applied migrations to revert', min: 1, exclusive: ['to']}),
    to: flags.string({description: 'the newest migration to keep: revert every applied one after it', exclusive: ['steps']}),
    dir: flags.string({description: 'the Prisma migrations folder (default: from prisma.config.ts or package.json, else prisma/migrations)'}),
    generate: flags.boolean({description: 'generate a missing down.sql with Prisma\'s schema engine (WebAssembly, no binary or shadow database needed), shown and checked like a written one'}),
    write: flags.boolean({description: 'keep each generated down that the down-check proves as down.sql beside its migration.sql (never overwrites)'}),
    'shadow-database-url': flags.string({description: 'an empty scratch database for Prisma 6 to generate a missing down.sql (with a password: set SHADOW_DATABASE_URL)', env: 'SHADOW_DATABASE_URL'}),
    ...guardFlags,
    'allow-data-loss': flags.boolean({description: 'go ahead even though the down SQL drops data that exists'}),
    'ignore-checksum': flags.boolean({description: 'go ahead even though a migration.sql differs from what was applied'}),
    'skip-down-check': flags.boolean({description: 'do not prove on a scratch database that the down SQL undoes its migration exactly'}),
    'accept-schema-risk': flags.boolean({description: 'revert even though the code another app on the database runs now does not fit the schema the down leaves'}),
    'lock-timeout': flags.string({description: 'how long to wait for a table lock before giving up', default: '5s'}),
    'statement-timeout': flags.string({description: 'the longest any single statement may run (default: the database\'s setting)'}),
    ...backupFlags,
    ...notifyFlag,
  }

  override async run() {
    const {args, flags} = await this.parse(MigrateDown)
    assertAppName(flags.app)
    assertNoPasswordInArgv(this.argv, '--shadow-database-url', 'SHADOW_DATABASE_URL')
    const input = {
      app: flags.app, database: args.database, projectDir: process.cwd(), dir: flags.dir, steps: flags.steps, to: flags.to,
      shadowDatabaseUrl: flags['shadow-database-url'], generate: flags.generate, allowDataLoss: flags['allow-data-loss'], ignoreChecksum: flags['ignore-checksum'],
      skipDownCheck: flags['skip-down-check'], acceptSchemaRisk: flags['accept-schema-risk'], cacheDir: this.config.cacheDir, capture: flags['capture-backup'], skipBackupCheck: flags['skip-backup-check'], dryRun: flags['dry-run'],
      lockTimeout: `${durationFlag(flags['lock-timeout'], '--lock-timeout')}ms`,
      statementTimeout: flags['statement-timeout'] ? `${durationFlag(flags['statement-timeout'], '--statement-timeout')}ms` : null,
      maxBackupAgeMs: durationFlag(flags['max-backup-age'], '--max-backup-age'),
      given: {lockTimeout: flags['lock-timeout'], statementTimeout: flags['statement-timeout'], maxBackupAge: flags['max-backup-age']},
    }
    this.noticeUnfinished(flags.app)
    const facts = await gatherMigrateDown(this.api, input)
    // Files of the project, not the app: written before the confirmation, also when the revert itself is refused.
    const written = flags.write ? writeGeneratedDowns(facts.generated) : undefined
    return this.guarded(planMigrateDown(facts, input, written), downView, flags, new Map([[`database:${facts.database.configVar}`, facts.database]]))
  }
}
