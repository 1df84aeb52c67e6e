import {GuardedCommand} from '../../lib/command.js'
import {describeRecord, recordJson, unreadableWarning} from '../../lib/runner/history.js'
import {Refused} from '../../lib/errors.js'
import {actions} from '../../lib/registry.js'
import {findRun, listRuns} from '../../lib/runner/log.js'
import {Args, flags} from '../../lib/heroku.js'

export default class RecoveryLog extends GuardedCommand {
  static override description = `list what this plugin's commands did on this machine, newest first
Every run of safe-rollback, db:recover and migrate:down is recorded step by step under the CLI's data
directory, as it happens, so that a run cut short (Ctrl-C twice, a dropped SSH session, a killed
process) can be seen and finished with recovery:resume.`

  static override examples = [
    '<%= config.bin %> recovery:log --app my-app',
    '<%= config.bin %> recovery:log 261125-221530-ab12',
    '<%= config.bin %> recovery:log --json',
  ]

  static override args = {
    run: Args.string({description: 'one run to show, as the list or a command\'s final message names it'}),
  }

  static override flags = {
    app: flags.string({char: 'a', description: 'only the runs on this app'}),
    limit: flags.integer({description: 'how many runs to show', default: 20, min: 1}),
  }

  override async run() {
    const {args, flags} = await this.parse(RecoveryLog)
    if (args.run) {
      const record = findRun(this.config.dataDir, args.run)
      if (!record) throw new Refused(`No run ${args.run} on this machine: \`heroku recovery:log\` lists them.`)
      const unreadable = unreadableWarning(record)
      if (unreadable) this.warn(unreadable)
      this.log(describeRecord(actions, record))
      return recordJson(actions, record)
    }
    const runs = listRuns(this.config.dataDir, flags.app).slice(0, flags.limit)
    if (runs.length === 0) this.log(`No runs recorded${flags.app ? ` on ${flags.app}` : ''} on this machine.`)
    for (const run of runs) {
      const unreadable = unreadableWarning(run)
      if (unreadable) this.warn(unreadable)
      this.log(describeRecord(actions, run) + '\n')
    }
    return runs.map(run => recordJson(actions, run))
  }
}
