import {flags} from '@heroku-cli/command'
import {GuardedCommand} from '../../lib/command.js'
import {describeRecord, recordJson} from '../../lib/runner/history.js'
import {listRuns} from '../../lib/runner/log.js'

export default class RecoveryLog extends GuardedCommand {
  static override description = `list what this plugin's commands did on this machine, newest first
Every run of safe-rollback, db:recover and migrate:down is recorded step by step under the CLI's data
directory, as it happens, so that a run cut short (Ctrl-C twice, a dropped SSH session, a killed
process) can be seen and finished with recovery:resume.`

  static override examples = [
    '<%= config.bin %> recovery:log --app my-app',
    '<%= config.bin %> recovery:log --json',
  ]

  static override flags = {
    app: flags.string({char: 'a', description: 'only the runs on this app'}),
    limit: flags.integer({description: 'how many runs to show', default: 20, min: 1}),
  }

  override async run() {
    const {flags} = await this.parse(RecoveryLog)
    const runs = listRuns(this.config.dataDir, flags.app).slice(0, flags.limit)
    if (runs.length === 0) this.log(`No runs recorded${flags.app ? ` on ${flags.app}` : ''} on this machine.`)
    for (const run of runs) this.log(describeRecord(run) + '\n')
    return runs.map(recordJson)
  }
}
