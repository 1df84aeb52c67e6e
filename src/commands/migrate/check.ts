import {GuardedCommand} from '../../lib/command.js'
import {checkMigrations, CheckFailed} from '../../lib/migrations/check/gather.js'
import {describeReport} from '../../lib/migrations/check/report.js'
import {assertNoPasswordInArgv} from '../../lib/secrets.js'
import {flags} from '../../lib/heroku.js'

export default class MigrateCheck extends GuardedCommand {
  static override description = 'prove on a scratch database that every down.sql undoes its Prisma migration exactly'

  static override examples = [
    '<%= config.bin %> migrate:check',
    '<%= config.bin %> migrate:check --dir prisma/migrations --data',
    '<%= config.bin %> migrate:check --from 20260301000000_add_user_bio --allow-missing-down --json',
    '<%= config.bin %> migrate:check --generate-missing --write',
    'MIGRATE_CHECK_DATABASE_URL=postgres://postgres:postgres@localhost:5432/scratch <%= config.bin %> migrate:check',
  ]

  static override flags = {
    dir: flags.string({description: 'the Prisma migrations folder (default: from prisma.config.ts or package.json, else prisma/migrations)'}),
    from: flags.string({description: 'the oldest migration to check: older ones are only applied'}),
    data: flags.boolean({description: 'put sample rows in every table before each down, and list the values it drops'}),
    'allow-missing-down': flags.boolean({description: 'do not fail on migrations without a down.sql'}),
    'generate-missing': flags.boolean({description: 'generate a down for each migration without down.sql with Prisma\'s schema engine (WebAssembly, no binary needed), and check it the same way'}),
    write: flags.boolean({description: 'keep each generated down that reverts exactly as down.sql beside its migration.sql (never overwrites)', dependsOn: ['generate-missing']}),
    'database-url': flags.string({
      description: 'an empty PostgreSQL to check on instead of the built-in throwaway one (with a password: set MIGRATE_CHECK_DATABASE_URL)',
      env: 'MIGRATE_CHECK_DATABASE_URL',
    }),
  }

  override async run() {
    const {flags} = await this.parse(MigrateCheck)
    assertNoPasswordInArgv(this.argv, '--database-url', 'MIGRATE_CHECK_DATABASE_URL')
    // PGlite runs in a worker thread, so that Ctrl-C and SIGTERM end even a statement that never does.
    if (flags['database-url']) this.cancelledState = 'The check stopped part-way: the --database-url database keeps what was applied so far; empty it before the next check.'
    else this.cancelledState = 'Nothing was changed: the check ran on a throwaway PGlite, gone with it.'
    const report = await checkMigrations({
      projectDir: process.cwd(), dir: flags.dir, from: flags.from, data: flags.data, databaseUrl: flags['database-url'],
      cacheDir: this.config.cacheDir, progress: this.progress, generate: flags['generate-missing'] ? {write: flags.write} : undefined,
    }, flags['allow-missing-down'])
    this.log(describeReport(report, flags['allow-missing-down']))
    if (!report.passed) throw new CheckFailed(report)
    return report
  }
}
