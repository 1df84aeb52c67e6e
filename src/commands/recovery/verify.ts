import {GuardedCommand} from '../../lib/command.js'
import {appFlags, healthFlags} from '../../lib/flags.js'
import {healthSettings} from '../../lib/health/rules.js'
import {assertAppName} from '../../lib/names.js'

export default class RecoveryVerify extends GuardedCommand {
  static override description = `watch an app's requests for a while and say whether it is healthy
Reads Heroku's own router and dyno lines from a log session (never the app's), the dynos' states and, with
--health-url, the app's answers, over --health-window: healthy when enough requests were seen and few
failed; unhealthy when too many failed, a dyno crashed or the URL keeps failing; inconclusive with too
little traffic. Changes nothing. Exit status 1 when unhealthy, 130 when stopped with Ctrl-C.`

  static override examples = [
    '<%= config.bin %> recovery:verify --app my-app',
    '<%= config.bin %> recovery:verify --app my-app --health-window 5m --min-requests 100 --max-error-rate 1',
    '<%= config.bin %> recovery:verify --app my-app --health-url https://my-app.example.com/health --json',
  ]

  static override flags = {
    ...appFlags,
    ...healthFlags,
  }

  async run() {
    const {flags} = await this.parse(RecoveryVerify)
    assertAppName(flags.app)
    const settings = healthSettings(flags)
    const [{gatherVerify, planVerify}, {verifyView}] = await Promise.all([import('../../lib/health/verify.js'), import('../../lib/health/render.js')])
    this.noticeUnfinished(flags.app)
    const plan = planVerify(await gatherVerify(this.api, flags.app), settings)
    return this.guarded(plan, verifyView, {})
  }
}
