import {backupGate} from '../lib/backups/gate.js'
import {blocking, type Check} from '../lib/checks.js'
import {GuardedCommand} from '../lib/command.js'
import {notifyFlag} from '../lib/flags.js'
import {durationFlag} from '../lib/duration.js'
import {Refused} from '../lib/errors.js'
import {assertAppName, assertReleaseRef} from '../lib/names.js'
import type {ApplyResult} from '../lib/migrations/steps.js'
import {describePlan} from '../lib/migrations/render.js'
import {confirmApp} from '../lib/prompts.js'
import {coupledSteps, gatherCoupledDown, withRevertedMigrations} from '../lib/rollback/coupled.js'
import {gatherRollback} from '../lib/rollback/gather.js'
import {renderPreview} from '../lib/rollback/render.js'
import {rollbackReport} from '../lib/rollback/report.js'
import type {RunOutcome} from '../lib/runner/runner.js'
import {blockedMessage, renderSchema, schemaCheckLine, schemaJson, schemaWarnings} from '../lib/schema/report.js'
import {RolledBack, rollbackSteps} from '../lib/rollback/steps.js'
import {Args, flags, Flags} from '../lib/heroku.js'

export default class SafeRollback extends GuardedCommand {
  static override description = `roll an app's code and config back to a stable release, with backups checked first
Previews what the rollback undoes and what it cannot undo (add-ons, database attachments, migrations),
checks that every Heroku Postgres database has a recent successful backup and that the target's Prisma
schema fits today's database (refusing below the rollback floor), asks for confirmation, rolls back with
the Platform API, and waits until the new release and its dynos are up. With --with-migrations, first
reverts the migrations the target does not know, and applies them again if the rollback fails.`

  static override examples = [
    '<%= config.bin %> safe-rollback --app my-app',
    '<%= config.bin %> safe-rollback v50 --app my-app --dry-run',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --capture-backup --maintenance',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --max-backup-age 6h --json',
    '<%= config.bin %> safe-rollback v50 --app my-app --confirm my-app --with-migrations',
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
    'require-schema-check': Flags.boolean({description: 'refuse when it cannot be told whether the target\'s code fits today\'s database schema'}),
    'accept-schema-risk': Flags.boolean({description: 'roll back even though the target\'s code does not fit today\'s database schema', exclusive: ['with-migrations']}),
    'with-migrations': Flags.boolean({description: 'first revert the Prisma migrations the target does not know (as migrate:down does, run from the app\'s project folder), then roll back; re-applied if the rollback fails'}),
    'allow-data-loss': Flags.boolean({description: 'with --with-migrations: revert even when the down SQL drops data'}),
    ...notifyFlag,
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

    const {plan: gathered, target, backups, inMaintenance, schema} = await gatherRollback(this.api, app, {
      releaseRef: args.release, cwd: process.cwd(), maxBackupAgeMs: skip ? undefined : maxAgeMs,
      maintenance: flags.maintenance, waitForPending: flags['wait-for-pending'], waitTimeoutMs, schemaGate: true,
    })
    const down = flags['with-migrations'] ? await gatherCoupledDown(this.api, app, schema, {cwd: process.cwd(), allowDataLoss: flags['allow-data-loss'], dryRun: flags['dry-run']}) : undefined
    const plan = down ? withRevertedMigrations(gathered, down) : gathered
    const choices = {target: target.version, require: flags['require-schema-check'], acceptRisk: flags['accept-schema-risk'], withMigrations: down !== undefined}
    const gate = await backupGate(backups ?? [], {maxAgeMs, capture: flags['capture-backup'], skip, dryRun: flags['dry-run']})
    const checks: Check[] = [
      {name: 'release', outcome: 'passed', detail: `v${target.version} succeeded and is eligible for rollback.`},
      gate.check,
      ...(schema ? [schemaCheckLine(schema, choices)] : []),
    ]
    const steps = down
      ? coupledSteps(plan, target, down, gate.capture, inMaintenance)
      : rollbackSteps(plan, {target, maintenance: flags.maintenance && !inMaintenance, capture: gate.capture})
    const report = (run?: RunOutcome) => ({
      ...rollbackReport(plan, checks, flags['dry-run'], run, schema && schemaJson(schema, choices)),
      ...(down ? {migrations: {plan: down.plan, result: run?.result<ApplyResult>('revert') ?? null}} : {}),
    })
    if (down) this.log(describePlan(down.plan, []) + '\n')
    if (down?.plan.blocked) throw new Refused(`Rollback blocked: reverting the migrations first is refused by the ${down.plan.checks.filter(c => c.outcome === 'failed').map(c => c.name).join(', ')} check(s): see above.`, report())
    this.log(renderPreview(plan, checks, steps, schema && renderSchema(schema)) + '\n')
    const failed = blocking(checks)
    if (failed.length > 0) throw new Refused(`Rollback blocked: ${failed.map(c => c.name === 'schema' && schema?.verdict === 'blocked' ? blockedMessage(schema, app, target.version) : c.detail).join(' ')}`, report())
    for (const warning of schemaWarnings(schema, choices)) this.warn(warning)
    if (skip) this.warn('Backups were not checked (--skip-backup-check): if this rollback goes wrong, there may be no recent backup to recover from.')
    if (flags.maintenance && inMaintenance) this.warn(`${app} is already in maintenance mode: it stays on after the rollback.`)
    if (flags['dry-run']) {
      const chosen = [down && '--with-migrations', choices.acceptRisk && '--accept-schema-risk'].filter(Boolean).map(flag => ` ${flag}`).join('')
      this.log(`Dry run: nothing was changed. To roll back: heroku safe-rollback v${target.version} --app ${app}${chosen} --confirm ${app}`)
      return report()
    }

    const reverting = down ? ` after reverting ${down.plan.steps.map(s => s.migration).join(', ')}` : ''
    await confirmApp(app, flags.confirm, `This rolls ${app} back to v${target.version}${reverting}, undoing ${plan.undone.length} release(s).`)
    const outcome = await this.execute(steps, {
      app, what: `roll back to v${target.version}${reverting}`, timeoutMs: waitTimeoutMs, report,
    })
    const {release, dynos} = outcome.result<RolledBack>('rollback')!
    this.log(`${app} runs v${release.version} (rollback to v${target.version}); ${dynos.length} dyno(s) up.`)
    this.log(`To undo: ${plan.undo}`)
    return report(outcome)
  }
}
