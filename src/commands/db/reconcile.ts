import {GuardedCommand} from '../../lib/command.js'
import {notifyFlag} from '../../lib/flags.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {assertAppName} from '../../lib/names.js'
import {confirmApp} from '../../lib/prompts.js'
import {assertOutFolder, Prefer} from '../../lib/reconcile/folder.js'
import {assertBaseFits, databaseBackupGate, lookUpBase, resolvePair} from '../../lib/reconcile/gather.js'
import {defaultFolder, planReconcile} from '../../lib/reconcile/plan.js'
import {describeConfirmation, describeNext, describeReplay, describeSummary, dropBaseLine} from '../../lib/reconcile/render.js'
import type {ReplayResult} from '../../lib/reconcile/replay.js'
import {reconcileSteps} from '../../lib/reconcile/steps.js'
import {parseTime} from '../../lib/recovery/target.js'
import {runJson} from '../../lib/runner/report.js'
import type {RunOutcome} from '../../lib/runner/runner.js'
import {flags} from '../../lib/heroku.js'

const list = (text?: string) => text?.split(',').map(t => t.trim()).filter(Boolean)

// The recovery point is in the past: a later one would call writes "after the recovery point" that are not.
function sinceFlag(text: string): string {
  const since = parseTime(text, '--since')
  if (since.getTime() > Date.now()) throw new Refused(`--since "${text}" is in the future: give the recovery point db:recover used (its closing line shows it).`)
  return since.toISOString()
}

export default class DbReconcile extends GuardedCommand {
  static override description = 'compare the database from before a recovery with the recovered one, and carry the writes made after the recovery point over'

  static override examples = [
    '<%= config.bin %> db:reconcile --app my-app --from HEROKU_POSTGRESQL_OLIVE --to DATABASE_URL --since "2026-11-24T14:00:00Z"',
    '<%= config.bin %> db:reconcile --app my-app --from HEROKU_POSTGRESQL_OLIVE --tables users,orders --out reconcile-orders',
    '<%= config.bin %> db:reconcile --app my-app --from HEROKU_POSTGRESQL_OLIVE --apply --confirm my-app',
    '<%= config.bin %> db:reconcile --app my-app --from HEROKU_POSTGRESQL_OLIVE --apply --prefer current --confirm my-app',
  ]

  static override flags = {
    app: flags.app({required: true}),
    remote: flags.remote(),
    from: flags.string({description: 'the database from before the recovery (it holds the writes made after the recovery point): attachment or config var name', required: true}),
    to: flags.string({description: 'the recovered database: attachment or config var name', default: 'DATABASE_URL'}),
    since: flags.string({description: 'the recovery point, recorded in the summary (ISO 8601 with a time zone)'}),
    tables: flags.string({description: 'compare only these tables (comma-separated)'}),
    exclude: flags.string({description: 'leave these tables out (comma-separated)'}),
    out: flags.string({description: 'the folder to write (default: reconcile-APP-TIMESTAMP)'}),
    apply: flags.boolean({description: 'run replay.sql on the recovered database, in one transaction, after confirmation and the backup check'}),
    confirm: flags.string({description: 'the app name, to --apply without the confirmation prompt'}),
    prefer: flags.string({description: 'which side wins where the comparison cannot tell: without a base, for every row that differs (rows only in OLD are inserted either way); with one, for conflicts', options: ['old', 'current']}),
    'dry-run': flags.boolean({description: 'compare and write the folder, never apply'}),
    'max-backup-age': flags.string({description: 'with --apply, the oldest acceptable backup of the recovered database', default: '24h'}),
    'capture-backup': flags.boolean({description: 'with --apply, capture a fresh backup first when the newest one is too old'}),
    'skip-backup-check': flags.boolean({description: 'with --apply, do not require a recent backup'}),
    ...notifyFlag,
  }

  async run() {
    const {flags} = await this.parse(DbReconcile)
    assertAppName(flags.app)
    for (const flag of ['tables', 'exclude'] as const) {
      if (flags[flag] !== undefined && list(flags[flag])!.length === 0) throw new Refused(`--${flag} ${JSON.stringify(flags[flag])} names no table: give table names, comma-separated.`)
    }
    const since = flags.since ? sinceFlag(flags.since) : undefined
    const out = flags.out ?? defaultFolder(flags.app)
    assertOutFolder(out)
    const prefer = flags.prefer as Prefer | undefined
    const maxAgeMs = durationFlag(flags['max-backup-age'], '--max-backup-age')
    const apply = flags.apply && !flags['dry-run']
    const {old, current} = await resolvePair(this.api, flags.app, flags.from, flags.to)
    const base = await lookUpBase(old, current)
    assertBaseFits(base, current, {since, apply, prefer})
    const gate = apply ? await databaseBackupGate(this.api, flags.app, current, {maxAgeMs, capture: flags['capture-backup'], skip: flags['skip-backup-check'], dryRun: false}) : undefined
    if (gate?.check.outcome === 'failed') throw new Refused(gate.check.detail)
    const summary = await planReconcile(old, current, {app: flags.app, since, tables: list(flags.tables), exclude: list(flags.exclude), out, base, prefer})
    const report = (outcome?: RunOutcome) => ({...summary, applied: outcome?.result<ReplayResult>('replay') ?? null, run: outcome ? runJson(outcome) : undefined})
    this.log(describeSummary(summary))
    const database = {given: current.given, label: current.label, app: flags.app}
    if (!apply) {
      this.log(`\n${describeNext(summary, database)}`)
      return report()
    }
    await confirmApp(flags.app, flags.confirm, describeConfirmation(summary, current.label))
    const outcome = await this.execute(reconcileSteps(current, summary.folder, gate?.capture ?? []), {app: flags.app, what: `reconcile ${current.label} with ${old.label}`, timeoutMs: 60 * 60_000, report})
    this.log(`\n${describeReplay(outcome.result<ReplayResult>('replay')!)}`)
    const drop = dropBaseLine(summary, database)
    if (drop) this.log(drop)
    return report(outcome)
  }
}
