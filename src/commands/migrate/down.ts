import {started} from '../../lib/api/client.js'
import {backupStates} from '../../lib/backups/gate.js'
import {GuardedCommand} from '../../lib/command.js'
import {notifyFlag} from '../../lib/flags.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {gatherDown} from '../../lib/migrations/gather.js'
import {describePlan, describeResult} from '../../lib/migrations/render.js'
import {ApplyResult, downSteps} from '../../lib/migrations/steps.js'
import {describeWrites, writeGeneratedDowns} from '../../lib/migrations/generate/write.js'
import {resolveAppDatabase, withConnection} from '../../lib/postgres/connect.js'
import {assertAppName} from '../../lib/names.js'
import {confirmApp} from '../../lib/prompts.js'
import {runJson} from '../../lib/runner/report.js'
import type {RunOutcome} from '../../lib/runner/runner.js'
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
    app: flags.app({required: true}),
    remote: flags.remote(),
    steps: flags.integer({description: 'how many of the newest applied migrations to revert', min: 1, exclusive: ['to']}),
    to: flags.string({description: 'the newest migration to keep: revert every applied one after it', exclusive: ['steps']}),
    dir: flags.string({description: 'the Prisma migrations folder (default: from prisma.config.ts or package.json, else prisma/migrations)'}),
    generate: flags.boolean({description: 'generate a missing down.sql with Prisma\'s schema engine (WebAssembly, no binary or shadow database needed), shown and checked like a written one'}),
    write: flags.boolean({description: 'keep each generated down that the down-check proves as down.sql beside its migration.sql (never overwrites)'}),
    'shadow-database-url': flags.string({description: 'an empty scratch database for Prisma 6 to generate a missing down.sql (with a password: set SHADOW_DATABASE_URL)', env: 'SHADOW_DATABASE_URL'}),
    confirm: flags.string({description: 'the app name, to run without a prompt'}),
    'dry-run': flags.boolean({description: 'print the plan and every check, change nothing'}),
    'allow-data-loss': flags.boolean({description: 'go ahead even though the down SQL drops data that exists'}),
    'ignore-checksum': flags.boolean({description: 'go ahead even though a migration.sql differs from what was applied'}),
    'skip-down-check': flags.boolean({description: 'do not prove on a scratch database that the down SQL undoes its migration exactly'}),
    'lock-timeout': flags.string({description: 'how long to wait for a table lock before giving up', default: '5s'}),
    'statement-timeout': flags.string({description: 'the longest any single statement may run (default: the database\'s setting)'}),
    'max-backup-age': flags.string({description: 'the oldest acceptable backup', default: '24h'}),
    'capture-backup': flags.boolean({description: 'capture a fresh backup first (after the confirmation) when the newest one is too old'}),
    'skip-backup-check': flags.boolean({description: 'do not require a recent backup'}),
    ...notifyFlag,
  }

  override async run() {
    const {args, flags} = await this.parse(MigrateDown)
    assertAppName(flags.app)
    assertNoPasswordInArgv(this.argv, '--shadow-database-url', 'SHADOW_DATABASE_URL')
    const lockTimeout = `${durationFlag(flags['lock-timeout'], '--lock-timeout')}ms`
    const statementTimeout = flags['statement-timeout'] ? `${durationFlag(flags['statement-timeout'], '--statement-timeout')}ms` : null
    const maxAgeMs = durationFlag(flags['max-backup-age'], '--max-backup-age')
    this.noticeUnfinished(flags.app)
    // The backup states are read alongside the database's resolution, not after the project and database work.
    const backups = flags['skip-backup-check'] ? undefined : started(backupStates(this.api, flags.app, maxAgeMs))
    const database = await resolveAppDatabase(this.api, flags.app, args.database)
    const {plan, history, gate, generated} = await withConnection(database, ({client}) => gatherDown(this.api, client, {
      app: flags.app, database: database.label, schema: database.schema, projectDir: process.cwd(), dir: flags.dir,
      target: {steps: flags.steps, to: flags.to}, shadowDatabaseUrl: flags['shadow-database-url'], generate: flags.generate,
      allowDataLoss: flags['allow-data-loss'], ignoreChecksum: flags['ignore-checksum'], skipDownCheck: flags['skip-down-check'], cacheDir: this.config.cacheDir, lockTimeout, statementTimeout,
      backup: {maxAgeMs, capture: flags['capture-backup'], skip: flags['skip-backup-check']}, backupStates: backups, dryRun: flags['dry-run'],
    }))
    // Files of the project, not the app: written before the confirmation, also when the revert itself is refused.
    const written = flags.write ? writeGeneratedDowns(generated) : undefined
    const report = (outcome?: RunOutcome) => ({
      plan, dryRun: !outcome, applied: outcome?.status === 'succeeded', written,
      result: outcome?.result<ApplyResult>('revert'), run: outcome ? runJson(outcome) : undefined,
    })
    const writes = written ? `\n${written.length > 0 ? describeWrites(written).join('\n') : '--write: no down.sql was generated, so none was written.'}` : ''
    if (plan.blocked) {
      this.log(describePlan(plan, []) + writes)
      const failed = plan.checks.filter(c => c.outcome === 'failed').map(c => c.name)
      // With --json the refusal still carries the plan, so that scripts can see which check failed.
      throw new Refused(`Refused by the ${failed.join(', ')} check${failed.length > 1 ? 's' : ''}: see the checks above.`, report())
    }
    if (plan.steps.length === 0) return this.done(report(), 'Nothing to revert.')
    const steps = downSteps(plan, database, history, gate.capture)
    this.log(describePlan(plan, steps) + writes)
    if (flags['dry-run']) return this.done(report(), `\nDry run: nothing was changed${written?.some(w => w.written) ? ' on the app (only the down.sql files --write asked for were written)' : ''}.`)
    await confirmApp(flags.app, flags.confirm, `This reverts ${plan.steps.map(s => s.migration).join(', ')} on ${plan.database} of ${flags.app}.`)
    const outcome = await this.execute(steps, {app: flags.app, what: `revert ${plan.steps.map(s => s.migration).join(', ')}`, timeoutMs: 60 * 60_000, report})
    return this.done(report(outcome), `\n${describeResult(plan, outcome.result<ApplyResult>('revert')!)}`)
  }

  private done<T>(outcome: T, message: string): T {
    this.log(message)
    return outcome
  }
}
