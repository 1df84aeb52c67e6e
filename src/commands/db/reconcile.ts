import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import {appFlags, backupFlags, guardFlags, notifyFlag} from '../../lib/flags.js'
import {assertAppName} from '../../lib/names.js'
import {databaseKey} from '../../lib/postgres/connect.js'
import type {ReconcileInput} from '../../lib/reconcile/checks.js'
import {compareReconcile} from '../../lib/reconcile/comparison.js'
import {assertOutFolder, defaultFolder, Prefer} from '../../lib/reconcile/folder.js'
import {askCapture, gatherReconcile} from '../../lib/reconcile/gather.js'
import {planReconcile} from '../../lib/reconcile/plan.js'
import {reconcileView} from '../../lib/reconcile/render.js'
import {parseTime} from '../../lib/recovery/target.js'
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
    ...appFlags,
    from: flags.string({description: 'the database from before the recovery (it holds the writes made after the recovery point): attachment or config var name', required: true}),
    to: flags.string({description: 'the recovered database: attachment or config var name', default: 'DATABASE_URL'}),
    since: flags.string({description: 'the recovery point, recorded in the summary (ISO 8601 with a time zone)'}),
    tables: flags.string({description: 'compare only these tables (comma-separated)'}),
    exclude: flags.string({description: 'leave these tables out (comma-separated)'}),
    out: flags.string({description: 'the folder to write (default: reconcile-APP-TIMESTAMP)'}),
    apply: flags.boolean({description: 'run replay.sql on the recovered database, in one transaction, after confirmation and the backup check'}),
    prefer: flags.string({description: 'which side wins where the comparison cannot tell: without a base, for every row that differs (rows only in OLD are inserted either way); with one, for conflicts', options: ['old', 'current']}),
    ...guardFlags,
    ...backupFlags,
    ...notifyFlag,
  }

  async run() {
    const {flags} = await this.parse(DbReconcile)
    assertAppName(flags.app)
    for (const flag of ['tables', 'exclude'] as const) {
      if (flags[flag] !== undefined && list(flags[flag])!.length === 0) throw new Refused(`--${flag} ${JSON.stringify(flags[flag])} names no table: give table names, comma-separated.`)
    }
    const input: ReconcileInput = {
      app: flags.app, from: flags.from, to: flags.to, since: flags.since ? sinceFlag(flags.since) : undefined, tables: list(flags.tables), exclude: list(flags.exclude),
      out: flags.out ?? defaultFolder(flags.app), prefer: flags.prefer as Prefer | undefined, apply: flags.apply && !flags['dry-run'],
      maxAgeMs: durationFlag(flags['max-backup-age'], '--max-backup-age'), maxBackupAge: flags['max-backup-age'], capture: flags['capture-backup'], skip: flags['skip-backup-check'],
    }
    assertOutFolder(input.out)
    const facts = await gatherReconcile(this.api, input)
    const asked = {...input, capture: await askCapture(facts, input)}
    const plan = planReconcile(facts, await compareReconcile(facts, asked), asked)
    return this.guarded(plan, reconcileView, {confirm: flags.confirm, 'dry-run': !input.apply}, new Map([[databaseKey(flags.app, facts.current.configVar), facts.current]]))
  }
}
