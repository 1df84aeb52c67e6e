import {flags} from '../../lib/heroku.js'
import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {appFlags, guardFlags, notifyFlag, waitTimeoutFlag} from '../../lib/flags.js'
import {Refused} from '../../lib/errors.js'
import {assertAppName} from '../../lib/names.js'
import {confirmApp} from '../../lib/prompts.js'
import {assertReadOnlyQuery} from '../../lib/recovery/verify.js'
import {assertTargetFlags, targetRequest} from '../../lib/recovery/target.js'
import {runJson} from '../../lib/runner/report.js'

const TIME_FLAGS = ['to', 'by', 'before-release', 'undo']

export default class FilesRecover extends GuardedCommand {
  static override description = `put an app's uploaded files (S3) back as they were at a point in time
Reads every version in the app's bucket (Bucketeer, Cloudcube or AWS_* config vars; versioning must be on)
and, per file, compares its state at the time with its state now: deleted since is put back (by removing
the delete markers when only deletes came after, else by copying that version back inside S3);
overwritten since only with --include-overwritten; created since is reported, never deleted.`

  static override examples = [
    '<%= config.bin %> files:recover --app my-app --to "2026-11-24 14:00+00" --dry-run',
    '<%= config.bin %> files:recover --app my-app --before-release v51 --confirm my-app',
    '<%= config.bin %> files:recover --app my-app --by 2h --include-overwritten --prefix uploads/ --confirm my-app',
    '<%= config.bin %> files:recover --app my-app --to 2026-11-24T14:00:00Z --keys-from-db "SELECT path FROM attachments" --confirm my-app',
    '<%= config.bin %> files:recover --app my-app --undo 261126-021819-48b2 --confirm my-app',
  ]

  static override flags = {
    ...appFlags,
    to: flags.string({description: 'the time to put the files back to (ISO 8601, or "YYYY-MM-DD HH:MM+00")', exclusive: TIME_FLAGS.filter(f => f !== 'to')}),
    by: flags.string({description: 'go back this long (90m, 3h, 2d)', exclusive: TIME_FLAGS.filter(f => f !== 'by')}),
    'before-release': flags.string({description: 'go back to one minute before this release (v51) was created', exclusive: TIME_FLAGS.filter(f => f !== 'before-release')}),
    prefix: flags.string({description: 'only files whose key starts with this (inside the add-on\'s own prefix)'}),
    'include-overwritten': flags.boolean({description: 'also copy back the older version of files overwritten since'}),
    'keys-from-db': flags.string({description: 'one read-only query on DATABASE returning the keys the app references: only those, when missing, are recovered'}),
    bucket: flags.string({description: 'the bucket, with plain AWS_* credentials and no bucket config var'}),
    endpoint: flags.string({description: 'an S3-compatible endpoint (default: the app\'s AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)'}),
    undo: flags.string({description: 'undo an earlier files:recover run (its id, as recovery:log lists it)', exclusive: TIME_FLAGS.filter(f => f !== 'undo')}),
    ...guardFlags,
    ...notifyFlag,
    ...waitTimeoutFlag('2m'),
  }

  async run() {
    const {flags} = await this.parse(FilesRecover)
    assertAppName(flags.app)
    if (flags.undo) return this.undo(flags.app, flags.undo, flags.confirm, flags['dry-run'])
    const request = targetRequest(flags)
    if (!request || request.kind !== 'time') throw new Refused('Say when to go back to: --to TIME, --by DURATION or --before-release vN.')
    assertTargetFlags(flags)
    const waitTimeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    if (flags['keys-from-db']) await assertReadOnlyQuery(flags['keys-from-db'], '--keys-from-db')
    const [{openAppBucket}, {gatherRecover, planRecover}, {recoverView}] = await Promise.all([
      import('../../lib/files/gather.js'), import('../../lib/files/recover.js'), import('../../lib/files/render.js'),
    ])
    this.noticeUnfinished(flags.app)
    const input = {app: flags.app, request, prefix: flags.prefix, includeOverwritten: flags['include-overwritten'], keysFromDb: flags['keys-from-db'], bucket: flags.bucket, endpoint: flags.endpoint, waitTimeout: flags['wait-timeout']}
    const bucket = await openAppBucket(this.api, flags.app, {bucket: flags.bucket, endpoint: flags.endpoint}, waitTimeoutMs)
    try {
      const plan = planRecover(await gatherRecover(this.api, bucket, input), input)
      return await this.guarded(plan, recoverView, flags, new Map([['bucket', bucket]]))
    } finally {
      bucket.destroy()
    }
  }

  // Undoes an earlier run from its run log: each batch's put-back, newest first, each read back.
  private async undo(app: string, id: string, confirm: string | undefined, dryRun: boolean) {
    const [{findRun, lockRun, RunLog}, {standing}, {undoSteps}, {trustedActions}, {stepList}] = await Promise.all([
      import('../../lib/runner/log.js'), import('../../lib/runner/ledger.js'), import('../../lib/runner/history.js'), import('../../lib/runner/trust.js'), import('../../lib/render/index.js'),
    ])
    const record = findRun(this.config.dataDir, id)
    if (!record || record.app !== app || record.command !== 'files:recover') throw new Refused(`No files:recover run ${id} on ${app} on this machine: \`heroku recovery:log --app ${app}\` lists them.`)
    if (record.status === 'running') throw new Refused(`Run ${id} is still running (process ${record.pid}): let it finish first.`)
    // A batch the process died in counts: its undo, logged before it ran, reads back what it made.
    const due = standing(record.steps).filter(s => s.undo?.action?.kind === 'files-revert')
    if (due.length === 0) {
      this.log(`Nothing to undo: run ${id} left no change in place.`)
      return {run: id, undone: [], dryRun}
    }
    const {actions} = await import('../../lib/registry.js')
    await trustedActions(actions, this.api, record, due)
    const steps = undoSteps(actions, due, RunLog.attach(record.file))
    this.log(['Steps:', ...stepList(steps)].join('\n'))
    if (dryRun) {
      this.log('\nDry run: nothing was changed.')
      return {run: id, steps: steps.map(s => s.title), dryRun}
    }
    const unlock = lockRun(record)
    try {
      await confirmApp(app, confirm, `This puts the files run ${id} recovered back as they were before it.`)
      const outcome = await this.execute(steps, {app, what: `undo files:recover run ${id}`, timeoutMs: 60 * 60_000, report: run => ({run: id, undoneBy: runJson(run)})})
      this.log(`\nRun ${id} is undone: the files it recovered are as they were before it.`)
      return {run: id, undoneBy: runJson(outcome)}
    } finally {
      unlock()
    }
  }
}
