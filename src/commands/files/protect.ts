import {GuardedCommand} from '../../lib/command.js'
import {durationFlag} from '../../lib/duration.js'
import {appFlags, guardFlags, notifyFlag, waitTimeoutFlag} from '../../lib/flags.js'
import {flags} from '../../lib/heroku.js'
import {assertAppName} from '../../lib/names.js'

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
    ...appFlags,
    'keep-versions': flags.string({description: 'how long to keep old versions of files (whole days, 1d-3650d)', default: '30d'}),
    apply: flags.boolean({description: 'turn versioning on and add the lifecycle rule'}),
    bucket: flags.string({description: 'the bucket, with plain AWS_* credentials and no bucket config var'}),
    endpoint: flags.string({description: 'an S3-compatible endpoint (default: the app\'s AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)'}),
    ...guardFlags,
    ...notifyFlag,
    ...waitTimeoutFlag('2m'),
  }

  async run() {
    const {flags} = await this.parse(FilesProtect)
    assertAppName(flags.app)
    const [{gatherFiles, openAppBucket}, {keepDays, planProtect}, {protectView}] = await Promise.all([
      import('../../lib/files/gather.js'), import('../../lib/files/protect.js'), import('../../lib/files/render.js'),
    ])
    const days = keepDays(flags['keep-versions'])
    const waitTimeoutMs = durationFlag(flags['wait-timeout'], '--wait-timeout')
    this.noticeUnfinished(flags.app)
    const bucket = await openAppBucket(this.api, flags.app, {bucket: flags.bucket, endpoint: flags.endpoint}, waitTimeoutMs)
    try {
      const plan = planProtect(await gatherFiles(this.api, flags.app, bucket), {app: flags.app, days, apply: flags.apply, bucket: flags.bucket, endpoint: flags.endpoint})
      return await this.guarded(plan, protectView, {confirm: flags.confirm, 'dry-run': !flags.apply || flags['dry-run']}, new Map([['bucket', bucket]]))
    } finally {
      bucket.destroy()
    }
  }
}
