import {flags} from '../../lib/heroku.js'
import {GuardedCommand} from '../../lib/command.js'
import {durationFlag, parseDuration} from '../../lib/duration.js'
import {Refused} from '../../lib/errors.js'
import type {Bucket} from '../../lib/files/s3.js'
import {assertAppName} from '../../lib/names.js'
import {confirmApp} from '../../lib/prompts.js'
import {runJson} from '../../lib/runner/report.js'
import type {RunOutcome} from '../../lib/runner/runner.js'

export default class FilesProtect extends GuardedCommand {
  static override description = `say how far back an app's uploaded files (S3) can be recovered, and make sure they can be
Reports whether the bucket keeps versions and how long lifecycle rules keep the old ones. With --apply
(after confirmation) turns versioning on and adds a rule that expires noncurrent versions after
--keep-versions, leaving every other rule as it is.`

  static override examples = [
    '<%= config.bin %> files:protect --app my-app',
    '<%= config.bin %> files:protect --app my-app --keep-versions 30d --apply --confirm my-app',
  ]

  static override flags = {
    app: flags.app({required: true}),
    remote: flags.remote(),
    'keep-versions': flags.string({description: 'how long to keep old versions of files (whole days, 1d-3650d)', default: '30d'}),
    apply: flags.boolean({description: 'turn versioning on and add the lifecycle rule'}),
    bucket: flags.string({description: 'the bucket, with plain AWS_* credentials and no bucket config var'}),
    endpoint: flags.string({description: 'an S3-compatible endpoint (default: the app\'s AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)'}),
    confirm: flags.string({description: 'the app name, to run --apply without the confirmation prompt'}),
    'dry-run': flags.boolean({description: 'with --apply, show what would change without changing it'}),
    'wait-timeout': flags.string({description: 'how long to wait for S3 to answer one request, its retries included (a write with no answer is read back, never sent again blindly)', default: '2m'}),
  }

  async run() {
    const {flags} = await this.parse(FilesProtect)
    assertAppName(flags.app)
    const days = keepDays(flags['keep-versions'])
    const waitTimeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    const {openAppBucket} = await import('../../lib/files/gather.js')
    this.noticeUnfinished(flags.app)
    const bucket = await openAppBucket(this.api, flags.app, {bucket: flags.bucket, endpoint: flags.endpoint}, waitTimeoutMs)
    try {
      return await this.protect(bucket, days, flags)
    } finally {
      bucket.destroy()
    }
  }

  private async protect(bucket: Bucket, days: number, flags: {app: string, apply: boolean, confirm?: string, 'dry-run': boolean}) {
    const [{gatherFiles}, {describeProtection}, {protectSteps}, {stepList}] = await Promise.all([
      import('../../lib/files/gather.js'), import('../../lib/files/render.js'), import('../../lib/files/protect.js'), import('../../lib/render/index.js'),
    ])
    const {app} = flags
    const facts = await gatherFiles(this.api, app, bucket)
    const steps = protectSteps(bucket, facts, days)
    const report = (outcome?: RunOutcome) => ({
      app, bucket: {...bucket.ref, keyVars: undefined}, versioning: facts.protection.versioning, keptDays: facts.protection.keptDays ?? null,
      rules: facts.rules.map(r => r.ID ?? null), steps: steps.map(s => s.title), applied: outcome?.status === 'succeeded', run: outcome && runJson(outcome),
    })
    this.log(describeProtection(app, bucket.ref, facts.protection, facts.rules))
    if (steps.length === 0) {
      this.log(`\nProtected: versioning is on and old versions are kept${facts.protection.keptDays === undefined ? '' : ` ${facts.protection.keptDays} days`}. Nothing to change.`)
      return report()
    }
    this.log(['', flags.apply ? 'Steps:' : 'With --apply:', ...stepList(steps)].join('\n'))
    if (!flags.apply || flags['dry-run']) {
      this.log(`\n${flags.apply ? 'Dry run: nothing was changed.' : `Nothing was changed. To protect the files: heroku files:protect --app ${app} --keep-versions ${days}d --apply`}`)
      return report()
    }
    await confirmApp(app, flags.confirm, `This changes the settings of bucket ${bucket.ref.bucket} (versioning, lifecycle rules).`)
    const outcome = await this.execute(steps, {app, what: `protect files in ${bucket.ref.bucket}`, timeoutMs: 10 * 60_000, report})
    this.log(`\nProtected: versioning is on and old versions are kept ${days} days. Files deleted or overwritten from now on can be recovered with \`heroku files:recover --app ${app}\`.`)
    return report(outcome)
  }
}

function keepDays(text: string): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (error) {
    throw new Refused(`--keep-versions: ${(error as Error).message}`)
  }
  const days = ms / 86_400_000
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Refused(`--keep-versions ${text} must be whole days between 1d and 3650d (S3 counts noncurrent versions in days).`)
  return days
}
